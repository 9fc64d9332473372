"""The command line: one module per verb; the only place that turns outcomes into exit codes."""
