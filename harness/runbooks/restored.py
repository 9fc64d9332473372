"""The verdict on a deployment the run did not start (environment `external.sentinels`): left as it was found
(every node it stopped started again, one primary with every replica linked, every Sentinel naming it) with
none of the run's keys left. From the cleanup record the backend writes at the end. Pure."""

from __future__ import annotations

from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict


def restored_verdicts(history: History) -> list[Verdict]:
    out = []
    for record in history.cleanups:
        restored = "; ".join(record.get("restored", [])) or "nothing to start again"
        differences = record.get("differences", [])
        keys = f"{record['keys_removed']} keys of the run ({record['prefix']}:*) removed"
        if record["healthy"]:
            evidence = f"{restored}; {keys}; as found again {record['seconds']:.1f}s after the run ended"
        else:
            evidence = f"{restored}; {keys}; still different: {'; '.join(differences)}"
        out.append(
            Verdict(
                "external: deployment left as it was found",
                "scenario",
                "expect",
                record["healthy"],
                float(len(differences)),
                0.0,
                "differences",
                evidence,
                quantity=True,
            )
        )
    return out
