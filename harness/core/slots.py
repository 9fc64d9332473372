"""A Redis Cluster's hash slots: which of the 16384 slots a key belongs to (CRC16 of its hash tag, or of
the whole key), the same arithmetic as the server's keyHashSlot. Pure."""

from __future__ import annotations

from binascii import crc_hqx

SLOTS = 16384


def key_slot(key: str | bytes) -> int:
    """The slot of a key: only the part between the first `{` and the next `}` counts, when not empty."""
    data = key.encode() if isinstance(key, str) else key
    start = data.find(b"{")
    if start != -1:
        end = data.find(b"}", start + 1)
        if end > start + 1:
            data = data[start + 1 : end]
    return crc_hqx(data, 0) % SLOTS


def slot_tags(slots: tuple[int, ...]) -> dict[int, str]:
    """A hash tag for each of `slots` (keys named `...{tag}...` land in that slot): found by trying short
    tags in turn; about ten tries per slot of the whole range."""
    wanted = set(slots)
    found: dict[int, str] = {}
    n = 0
    while wanted:
        tag = f"t{n}"
        slot = crc_hqx(tag.encode(), 0) % SLOTS
        if slot in wanted:
            found[slot] = tag
            wanted.discard(slot)
        n += 1
    return found
