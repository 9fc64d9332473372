"""Named checks over the history. Each is pure: (step, history, incident, judge) -> Verdict."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.load.stats import histogram_percentile, merge_intervals
from harness.observe.log import Record
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.durations import format_seconds
from harness.scenario.model import Step

Check = Callable[[Step, History, Record, "Judge"], Verdict]
LATENCY_WINDOW_S = 2.0  # latency_below judges the p99 of this trailing window, not of one stats interval
ONE_INTERVAL_S = 0.25  # a window that holds one stats interval (they come every 0.5 s)


def step_name(section: str, step: Step) -> str:
    word = step.event or step.reply or (f"{step.alert} {step.state}" if step.alert else "")
    if step.check in ("ops_above", "ops_back"):
        word = f"+{step.above:.0%}"  # a runbook may check both the warning and the critical level
    detail = f" {word}" if word else ""
    node = f" ({step.node})" if step.event and step.node == "incident" else ""
    return f"{section}: {step.check}{detail}{node}"


@dataclass(frozen=True, slots=True)
class Judge:
    """Turns "the condition was first met at `at`" into a verdict against the step's bound."""

    step: Step
    settings: dict[str, float]
    source: str  # the runbook's name
    section: str
    incident_t: float

    def __call__(self, at: float | None, evidence: str) -> Verdict:
        bound = self.step.within.resolve(self.settings) if self.step.within else None
        measured = None if at is None else round(at - self.incident_t, 6)
        passed = measured is not None and (bound is None or measured <= bound)
        return Verdict(
            step_name(self.section, self.step),
            self.source,
            self.section,
            passed,
            measured,
            bound,
            "s",
            evidence,
            at,
        )


def run_check(step: Step, history: History, settings: dict[str, float], source: str, section: str) -> Verdict:
    """Judge one runbook step; every time is measured from the incident (the first fault)."""
    incident = history.incident
    if incident is None:
        return Verdict(
            step_name(section, step),
            source,
            section,
            False,
            None,
            None,
            "s",
            "no fault was applied, so there is no incident to measure from",
        )
    return CHECKS[step.check](
        step, history, incident, Judge(step, settings, source, section, float(incident["t"]))
    )


def sentinel_event(step: Step, history: History, incident: Record, judge: Judge) -> Verdict:
    match: dict[str, Any] = {"event": step.event}
    if step.node == "incident":
        match["node"] = incident["node"]
    record = history.first("sentinel", float(incident["t"]), **match)
    if record is None:
        who = f" for {incident['node']}" if step.node == "incident" else ""
        return judge(None, f"no Sentinel reported {step.event}{who} after the incident")
    evidence = f"{record['sentinel']}: {record['event']} {record['data']}"
    return judge(float(record["t"]), evidence)


def _wrote(record: Record) -> bool:
    """An acknowledged tracked operation that wrote: it shows the primary accepts writes."""
    if record["type"] != "ok":
        return False
    kind = record.get("f")
    if kind == "transfer":
        return record.get("result") == "committed"
    if kind == "cas":
        return record.get("applied") == 1
    return kind in ("write", "incr")


def writable(step: Step, history: History, incident: Record, judge: Judge) -> Verdict:
    """The first write acknowledged after the incident, and after the primary switch if there was one."""
    since = float(incident["t"])
    switch = history.first("sentinel", since, event="+switch-master")
    if switch is not None:
        since = float(switch["t"])
    for record in history.of("op"):
        if _wrote(record) and record["t0"] >= since:
            what = record.get("key") or f"{record['from']} -> {record['to']}"
            evidence = f"{record['f']} {what} acknowledged at {record['t']:.3f}s"
            if switch is not None:
                evidence += f" (after +switch-master to {switch.get('new')})"
            return judge(float(record["t"]), evidence)
    return judge(None, "no write was acknowledged after the incident")


