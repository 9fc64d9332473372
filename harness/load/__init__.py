"""Load: Locust users driven in process, classified errors, per-interval aggregates."""
