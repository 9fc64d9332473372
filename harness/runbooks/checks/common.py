"""Small helpers several checks share; no checks are defined here."""

from __future__ import annotations


def clear_from(points: list[tuple[float, bool]], incident_t: float) -> float | None:
    """Given (time, over the bound) samples in time order: the first sample after the last one over it,
    from which every sample is under it to the end (the incident if none was ever over); None when a
    sample at the last time is still over, or there are none. Several samples may share a time (nodes)."""
    over = [t for t, bad in points if bad]
    if not points or (over and over[-1] >= points[-1][0]):
        return None
    return next(t for t, _ in points if t > over[-1]) if over else incident_t