def replicas_attached(step: Step, history: History, incident: Record, judge: Judge) -> Verdict:
    """All live replicas online under one primary, caught up within lag_below, up to the end of the log."""
    rounds = [r for r in history.of("info") if r["t"] >= incident["t"]]
    reasons = [_round_problem(i, rounds, step.lag_below, step.replicas == "all") for i in range(len(rounds))]
    if not rounds or reasons[-1] is not None:
        last = reasons[-1] if rounds else "no INFO samples after the incident"
        return judge(None, f"not attached at the end: {last}")
    start = len(rounds) - 1
    while start > 0 and reasons[start - 1] is None:
        start -= 1
    nodes = rounds[-1]["nodes"]
    primary = next(name for name, n in nodes.items() if n.get("role") == "master")
    attached = sorted(r["node"] for r in nodes[primary].get("replicas", []))
    evidence = (
        f"{primary} primary with {len(attached)} replica(s) online ({', '.join(attached) or 'none'}), "
        f"caught up within {format_seconds(step.lag_below)} from {rounds[start]['t']:.2f}s to the end"
    )
    return judge(float(rounds[start]["t"]), evidence)


def _round_problem(index: int, rounds: list[Record], lag_below: float, every_node: bool) -> str | None:
    """Why round `index` does not show a healthy replication, or None when it does.

    every_node: a node that does not answer counts against the round (else only live nodes are judged).
    """
    nodes: dict[str, dict[str, Any]] = rounds[index]["nodes"]
    live = {name: n for name, n in nodes.items() if "error" not in n}
    if every_node and len(live) < len(nodes):
        return f"{', '.join(sorted(set(nodes) - set(live)))} not answering"
    primaries = [name for name, n in live.items() if n.get("role") == "master"]
    if len(primaries) != 1:
        return f"{len(primaries)} nodes report the primary role ({', '.join(primaries) or 'none'})"
    primary = primaries[0]
    online = {r["node"] for r in live[primary].get("replicas", []) if r.get("state") == "online"}
    for name, node in live.items():
        if name == primary:
            continue
        if node.get("primary") != primary or node.get("link") != "up" or name not in online:
            return f"{name} not attached to {primary} (link {node.get('link')}, sees {node.get('primary')})"
        lag = _replication_lag(index, rounds, name)
        if lag >= lag_below:
            return f"{name} lagged {format_seconds(lag)} behind the primary"
    return None


def _replication_lag(index: int, rounds: list[Record], replica: str) -> float:
    """How old the replica's data is at round `index`: the time since the primary last had only what the
    replica has now (0 when it has everything). Resolution: one sampling interval."""
    have = rounds[index]["nodes"][replica].get("offset", 0)
    now = float(rounds[index]["t"])
    for earlier in reversed(rounds[: index + 1]):
        offsets = [n.get("offset", 0) for n in earlier["nodes"].values() if n.get("role") == "master"]
        if len(offsets) == 1 and offsets[0] <= have:
            return now - float(earlier["t"])
    return now - float(rounds[0]["t"])  # behind every sample we have: at least this old


def replication_lag(step: Step, history: History, incident: Record, judge: Judge) -> Verdict:
    """A replica's lag (from sampled offsets) rises above a threshold: the lag warning is detected."""
    watched = incident.get("replica") or incident.get("node") if step.node == "incident" else None
    rounds = [r for r in history.of("info") if r["t"] >= incident["t"]]
    for index, round_ in enumerate(rounds):
        for name, node in round_["nodes"].items():
            if node.get("role") != "slave" or "error" in node or (watched and name != watched):
                continue
            lag = _replication_lag(index, rounds, name)
            if lag > step.above:
                threshold = format_seconds(step.above)
                evidence = f"{name} {format_seconds(lag)} behind the primary (threshold {threshold})"
                return judge(float(round_["t"]), evidence)
    who = watched or "any replica"
    return judge(None, f"{who} never lagged more than {format_seconds(step.above)} after the incident")


