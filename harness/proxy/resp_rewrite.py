"""Redis-aware toxics: commands matched by name (and key pattern) answered with an error, delayed, or their
replies swallowed, on one proxied connection, with pipelines and transactions kept in order.

The proxy never counts replies. Where a matched command's reply must change, it sends the server a marker
in the command's place, whose reply marks the slot in the reply stream exactly:
- an error outside MULTI: `ECHO <token>` instead of the command; the token's bulk reply becomes the error.
- an error inside MULTI: an unknown command named `<token>` instead of it. The server rejects it as it
  queues it (an error where +QUEUED would be, which becomes ours) and so answers EXEC with EXECABORT and
  runs nothing of the transaction, as Redis does with a command refused at queue time (READONLY, OOM, ...).
- a drop: `ECHO <a>`, the command, `ECHO <b>`: everything between the two markers' replies is swallowed.
  Not inside MULTI, whose replies come as one (the command passes there).
A delay holds the command, and everything after it on the connection, for its latency.

Only chunks that may hold a matching command are parsed (a byte search per name first), so a toxic that
matches nothing costs little. A connection's commands are parsed from a chunk that starts at a command
(clients write whole commands; a chunk that does not parse is forwarded as it is). Replication links
(REPLCONF, PSYNC), subscribers and MONITOR are left alone: their replies are not one per command.
"""

from __future__ import annotations

import fnmatch
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass

from harness.proxy.toxics import Toxic

RESP_TOXICS = ("redis_error", "redis_delay", "redis_drop")
TOKEN_PREFIX = b"drill:inject:"
TOKEN_LEN = len(TOKEN_PREFIX) + 12
ECHO_REPLY_HEAD = b"$%d\r\n" % TOKEN_LEN
MAX_PARTIAL = 1 << 20  # a command longer than this is forwarded unparsed
# Not matched by "*": what sets a connection up rather than uses the data (INFO answers even while loading).
SETUP_COMMANDS = frozenset(b"AUTH HELLO CLIENT SELECT QUIT RESET ASKING READONLY READWRITE INFO".split())
# A connection that sends these is left alone from then on: its replies are not one per command.
UNTRACKABLE = frozenset(b"REPLCONF PSYNC SYNC SUBSCRIBE PSUBSCRIBE SSUBSCRIBE MONITOR".split())
TRANSACTION = (b"MULTI", b"EXEC", b"DISCARD")
# Each error class's text as Redis words it; a value with a space is sent as it is.
ERROR_TEXTS = {
    "READONLY": "READONLY You can't write against a read only replica.",
    "LOADING": "LOADING Redis is loading the dataset in memory",
    "BUSY": "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
    "OOM": "OOM command not allowed when used memory > 'maxmemory'.",
    "MASTERDOWN": "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
    "TRYAGAIN": "TRYAGAIN Multiple keys request during rehashing of slot",
    "NOREPLICAS": "NOREPLICAS Not enough good replicas to write.",
    "MISCONF": "MISCONF Errors writing the snapshot to disk: writes are refused (injected by the proxy)",
    "CLUSTERDOWN": "CLUSTERDOWN The cluster is down",
}


def error_reply(text: str) -> bytes:
    words = ERROR_TEXTS.get(text.strip().upper(), text.strip()) if " " not in text.strip() else text.strip()
    return b"-" + words.replace("\r", " ").replace("\n", " ").encode() + b"\r\n"


