"""Faults: a pure timeline that says what is due, and the actions that apply it through a backend."""
