"""Observers and the observation log they write to."""
