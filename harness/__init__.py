"""redis-drill: chaos and load-testing harness for Redis with runbook checks."""

__version__ = "0.1.0"