def error_rate_back_to_baseline(step: Step, history: History, incident: Record, judge: Judge) -> Verdict:
    """The load's error ratio returns to its pre-incident level (plus tolerance) and stays there."""
    t_incident = float(incident["t"])
    stats = history.of("stats")
    before = [s for s in stats if s["t"] < t_incident]
    after = [s for s in stats if s["t"] >= t_incident]
    baseline = _error_ratio(before)
    allowed = baseline + step.tolerance
    bad = [s for s in after if _error_ratio([s]) > allowed]
    recovered_at = float(bad[-1]["t"]) if bad else t_incident
    clean_after = [s for s in after if s["t"] > recovered_at and s["ok"] > 0]
    if not clean_after:
        return judge(None, f"errors above baseline {baseline:.2%} until the load ended")
    errors = sum(s["fail"] + s["info"] for s in after)
    evidence = (
        f"baseline error ratio {baseline:.2%}; {errors} failed or uncertain operations after the incident, "
        f"none above baseline after {recovered_at:.2f}s"
    )
    return judge(recovered_at, evidence)


def _error_ratio(stats: list[Record]) -> float:
    errors = sum(s["fail"] + s["info"] for s in stats)
    total = errors + sum(s["ok"] for s in stats)
    return errors / total if total else 0.0


def _reply_times(history: History, reply: str, since: float) -> list[tuple[float, bool]]:
    """(time, seen) points for one error reply after `since`: each load interval (seen if any of its calls
    got the reply, retried or not) and each change of the responder's probe answer."""
    points = [
        (float(s["t"]), reply in s.get("errors", {}) or reply in s.get("retried_errors", {}))
        for s in history.of("stats")
        if s["t"] >= since
    ]
    points += [(float(p["t"]), p["reply"] == reply) for p in history.of("probe_reply") if p["t"] >= since]
    return sorted(points)


def error_reply(step: Step, history: History, incident: Record, judge: Judge) -> Verdict:
    """Clients (the load or the responder's probe) get the error reply: the failure is visible to them."""
    for t, seen in _reply_times(history, step.reply, float(incident["t"])):
        if seen:
            return judge(t, f"first {step.reply} reply at {t:.3f}s")
    return judge(None, f"no client got a {step.reply} reply after the incident")


def reply_gone(step: Step, history: History, incident: Record, judge: Judge) -> Verdict:
    """The error reply stops: after the last time anyone got it, writes succeed to the end of the drill."""
    points = _reply_times(history, step.reply, float(incident["t"]))
    seen = [t for t, hit in points if hit]
    if not seen:
        return judge(None, f"no {step.reply} reply after the incident, so nothing to recover from")
    last = seen[-1]
    probes_after = [p for p in history.of("probe_reply") if p["t"] > last]
    ok_after = [s for s in history.of("stats") if s["t"] > last and s["ok"] > 0]
    if not ok_after and not any(p["reply"] == "ok" for p in probes_after):
        return judge(None, f"{step.reply} replies until the end of the drill (last at {last:.3f}s)")
    gone = min([float(p["t"]) for p in probes_after if p["reply"] == "ok"] or [last])
    return judge(gone, f"last {step.reply} reply at {last:.3f}s; writes succeed from {gone:.3f}s to the end")


def memory_above(step: Step, history: History, incident: Record, judge: Judge) -> Verdict:
    """used_memory / maxmemory crosses a ratio on any data node (SEED-FACTS: warning 0.75, critical 0.9)."""
    for round_ in (r for r in history.of("info") if r["t"] >= incident["t"]):
        for name, node in round_["nodes"].items():
            used, limit = node.get("used_memory"), node.get("maxmemory")
            if used and limit and used / limit > step.above:
                evidence = (
                    f"{name} used_memory {used} of maxmemory {limit} ({used / limit:.0%} > {step.above:.0%})"
                )
                return judge(float(round_["t"]), evidence)
    return judge(None, f"no node's memory crossed {step.above:.0%} of maxmemory after the incident")


