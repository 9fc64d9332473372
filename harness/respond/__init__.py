"""Runbook procedures done live during a drill: the responder waits for a procedure's trigger on the
incident's node and carries out its steps (gatherers and remediations); what happened goes into the log,
where harness/runbooks judges it like everything else."""
