"""Security verdicts from the probes the run logged (observe/security_probe.py). Pure."""

from __future__ import annotations

from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict


def security_verdicts(history: History) -> list[Verdict]:
    probes = [r for r in history.of("security") if r.get("check") == "unauthenticated"]
    if not probes:
        return []
    accepted = [r for r in probes if not r["refused"]]
    if accepted:
        evidence = "; ".join(f"{r['node']} answered {r['answer']}" for r in accepted)
    else:
        nodes = ", ".join(r["node"] for r in probes)
        evidence = f"{nodes} refused a client without credentials ({probes[0]['answer']})"
    name = "security: client without credentials refused"
    return [Verdict(name, "scenario", "security", not accepted, float(len(accepted)), 0.0, "nodes", evidence)]