def evictions(step: Step, history: History, incident: Record, judge: Judge) -> Verdict:
    """evicted_keys grows on some node after the incident: the eviction policy is making room. Counted from
    the last sample before the incident (the first evictions may come before the next sample)."""
    samples = history.of("info")
    before = [r for r in samples if r["t"] < incident["t"]][-1:]
    start: dict[str, int] = {
        name: int(node["evicted_keys"])
        for r in before
        for name, node in r["nodes"].items()
        if node.get("evicted_keys") is not None
    }
    for round_ in (r for r in samples if r["t"] >= incident["t"]):
        for name, node in round_["nodes"].items():
            count = node.get("evicted_keys")
            if count is None:
                continue
            start.setdefault(name, int(count))
            if count > start[name]:
                evidence = f"{name} evicted_keys {start[name]} -> {count}"
                return judge(float(round_["t"]), evidence)
    return judge(None, "no node evicted a key after the incident")


def alert(step: Step, history: History, incident: Record, judge: Judge) -> Verdict:
    """A Prometheus alert reaches a state for the node (the incident's, the initial primary, or any):
    pending, firing, or resolved (gone after it fired)."""
    node: str | None = None
    if step.node == "incident":
        node = str(incident.get("node"))
    elif step.node == "primary":
        topology = history.first("topology", 0.0)
        node = str(topology["primary"]) if topology else None
    changes = [
        r
        for r in history.of("alert")
        if r["t"] >= incident["t"] and r["name"] == step.alert and (node is None or r["node"] == node)
    ]
    who = f" for {node}" if node else ""
    if step.state == "resolved":
        fired = next((r for r in changes if r["state"] == "firing"), None)
        if fired is None:
            return judge(None, f"{step.alert}{who} never fired, so it cannot resolve")
        changes = [r for r in changes if r["t"] > fired["t"]]
    record = next((r for r in changes if r["state"] == step.state), None)
    if record is None:
        return judge(None, f"{step.alert}{who} was never {step.state} after the incident")
    return judge(float(record["t"]), f"Prometheus: {step.alert}{who} {step.state} at {record['t']:.3f}s")


def _slowest(history: History, since: float, window_s: float) -> list[tuple[float, int]]:
    """(time, p99 µs of the slowest workload over the trailing `window_s`) at each load interval after
    `since`; a window under the interval (0.5 s) holds just that interval."""
    stats = [s for s in history.of("stats") if s.get("ok", 0) > 0]
    out = []
    for t in sorted({float(s["t"]) for s in stats if s["t"] >= since}):
        window = [s for s in stats if t - window_s < s["t"] <= t]
        workloads = {str(s.get("workload")) for s in window}
        p99s = [
            histogram_percentile(merge_intervals(s for s in window if s.get("workload") == w)[0], 0.99)
            for w in workloads
        ]
        out.append((t, max(p99s)))
    return out


def latency_above(step: Step, history: History, incident: Record, judge: Judge) -> Verdict:
    """The load's p99 latency crosses a bound (P2 High latency): `above` in seconds. Judged per 0.5 s
    interval: a short burst of slow calls is an incident to detect (and a runbook may end it at once)."""
    for t, p99 in _slowest(history, float(incident["t"]), ONE_INTERVAL_S):
        if p99 > step.above * 1e6:
            over = f"load p99 {p99 / 1000:.1f} ms > {step.above * 1000:g} ms"
            return judge(t, f"{over} in the interval ending {t:.2f}s")
    return judge(None, f"the load's p99 never exceeded {step.above * 1000:g} ms after the incident")


def latency_below(step: Step, history: History, incident: Record, judge: Judge) -> Verdict:
    """The load's p99 is back under the bound and stays there to the end (`above` is the bound). Judged
    over trailing 2 s windows: one 0.5 s interval's p99 is its ~5th slowest call, so a single hiccup of
    the busy host would otherwise decide whether the system recovered."""
    points = [
        (t, p99 > step.above * 1e6) for t, p99 in _slowest(history, float(incident["t"]), LATENCY_WINDOW_S)
    ]
    since = _clear_from(points, float(incident["t"]))
    if since is None:
        return judge(None, f"p99 above {step.above * 1000:g} ms until the load ended")
    window = f"p99 (over {LATENCY_WINDOW_S:g} s windows)"
    return judge(since, f"{window} under {step.above * 1000:g} ms from {since:.2f}s to the end")


