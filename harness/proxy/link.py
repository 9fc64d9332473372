"""One proxied TCP connection: two directions, each passing its data through the proxy's current toxics.

Each socket is a protocol (`Side`) whose received chunks go straight to the connection: without toxics they
are written to the other socket at once, in the callback (no reader task, no buffer copy: that per-chunk
cost bounded the proxy's throughput); with toxics they are timestamped and queued, and a writer task releases
each when the toxics allow: latency counts from the chunk's arrival, so a stream keeps flowing at full rate
with a delay rather than one chunk per delay. Toxics may change while data flows; each chunk sees those
current at its release. Flow control is the kernel's: a full queue or a peer that cannot take more pauses
reading from the socket the data comes from.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import time
from collections.abc import Callable
from typing import cast

from harness.proxy.resp_rewrite import RESP_TOXICS, RespRewriter
from harness.proxy.toxics import Toxic

QUEUE_CHUNKS = 256  # per direction; beyond this the source socket is not read and TCP pushes back
READ_SIZE = 65536  # a chunk this size may have more behind it (reads ask for more: shorter ones drained)
EARLY_BYTES = 256 * 1024  # read from a client before its upstream connection is made, at most
SPIN_S = 0.0015  # the last stretch of a delay waited turn by turn rather than by the loop's coarse timer
TCP_RETRIES = 15  # Linux's tcp_retries2
HELD_FOR_S = 0.2  # a reply tail held as a possible marker start goes on after this, if nothing followed
BANDWIDTH_SLICE_BYTES_PER_KBS = 100  # bandwidth: 100 ms worth of bytes per slice, as Toxiproxy slices
CONNECTION_WIDE = frozenset({"reset_peer"})  # toxics that hold both streams, whichever stream they name

ToxicsOf = Callable[[str], tuple[Toxic, ...]]


async def precise_sleep(seconds: float) -> None:
    """Sleep `seconds` to within tens of microseconds. The event loop's own timers wake up to a millisecond
    late (epoll counts whole milliseconds, rounded up), as much as a LAN round trip the proxy adds: so it
    sleeps coarsely to SPIN_S before the deadline, then yields turn by turn (other connections run) to it."""
    deadline = time.monotonic() + seconds
    if seconds > SPIN_S:
        await asyncio.sleep(seconds - SPIN_S)
    while time.monotonic() < deadline:
        await asyncio.sleep(0)


Stream = str  # "upstream" (client -> server) or "downstream" (server -> client), as Toxiproxy names them


class Side(asyncio.Protocol):
    """One socket of a proxied connection. What it receives goes to `sink` (held until one is attached);
    when its own send buffer fills, `flow(False)` holds the stream that writes into it, `flow(True)` lets
    it go on."""

    def __init__(self, made: Callable[[Side], None] | None = None) -> None:
        self._made = made
        self.transport: asyncio.Transport | None = None
        self._sink: Callable[[bytes], None] | None = None
        self._ended: Callable[[], None] | None = None
        self._flow: Callable[[bool], None] | None = None
        self._early: list[bytes] = []
        self._early_bytes = 0
        self._eof = False
        self.through: asyncio.Transport | None = None  # while no toxic acts: chunks go straight there
        self.writable = asyncio.Event()
        self.writable.set()

    def attach(
        self, sink: Callable[[bytes], None], ended: Callable[[], None], flow: Callable[[bool], None]
    ) -> None:
        self._sink, self._ended, self._flow = sink, ended, flow
        early, self._early = self._early, []
        for chunk in early:
            sink(chunk)
        if self._early_bytes >= EARLY_BYTES and self.transport is not None and not self._eof:
            self.transport.resume_reading()
        if self._eof:
            ended()

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's TCPTransport is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._made is not None:
            self._made(self)

    def data_received(self, data: bytes) -> None:
        through = self.through
        if through is not None:
            through.write(data)  # the common case, as short as it gets: it bounds the proxy's throughput
            return
        if self._sink is not None:
            self._sink(data)
            return
        self._early.append(data)
        self._early_bytes += len(data)
        if self._early_bytes >= EARLY_BYTES and self.transport is not None:
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        self._end()
        return False  # close: a half-closed proxied connection ends, as the reading side saw its end

    def connection_lost(self, exc: Exception | None) -> None:
        self.writable.set()  # a writer waiting for room finds the connection closed instead
        self._end()

    def pause_writing(self) -> None:
        self.writable.clear()
        if self._flow is not None:
            self._flow(False)

    def resume_writing(self) -> None:
        self.writable.set()
        if self._flow is not None:
            self._flow(True)

    def _end(self) -> None:
        if self._eof:
            return
        self._eof = True
        if self._ended is not None:
            self._ended()


class Connection:
    """A client connection and its upstream connection, pumped in both directions until either side ends."""

    def __init__(
        self,
        client: Side,
        upstream: Side,
        toxics: ToxicsOf,
        changed: Callable[[], asyncio.Event],
        rng: random.Random,
        resp_toxics: Callable[[], tuple[Toxic, ...]],
    ) -> None:
        self._source = {"upstream": client, "downstream": upstream}  # where each stream's data comes from
        self._dest = {"upstream": upstream, "downstream": client}
        self._toxics = toxics
        self._changed = changed
        self._rng = rng
        self._resp_toxics = resp_toxics  # the Redis-aware toxics of the proxy, whichever stream they name
        self._active: dict[tuple[str, str], bool] = {}  # (stream, toxic name) -> rolled toxicity
        self._tasks: list[asyncio.Task[None]] = []
        self._busy = {"upstream": False, "downstream": False}  # a writer holds a dequeued chunk
        self._resp: RespRewriter | None = None  # while Redis-aware toxics act (or their replies are due)
        self._losses = {"upstream": 0, "downstream": 0}  # packet_loss: chunks lost in a row per direction
        self._pace = {"upstream": 0.0, "downstream": 0.0}  # bandwidth: when the last slice was due
        self._queues: dict[Stream, asyncio.Queue[tuple[float, bytes]]] = {
            "upstream": asyncio.Queue(),
            "downstream": asyncio.Queue(),
        }
        self._held: dict[Stream, set[str]] = {"upstream": set(), "downstream": set()}  # why not read
        self._plain_as_of: asyncio.Event | None = None  # the proxy's change event _plain_streams is for
        self._plain_streams: dict[Stream, bool] = {}
        self._ending = False  # a side has ended or the connection closes: every chunk goes the long way
        self.closed = asyncio.Event()

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._direction("upstream")),
            asyncio.create_task(self._direction("downstream")),
            asyncio.create_task(self._watch()),
        ]
        for stream, source in self._source.items():
            self._attach(stream, source)
        self.retune()

    def retune(self) -> None:
        """Let each stream's chunks pass socket to socket, not through this connection, while nothing here
        could act on them: no toxic on the stream, nothing queued or in flight, and no Redis-aware toxic or
        state (for replies: none that may hold a marker). Asked again whenever one of those changes (the
        proxy asks on every change of toxics)."""
        resp = self._resp_toxics()
        # Replies need the Redis-aware state only where a marker may be: none while only delays act.
        replies_plain = (self._resp is None or self._resp.idle) and all(t.type == "redis_delay" for t in resp)
        straight = {
            "upstream": self._resp is None and not resp,
            "downstream": replies_plain,
        }
        wide = self._wide()
        for stream, source in self._source.items():
            dest = self._dest[stream].transport
            source.through = (
                dest
                if straight[stream]
                and not wide
                and not self._ending
                and dest is not None
                and not self._busy[stream]
                and self._queues[stream].empty()
                and not self._toxics(stream)
                else None
            )

    def _attach(self, stream: Stream, source: Side) -> None:
        def sink(chunk: bytes) -> None:
            self._received(stream, chunk)

        def ended() -> None:
            self._end(stream)

        def flow(room: bool) -> None:
            # A socket whose send buffer is full holds the stream written into it: the other one.
            self._hold(_other(stream), "peer", not room)

        source.attach(sink, ended, flow)

    def applies(self, toxic: Toxic) -> bool:
        """Whether a toxic acts on this connection: decided once per connection by its toxicity."""
        key = (toxic.stream, toxic.name)
        if key not in self._active:
            self._active[key] = toxic.toxicity >= 1.0 or self._rng.random() < toxic.toxicity
        return self._active[key]

    def current(self, stream: str) -> tuple[Toxic, ...]:
        """The byte-level toxics acting on this connection's stream (the Redis-aware ones act apart)."""
        return tuple(t for t in self._toxics(stream) if t.type not in RESP_TOXICS and self.applies(t))

    def _plain(self, stream: str) -> bool:
        """No byte-level toxic on the stream: asked per chunk, so worked out once per change of toxics."""
        changed = self._changed()
        if changed is not self._plain_as_of:
            self._plain_as_of = changed
            wide = self._wide()
            self._plain_streams = {
                s: not wide and not any(t.type not in RESP_TOXICS for t in self._toxics(s))
                for s in ("upstream", "downstream")
            }
        return self._plain_streams[stream]

    def _rewritten(self, stream: str, chunk: bytes) -> list[tuple[float, bytes]]:
        """A chunk as the Redis-aware toxics leave it: (delay, bytes) pieces in order."""
        if stream == "downstream":
            return [(0.0, chunk if self._resp is None else self._resp.downstream(chunk))]
        toxics = self._resp_toxics()
        if toxics and self._resp is None:
            self._resp = RespRewriter(self._rng)
        if self._resp is None:
            return [(0.0, chunk)]
        pieces = self._resp.upstream(chunk, toxics, drained=len(chunk) < READ_SIZE)
        if not toxics and self._resp.idle:
            self._resp = None  # every marker answered: plain forwarding again
            self.retune()
        return pieces

    async def _direction(self, stream: Stream) -> None:
        try:
            await self._write(stream)
        except (ConnectionError, OSError):
            pass
        finally:
            await self.close()

    def _received(self, stream: Stream, chunk: bytes) -> None:
        """A chunk read from the stream's source: written on at once, or queued for the toxics."""
        queue, dest = self._queues[stream], self._dest[stream]
        for delay, piece in self._rewritten(stream, chunk) if self._toxics_any() else ((0.0, chunk),):
            if not piece:
                continue
            if not delay and self._plain(stream) and queue.empty() and not self._busy[stream]:
                # Fast path: no toxic, nothing queued or in flight: order holds without the queue.
                dest.write(piece)
                continue
            queue.put_nowait((time.monotonic() + delay, piece))
            if queue.qsize() >= QUEUE_CHUNKS:
                self._hold(stream, "queue", True)
        if stream == "downstream" and self._resp is not None and self._resp.held:
            self._release_later(self._resp.held, queue)

    def _step_in(self) -> None:
        """Every chunk through this connection from now on: it is ending (what is queued goes first)."""
        self._ending = True
        for source in self._source.values():
            source.through = None

    def _end(self, stream: Stream) -> None:
        self._step_in()
        self._queues[stream].put_nowait((time.monotonic(), b""))  # end of stream, after what is queued

    def _hold(self, stream: Stream, reason: str, on: bool) -> None:
        """Stop (or go on) reading the stream's source for `reason` (a full queue, a full peer): reading
        goes on once no reason is left."""
        held = self._held[stream]
        before = bool(held)
        if on:
            held.add(reason)
        else:
            held.discard(reason)
        transport = self._source[stream].transport
        if before != bool(held) and transport is not None and not transport.is_closing():
            if held:
                transport.pause_reading()
            else:
                transport.resume_reading()

    def _toxics_any(self) -> bool:
        return self._resp is not None or bool(self._resp_toxics())

    def _release_later(self, held: bytes, queue: asyncio.Queue[tuple[float, bytes]]) -> None:
        """Send a held reply tail on if nothing completes it soon: it was a reply, not a marker."""

        async def release() -> None:
            await asyncio.sleep(HELD_FOR_S)
            if self._resp is not None and self._resp.held is held:
                queue.put_nowait((time.monotonic(), self._resp.release_held()))

        self._tasks.append(asyncio.create_task(release()))

    async def _write(self, stream: Stream) -> None:
        """Release queued chunks as the toxics allow, in order."""
        queue, dest = self._queues[stream], self._dest[stream]
        sent = 0
        while True:
            self._busy[stream] = False
            if queue.empty():
                self.retune()  # the toxics may have gone while this stream had chunks queued
            arrived, chunk = await queue.get()
            self._busy[stream] = True
            if queue.qsize() < QUEUE_CHUNKS // 2:
                self._hold(stream, "queue", False)
            toxics = await self._hold_while_timeout(stream)
            if not chunk:
                await self._slow_close(toxics)
                return
            delay = 0.0
            for toxic in toxics:
                if toxic.type == "latency":
                    jitter = toxic.attr("jitter")
                    delay += (
                        toxic.attr("latency") + (self._rng.uniform(-jitter, jitter) if jitter else 0)
                    ) / 1000
            wait = arrived + delay - time.monotonic() + self._loss_stall(stream, toxics)
            if wait > 0:
                await precise_sleep(wait)
            for toxic in toxics:
                if toxic.type == "limit_data" and sent + len(chunk) >= toxic.attr("bytes"):
                    dest.write(chunk[: max(0, toxic.attr("bytes") - sent)])
                    await self._drain(dest)
                    return
            sent += len(chunk)
            await self._send(stream, chunk, toxics, dest)

    def _loss_stall(self, stream: str, toxics: tuple[Toxic, ...]) -> float:
        """packet_loss as TCP presents it: a lost chunk waits for its retransmission (rto, doubled for each
        loss in a row) and then arrives whole; correlation adds to the chance of losing the next one too."""
        loss = next((t for t in toxics if t.type == "packet_loss"), None)
        if loss is None:
            self._losses[stream] = 0
            return 0.0
        stall = 0.0
        for _ in range(TCP_RETRIES):
            chance = loss.fraction("loss_rate") + (
                loss.fraction("correlation") if self._losses[stream] else 0
            )
            if self._rng.random() >= min(chance, 1.0):
                self._losses[stream] = 0
                return stall
            stall += loss.attr("rto") / 1000 * 2 ** min(self._losses[stream], 6)
            self._losses[stream] += 1
        return stall  # a kernel gives up about here (tcp_retries2); this chunk still arrives, late

    async def _drain(self, dest: Side) -> None:
        """Until the destination's send buffer has room again (or the connection is gone)."""
        if not dest.writable.is_set() and not self.closed.is_set():
            await dest.writable.wait()

    async def _send(self, stream: Stream, chunk: bytes, toxics: tuple[Toxic, ...], dest: Side) -> None:
        slicer = next((t for t in toxics if t.type == "slicer" and t.attr("average_size") > 0), None)
        pieces = [chunk]
        if slicer is not None:
            pieces = []
            rest = chunk
            while rest:
                variation = slicer.attr("size_variation")
                size = max(1, slicer.attr("average_size") + self._rng.randint(-variation, variation))
                pieces.append(rest[:size])
                rest = rest[size:]
        rate = min(
            (t.attr("rate") for t in toxics if t.type == "bandwidth" and t.attr("rate") > 0), default=0
        )
        for piece in pieces:
            if rate:
                await self._paced(stream, piece, rate, dest)
            else:
                dest.write(piece)
                await self._drain(dest)
            if slicer is not None and slicer.attr("delay"):
                await asyncio.sleep(slicer.attr("delay") / 1e6)

    async def _paced(self, stream: Stream, data: bytes, rate: int, dest: Side) -> None:
        """bandwidth as Toxiproxy paces it: slices of 100 ms worth of bytes (rate KB/s, KB = 1000 bytes, as
        Toxiproxy counts), each sent once its own time has passed, so a slow link is slow from the first
        byte. The schedule carries over between chunks (no drift from timer error) but never banks idle time
        as a burst."""
        per_slice = rate * BANDWIDTH_SLICE_BYTES_PER_KBS
        for start in range(0, len(data), per_slice):
            piece = data[start : start + per_slice]
            due = max(self._pace[stream], time.monotonic()) + len(piece) / (rate * 1000)
            self._pace[stream] = due
            await precise_sleep(due - time.monotonic())
            dest.write(piece)
            await self._drain(dest)

    def _wide(self) -> bool:
        """A connection-wide toxic (reset_peer) is on either stream: no byte passes either way until it
        resets the connection or goes."""
        return any(t.type in CONNECTION_WIDE for s in ("upstream", "downstream") for t in self._toxics(s))

    async def _hold_while_timeout(self, stream: str) -> tuple[Toxic, ...]:
        """Hold data while a timeout toxic is active (Toxiproxy's timeout 0: until it is removed), or while
        reset_peer waits out its timeout (Toxiproxy's reset_peer passes nothing before the reset).
        Returns the toxics current once data may pass."""
        while True:
            toxics = self.current(stream)
            wide = any(t.type in CONNECTION_WIDE for t in self.current(_other(stream)))
            if not wide and not any(t.type in ("timeout", *CONNECTION_WIDE) for t in toxics):
                return toxics
            await self._changed().wait()

    async def _watch(self) -> None:
        """Connection-wide toxics act even on an idle connection: a timeout toxic with a timeout closes it,
        reset_peer resets it, each after its timeout unless the toxics change first."""
        while not self.closed.is_set():
            changed = self._changed()
            toxics = self.current("upstream") + self.current("downstream")
            reset = next((t for t in toxics if t.type == "reset_peer"), None)
            timeout = next((t for t in toxics if t.type == "timeout" and t.attr("timeout") > 0), None)
            deadline = None
            if reset is not None:
                deadline = reset.attr("timeout") / 1000
            elif timeout is not None:
                deadline = timeout.attr("timeout") / 1000
            try:
                await asyncio.wait_for(changed.wait(), deadline)
            except TimeoutError:
                if reset is not None:
                    self.reset()
                await self.close()
                return

    async def _slow_close(self, toxics: tuple[Toxic, ...]) -> None:
        delay = max((t.attr("delay") for t in toxics if t.type == "slow_close"), default=0)
        if delay:
            await asyncio.sleep(delay / 1000)

    def reset(self) -> None:
        """Close both sockets with an RST (SO_LINGER 0), as a peer reset would."""
        for side in self._source.values():
            if side.transport is None:
                continue
            sock = side.transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            side.transport.abort()

    async def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        self._step_in()
        for side in self._source.values():
            side.close()
            side.writable.set()  # a writer waiting for room finds the connection closed
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()


def _other(stream: Stream) -> Stream:
    return "downstream" if stream == "upstream" else "upstream"