@dataclass(frozen=True, slots=True)
class Matcher:
    """Which commands a Redis-aware toxic acts on: names (upper case) or every data command, and a key
    pattern (glob) that one of the command's keys must match."""

    names: frozenset[bytes]
    every: bool
    key_pattern: str
    needles: tuple[bytes, ...] = ()  # each name as a bulk string's line, in both cases: what candidate seeks

    @classmethod
    def of(cls, toxic: Toxic) -> Matcher:
        names = [n.strip().upper() for n in toxic.text("commands").split(",") if n.strip()]
        encoded = frozenset(n.encode() for n in names if n != "*")
        needles = tuple(b"\r\n" + c + b"\r\n" for n in sorted(encoded) for c in (n, n.lower()))
        return cls(encoded, "*" in names, toxic.text("key_pattern"), needles)

    def candidate(self, data: bytes) -> bool:
        """Whether a chunk may hold a matching command (a cheap search; parsing decides)."""
        return self.every or any(needle in data for needle in self.needles)

    def matches(self, args: list[bytes]) -> bool:
        name = args[0].upper()
        if not (name in self.names or (self.every and name not in SETUP_COMMANDS)):
            return False
        if not self.key_pattern:
            return True
        return any(
            fnmatch.fnmatchcase(key.decode(errors="replace"), self.key_pattern) for key in keys_of(args)
        )


def keys_of(args: list[bytes]) -> list[bytes]:
    """The keys a command names, for the common shapes (first argument, MSET pairs, every argument of
    MGET/DEL/..., EVAL/EVALSHA/FCALL's numkeys)."""
    name = args[0].upper()
    if name in (b"EVAL", b"EVALSHA", b"EVAL_RO", b"EVALSHA_RO", b"FCALL", b"FCALL_RO") and len(args) > 2:
        count = int(args[2]) if args[2].isdigit() else 0
        return args[3 : 3 + count]
    if name in (b"MSET", b"MSETNX"):
        return args[1::2]
    if name in (b"MGET", b"DEL", b"UNLINK", b"EXISTS", b"TOUCH", b"WATCH"):
        return args[1:]
    return args[1:2]


def parse_commands(data: bytes) -> tuple[list[tuple[int, int, list[bytes]]], int, bool]:
    """Complete commands from the start of `data` as (start, end, args), where the rest begins, and whether
    that rest is the start of a command (to hold for more) rather than something that does not parse as
    RESP commands (to forward as it is). Clients send arrays of bulk strings; nothing else is parsed."""
    out: list[tuple[int, int, list[bytes]]] = []
    pos, size = 0, len(data)
    while pos < size:
        start = pos
        if data[pos] != 0x2A:  # "*"
            return out, start, False
        line = data.find(b"\r\n", pos)
        if line < 0:
            return out, start, size - pos < 24  # a header still coming, or not RESP at all
        count_text = data[pos + 1 : line]
        if not count_text.isdigit():
            return out, start, False
        args: list[bytes] = []
        pos = line + 2
        for _ in range(int(count_text)):
            line = data.find(b"\r\n", pos)
            if line < 0:
                return out, start, True
            if data[pos] != 0x24 or not data[pos + 1 : line].isdigit():  # "$" and a length
                return out, start, False
            length = int(data[pos + 1 : line])
            if line + 4 + length > size:
                return out, start, True
            args.append(data[line + 2 : line + 2 + length])
            pos = line + 4 + length
        if args:
            out.append((start, pos, args))
    return out, pos, True


def last_command_end(data: bytes, tries: int = 8) -> int | None:
    """Where the complete commands in `data` end (the incomplete last one starts there; len(data) when
    none is incomplete), found from the end: the last array header that parses from there to the end.
    None when no such header shows within `tries` (then the chunk goes on as it is)."""
    pos = len(data)
    for _ in range(tries):
        star = data.rfind(b"*", 0, pos)
        if star < 0:
            return None
        if star == 0 or data[star - 2 : star] == b"\r\n":
            commands, rest, partial = parse_commands(data[star:])
            if star + rest == len(data) or (partial and (commands or rest == 0)):
                return star + rest
        pos = star
    return None