def _clear_from(points: list[tuple[float, bool]], incident_t: float) -> float | None:
    """Given (time, over the bound) samples in time order: the first sample after the last one over it,
    from which every sample is under it to the end (the incident if none was ever over); None when a
    sample at the last time is still over, or there are none. Several samples may share a time (nodes)."""
    over = [t for t, bad in points if bad]
    if not points or (over and over[-1] >= points[-1][0]):
        return None
    return next(t for t, _ in points if t > over[-1]) if over else incident_t


def _client_ratios(history: History, since: float) -> list[tuple[float, str, float]]:
    out = []
    for round_ in history.of("info"):
        if round_["t"] < since:
            continue
        for name, node in round_["nodes"].items():
            used, limit = node.get("connected_clients"), node.get("maxclients")
            if used is not None and limit:
                out.append((float(round_["t"]), name, used / limit))
    return out


def clients_above(step: Step, history: History, incident: Record, judge: Judge) -> Verdict:
    """connected_clients / maxclients crosses a ratio (SEED-FACTS: warning 0.8, critical 0.95)."""
    for t, name, ratio in _client_ratios(history, float(incident["t"])):
        if ratio > step.above:
            return judge(t, f"{name} at {ratio:.0%} of maxclients (> {step.above:.0%})")
    return judge(None, f"no node's clients crossed {step.above:.0%} of maxclients after the incident")


def clients_below(step: Step, history: History, incident: Record, judge: Judge) -> Verdict:
    """Every node's connected_clients / maxclients is back under the ratio and stays there."""
    points = [(t, ratio > step.above) for t, _, ratio in _client_ratios(history, float(incident["t"]))]
    since = _clear_from(points, float(incident["t"]))
    if since is None:
        return judge(None, f"clients above {step.above:.0%} of maxclients until the end")
    return judge(since, f"every node under {step.above:.0%} of maxclients from {since:.2f}s to the end")


def hit_rate_below(step: Step, history: History, incident: Record, judge: Judge) -> Verdict:
    """The primary's hit rate, hits / (hits + misses) over each second after the incident, falls under
    `above` (SEED-FACTS: healthy above 0.95, warning 0.90-0.95, critical under 0.90)."""
    rounds = [r for r in history.of("info") if r["t"] >= incident["t"]]
    window = 4  # INFO rounds: one second at the sampler's 250 ms
    for later_index in range(window, len(rounds)):
        earlier, later = rounds[later_index - window], rounds[later_index]
        for name, node in later["nodes"].items():
            before = earlier["nodes"].get(name, {})
            if node.get("role") != "master" or "keyspace_hits" not in node or "keyspace_hits" not in before:
                continue
            hits = node["keyspace_hits"] - before["keyspace_hits"]
            misses = node["keyspace_misses"] - before["keyspace_misses"]
            if hits + misses > 0 and hits / (hits + misses) < step.above:
                rate = hits / (hits + misses)
                evidence = (
                    f"{name} hit rate {rate:.1%} over the second to {later['t']:.2f}s (< {step.above:.0%})"
                )
                return judge(float(later["t"]), evidence)
    return judge(None, f"the primary's hit rate stayed at or above {step.above:.0%} after the incident")


def _primary_ops(history: History) -> list[tuple[float, float]]:
    """(time, commands/s of the primary over the second before it), from INFO total_commands_processed."""
    rounds = history.of("info")
    window = 4  # INFO rounds: one second at the sampler's 250 ms
    out = []
    for later_index in range(window, len(rounds)):
        earlier, later = rounds[later_index - window], rounds[later_index]
        for name, node in later["nodes"].items():
            before = earlier["nodes"].get(name, {})
            if (
                node.get("role") == "master"
                and "total_commands_processed" in node
                and before.get("role") == "master"
            ):
                done = node["total_commands_processed"] - before.get("total_commands_processed", 0)
                out.append((float(later["t"]), done / (float(later["t"]) - float(earlier["t"]))))
    return out


