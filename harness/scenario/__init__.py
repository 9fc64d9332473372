"""Scenario, environment and runbook files: YAML in, frozen typed models out."""
