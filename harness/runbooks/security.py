"""Security verdicts from the probes the run logged (observe/security_probe.py). Pure."""

from __future__ import annotations

from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict

CHECKS = {
    "unauthenticated": "client without credentials refused",
    "plaintext": "client without TLS refused",
    "least-privilege": "load user refused an operator's command",
    "plaintext-bus": "cluster bus without TLS refused",
}


def security_verdicts(history: History) -> list[Verdict]:
    verdicts = []
    for check, title in CHECKS.items():
        probes = [r for r in history.security if r.get("check") == check]
        if not probes:
            continue
        accepted = [r for r in probes if not r["refused"]]
        if accepted:
            evidence = "; ".join(f"{r['node']} answered {r['answer']}" for r in accepted)
        else:
            nodes = ", ".join(r["node"] for r in probes)
            evidence = f"{nodes} refused it ({probes[0]['answer']})"
        verdicts.append(
            Verdict(
                f"security: {title}",
                "scenario",
                "security",
                not accepted,
                float(len(accepted)),
                0.0,
                "nodes",
                evidence,
            )
        )
    return verdicts