def _ops_baseline(history: History, incident: Record) -> float | None:
    """The primary's median commands/s while the load ran before the incident."""
    window = history.load_window()
    start = window[0] if window else 0.0
    before = sorted(rate for t, rate in _primary_ops(history) if start + 1.0 <= t < float(incident["t"]))
    return before[len(before) // 2] if before else None


def ops_above(step: Step, history: History, incident: Record, judge: Judge) -> Verdict:
    """The primary's ops/s rises above its baseline by `above` (SEED-FACTS: +50 % warning, +100 %
    critical); the baseline is its median over the load before the incident."""
    baseline = _ops_baseline(history, incident)
    if not baseline:
        return judge(None, "no ops/s baseline: the load ran less than a second before the incident")
    for t, rate in _primary_ops(history):
        if t >= float(incident["t"]) and rate > baseline * (1 + step.above):
            return judge(
                t, f"primary at {rate:,.0f} ops/s, {rate / baseline - 1:+.0%} on its baseline {baseline:,.0f}"
            )
    return judge(None, f"the primary stayed within +{step.above:.0%} of its baseline {baseline:,.0f} ops/s")


def ops_back(step: Step, history: History, incident: Record, judge: Judge) -> Verdict:
    """The primary's ops/s is back within `above` of its baseline and stays there to the end."""
    baseline = _ops_baseline(history, incident)
    if not baseline:
        return judge(None, "no ops/s baseline: the load ran less than a second before the incident")
    window = history.load_window()
    end = window[1] if window else float("inf")
    points = [
        (t, rate > baseline * (1 + step.above))
        for t, rate in _primary_ops(history)
        if float(incident["t"]) <= t <= end
    ]
    since = _clear_from(points, float(incident["t"]))
    if since is None:
        return judge(
            None, f"the primary above +{step.above:.0%} of its baseline {baseline:,.0f} ops/s to the end"
        )
    return judge(
        since, f"within +{step.above:.0%} of the baseline {baseline:,.0f} ops/s from {since:.2f}s to the end"
    )


def restore_complete(step: Step, history: History, incident: Record, judge: Judge) -> Verdict:
    """A node restored from the snapshot holds every write acknowledged before the snapshot was taken."""
    # The snapshot-restore fault logs its check before its own fault record, which is the incident.
    record = history.first("restore_check", 0.0)
    if record is None:
        return judge(None, "no restore was checked")
    size, point = record["snapshot_bytes"], record["point"]
    where = f"{record['node']} from {record['source']}'s {size:,}-byte snapshot of {point:.3f}s"
    if record["expected"] == 0:
        return judge(None, f"{where}: no write was acknowledged before the snapshot, so nothing was checked")
    if record["missing"]:
        shown = ", ".join(record["first_missing"])
        return judge(
            None, f"{where}: {record['missing']} of {record['expected']} acknowledged writes missing: {shown}"
        )
    return judge(
        max(float(record["t"]), float(incident["t"])),
        f"{where}: all {record['expected']:,} writes acknowledged before it are there",
    )


CHECKS: dict[str, Check] = {
    "sentinel_event": sentinel_event,
    "writable": writable,
    "replicas_attached": replicas_attached,
    "error_rate_back_to_baseline": error_rate_back_to_baseline,
    "replication_lag": replication_lag,
    "error_reply": error_reply,
    "reply_gone": reply_gone,
    "memory_above": memory_above,
    "evictions": evictions,
    "alert": alert,
    "latency_above": latency_above,
    "latency_below": latency_below,
    "clients_above": clients_above,
    "clients_below": clients_below,
    "hit_rate_below": hit_rate_below,
    "ops_above": ops_above,
    "ops_back": ops_back,
    "restore_complete": restore_complete,
}
