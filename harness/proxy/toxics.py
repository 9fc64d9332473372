"""Toxic definitions as Toxiproxy 2.x names them, with their attributes validated and defaulted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.proxy.errors import ApiError

# Attribute names and defaults per toxic type (a default's type is the attribute's). Times are milliseconds
# except slicer.delay (microseconds), bandwidth.rate is KB/s, limit_data.bytes is bytes: as in Toxiproxy.
# The redis_* toxics are ours (harness/proxy/resp_rewrite.py): `commands` is a comma-separated list of
# command names or "*", `key_pattern` a glob one of the command's keys must match ("" for any key).
MATCH: dict[str, int | float | str] = {"commands": "*", "key_pattern": ""}
TOXIC_TYPES: dict[str, dict[str, int | float | str]] = {
    "latency": {"latency": 0, "jitter": 0},
    "bandwidth": {"rate": 0},
    "slow_close": {"delay": 0},
    "timeout": {"timeout": 0},
    "reset_peer": {"timeout": 0},
    "slicer": {"average_size": 0, "size_variation": 0, "delay": 0},
    "limit_data": {"bytes": 0},
    # Toxiproxy's packet_loss (loss_rate, correlation: probabilities), done as TCP shows loss to programs: a
    # lost chunk is delivered after a retransmission timeout (rto, ms; Linux's minimum is 200), doubled for
    # each loss in a row. Toxiproxy's own drops the chunk, which no kernel does and which breaks RESP.
    "packet_loss": {"loss_rate": 0.1, "correlation": 0.0, "rto": 200},
    "redis_error": {**MATCH, "error": "READONLY", "first": 0},
    "redis_delay": {**MATCH, "latency": 0},
    "redis_drop": {**MATCH, "first": 0},
}
STREAMS = ("upstream", "downstream")


@dataclass(frozen=True, slots=True)
class Toxic:
    name: str
    type: str
    stream: str
    toxicity: float
    attributes: dict[str, int | float | str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": dict(self.attributes),
        }

    def attr(self, name: str) -> int:
        value = self.attributes.get(name, TOXIC_TYPES[self.type][name])
        assert isinstance(value, int), name
        return value

    def fraction(self, name: str) -> float:
        value = self.attributes.get(name, TOXIC_TYPES[self.type][name])
        assert isinstance(value, int | float), name
        return float(value)

    def text(self, name: str) -> str:
        return str(self.attributes.get(name, TOXIC_TYPES[self.type][name]))


def parse_toxic(body: Any) -> Toxic:
    """A toxic from a create request; ApiError(400) for anything Toxiproxy would refuse."""
    if not isinstance(body, dict):
        raise ApiError(400, "bad request body")
    stream = body.get("stream") or "downstream"  # checked before the type, as Toxiproxy does
    if stream not in STREAMS:
        raise ApiError(400, "stream was invalid, can be either upstream or downstream")
    kind = body.get("type")
    if kind not in TOXIC_TYPES:
        raise ApiError(400, "invalid toxic type")
    toxicity = body.get("toxicity", 1.0)
    if isinstance(toxicity, bool) or not isinstance(toxicity, int | float) or not 0 <= toxicity <= 1:
        raise ApiError(400, "toxicity must be a number between 0 and 1")
    name = body.get("name") or f"{kind}_{stream}"
    if not isinstance(name, str):
        raise ApiError(400, "bad request body")
    return Toxic(name, kind, stream, float(toxicity), parse_attributes(kind, body.get("attributes") or {}))


def parse_attributes(kind: str, attributes: Any) -> dict[str, int | float | str]:
    if not isinstance(attributes, dict):
        raise ApiError(400, "bad request body")
    known = TOXIC_TYPES[kind]
    out = dict(known)
    for key, value in attributes.items():
        if key not in known:
            continue  # Toxiproxy ignores unknown attributes
        if isinstance(known[key], str):
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                value = ",".join(value)  # commands as a JSON list
            if not isinstance(value, str):
                raise ApiError(400, f"attribute {key} must be a string")
            out[key] = value
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ApiError(400, f"attribute {key} must be a non-negative number")
        if isinstance(known[key], float):
            if value > 1:
                raise ApiError(400, f"attribute {key} must be a probability between 0 and 1")
            out[key] = float(value)
            continue
        out[key] = int(value)
    return out


def updated(toxic: Toxic, body: Any) -> Toxic:
    """Apply an update request (some attributes and/or the toxicity) to a toxic."""
    if not isinstance(body, dict):
        raise ApiError(400, "bad request body")
    given = body.get("attributes") or {}
    parsed = parse_attributes(toxic.type, given)
    attributes = {**toxic.attributes, **{key: parsed[key] for key in given if key in parsed}}
    toxicity = body.get("toxicity", toxic.toxicity)
    if isinstance(toxicity, bool) or not isinstance(toxicity, int | float) or not 0 <= toxicity <= 1:
        raise ApiError(400, "toxicity must be a number between 0 and 1")
    return Toxic(toxic.name, toxic.type, toxic.stream, float(toxicity), attributes)
