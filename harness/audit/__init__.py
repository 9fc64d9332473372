"""drill audit: the readiness and debug checklists against a live Redis, reading only."""