def encode(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


class RespRewriter:
    """One connection's Redis-aware state: the markers sent and what their replies become."""

    def __init__(self, rng: random.Random, tokens: Iterator[int] | None = None) -> None:
        self._rng = rng
        self._tokens = tokens if tokens is not None else itertools.count(1)
        self._partial = b""
        self._in_multi = False
        self.untracked = False  # a replication link, a subscriber or MONITOR: left alone
        self._matched: dict[str, int] = {}  # toxic name -> matching commands seen (for `first`)
        self._matchers: dict[str, tuple[Toxic, Matcher]] = {}
        self._outstanding: dict[bytes, tuple[str, bytes]] = {}  # token -> (what, error reply)
        self._dropping = False
        self.held = b""  # the downstream's tail that may be the start of a marker's reply

    @property
    def idle(self) -> bool:
        """Nothing in flight: the connection can go back to plain forwarding."""
        return not (self._partial or self._outstanding or self._dropping or self.held or self._in_multi)

    def flush_partial(self) -> bytes:
        partial, self._partial = self._partial, b""
        return partial

    # --- client -> server ---------------------------------------------------------------------------------

    def upstream(
        self, chunk: bytes, toxics: tuple[Toxic, ...], drained: bool = False
    ) -> list[tuple[float, bytes]]:
        """What to send the server for this chunk, as (delay in seconds, bytes) in order. `drained`: the
        read took all the socket had (shorter than asked for)."""
        data = self._partial + chunk
        self._partial = b""
        if self.untracked:
            return [(0.0, data)]
        matchers = [(t, self._matcher(t)) for t in toxics]
        if not (self._in_multi or b"MULTI" in data or b"multi" in data) and not any(
            m.candidate(data) for _, m in matchers
        ):
            if drained and data.endswith(b"\r\n"):
                # Clients write whole commands, and a read that emptied the socket ends where a write did.
                return [(0.0, data)]
            return self._pass(data)  # nothing here can match: only where the last command starts matters
        commands, rest, partial = parse_commands(data)
        if not commands and not partial:
            return self._pass(data)  # not at a command: forwarded, and in step again from its last command
        if any(args[0].upper() in UNTRACKABLE for _, _, args in commands):
            self.untracked = True
            return [(0.0, data)]
        if partial and len(data) - rest <= MAX_PARTIAL:
            self._partial, data = data[rest:], data[:rest]
        out: list[tuple[float, bytes]] = []
        pending = bytearray()
        delay = 0.0
        for start, end, args in commands:
            action = self._fire(matchers, args)
            if action is not None and action.type == "redis_delay":
                if pending:
                    out.append((delay, bytes(pending)))
                    pending = bytearray()
                delay = max(delay, action.attr("latency") / 1000)  # what follows it waits as long
                pending += data[start:end]
            elif action is not None and action.type == "redis_error":
                token = self._token()
                self._outstanding[token] = ("error", error_reply(action.text("error")))
                pending += encode(token) if self._in_multi else encode(b"ECHO", token)
            elif action is not None and not self._in_multi:  # redis_drop
                first, last = self._token(), self._token()
                self._outstanding[first] = ("drop-from", b"")
                self._outstanding[last] = ("drop-to", b"")
                pending += encode(b"ECHO", first) + data[start:end] + encode(b"ECHO", last)
            else:
                pending += data[start:end]
            name = args[0].upper()
            if name == b"MULTI":
                self._in_multi = True
            elif name in (b"EXEC", b"DISCARD"):
                self._in_multi = False
        pending += data[rest:]  # what does not parse (or an oversized command) goes as it is
        if pending:
            out.append((delay, bytes(pending)))
        return out

    def _pass(self, data: bytes) -> list[tuple[float, bytes]]:
        """Forward data unchanged, holding back an incomplete last command so the next chunk starts at one."""
        cut = last_command_end(data)
        if cut is not None and len(data) - cut <= MAX_PARTIAL:
            self._partial, data = data[cut:], data[:cut]
        return [(0.0, data)]

    def _matcher(self, toxic: Toxic) -> Matcher:
        cached = self._matchers.get(toxic.name)
        if cached is None or cached[0] is not toxic:  # a toxic updated is a new object
            cached = self._matchers[toxic.name] = (toxic, Matcher.of(toxic))
        return cached[1]

    def _fire(self, matchers: list[tuple[Toxic, Matcher]], args: list[bytes]) -> Toxic | None:
        """The toxic that acts on this command, if any: the first that matches, passes its `first` count and
        wins its toxicity roll (toxicity is a rate per matching command)."""
        for toxic, matcher in matchers:
            if not matcher.matches(args):
                continue
            seen = self._matched.get(toxic.name, 0) + 1
            self._matched[toxic.name] = seen
            first = toxic.attr("first") if toxic.type != "redis_delay" else 0
            if first and seen > first:
                continue
            if toxic.toxicity >= 1.0 or self._rng.random() < toxic.toxicity:
                return toxic
        return None

    def _token(self) -> bytes:
        return TOKEN_PREFIX + b"%012d" % next(self._tokens)

    # --- server -> client ---------------------------------------------------------------------------------

    def downstream(self, chunk: bytes) -> bytes:
        """The replies to pass on: markers replaced by errors, dropped spans removed. A tail that may be
        the start of a marker's reply is kept in `held` until more comes (or release_held)."""
        if not (self._outstanding or self._dropping or self.held):
            return chunk
        data = self.held + chunk
        self.held = b""
        out = bytearray()
        pos = 0
        while (found := data.find(TOKEN_PREFIX, pos)) >= 0:
            start, end = _marker_span(data, found)
            if end > len(data):  # cut off by the end of the chunk: wait for the rest
                if not self._dropping:
                    out += data[pos:start]
                self.held = data[start:]
                return bytes(out)
            what, reply = self._outstanding.pop(data[found : found + TOKEN_LEN], ("unknown", b""))
            if what == "unknown":  # not ours (a value that looks like a token): passed on
                if not self._dropping:
                    out += data[pos:end]
                pos = end
                continue
            if not self._dropping:
                out += data[pos:start]
            if what == "error":
                out += reply
            elif what == "drop-from":
                self._dropping = True
            else:
                self._dropping = False
            pos = end
        rest = data[pos:]
        keep = _marker_start_suffix(rest) if self._outstanding else 0
        if not self._dropping:
            out += rest[: len(rest) - keep]
        self.held = rest[len(rest) - keep :] if keep else b""
        return bytes(out)

    def release_held(self) -> bytes:
        """The held tail, when nothing followed it: it was not a marker after all."""
        held, self.held = self.held, b""
        return b"" if self._dropping else held


def _marker_span(data: bytes, found: int) -> tuple[int, int]:
    """Where the reply holding the token at `found` starts and ends: an ECHO's bulk string, or the error
    line of an unknown command. An end past the data: the reply goes on in the next chunk."""
    head = found - len(ECHO_REPLY_HEAD)
    if head >= 0 and data[head:found] == ECHO_REPLY_HEAD:
        return head, found + TOKEN_LEN + 2
    line_start = data.rfind(b"\r\n", 0, found)
    line_end = data.find(b"\r\n", found)
    return (line_start + 2 if line_start >= 0 else 0), (line_end + 2 if line_end >= 0 else len(data) + 1)


def _marker_start_suffix(rest: bytes) -> int:
    """How many bytes at the end of `rest` may begin a marker's reply (its bulk header or an error line
    still without its token): held back until the next chunk shows."""
    for size in range(min(len(rest), len(ECHO_REPLY_HEAD) + len(TOKEN_PREFIX) - 1), 0, -1):
        tail = rest[-size:]
        if (ECHO_REPLY_HEAD + TOKEN_PREFIX).startswith(tail):
            return size
    line = rest.rfind(b"\r\n")
    last = rest[line + 2 :] if line >= 0 else rest
    return len(last) if last.startswith(b"-ERR unknown command") else 0
