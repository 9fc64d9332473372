"""Runbook evaluation: pure functions from (scenario, observation log) to verdicts."""
