"""One proxied TCP connection: two directions, each passing its data through the proxy's current toxics.

Each direction has a reader that timestamps chunks and queues them, and a writer that releases each chunk
when the toxics allow: latency counts from the chunk's arrival, so a stream keeps flowing at full rate with a
delay rather than one chunk per delay. Toxics may change while data flows; each chunk sees those current at
its release.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import time
from collections.abc import Callable

from harness.proxy.resp_rewrite import RESP_TOXICS, RespRewriter
from harness.proxy.toxics import Toxic

QUEUE_CHUNKS = 256  # per direction; beyond this the reader stops reading and TCP pushes back
READ_SIZE = 65536
DRAIN_ABOVE = 256 * 1024
SPIN_S = 0.0015  # the last stretch of a delay waited turn by turn rather than by the loop's coarse timer
TCP_RETRIES = 15  # Linux's tcp_retries2
HELD_FOR_S = 0.2  # a reply tail held as a possible marker start goes on after this, if nothing followed

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


class Connection:
    """A client connection and its upstream connection, pumped in both directions until either side ends."""

    def __init__(
        self,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        toxics: ToxicsOf,
        changed: Callable[[], asyncio.Event],
        rng: random.Random,
        resp_toxics: Callable[[], tuple[Toxic, ...]],
    ) -> None:
        self._client = client
        self._upstream = upstream
        self._toxics = toxics
        self._changed = changed
        self._rng = rng
        self._resp_toxics = resp_toxics  # the Redis-aware toxics of the proxy, whichever stream they name
        self._active: dict[tuple[str, str], bool] = {}  # (stream, toxic name) -> rolled toxicity
        self._tasks: list[asyncio.Task[None]] = []
        self._busy = {"upstream": False, "downstream": False}  # a writer holds a dequeued chunk
        self._resp: RespRewriter | None = None  # while Redis-aware toxics act (or their replies are due)
        self._losses = {"upstream": 0, "downstream": 0}  # packet_loss: chunks lost in a row per direction
        self.closed = asyncio.Event()

    def start(self) -> None:
        # "upstream" is client -> server, "downstream" server -> client, as Toxiproxy names them.
        self._tasks = [
            asyncio.create_task(self._direction("upstream", self._client[0], self._upstream[1])),
            asyncio.create_task(self._direction("downstream", self._upstream[0], self._client[1])),
            asyncio.create_task(self._watch()),
        ]

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
        return not any(t.type not in RESP_TOXICS for t in self._toxics(stream))

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
        return pieces

    async def _direction(
        self, stream: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(QUEUE_CHUNKS)
        pump = asyncio.create_task(self._read(stream, reader, queue, writer))
        try:
            await self._write(stream, queue, writer)
        except (ConnectionError, OSError):
            pass
        finally:
            pump.cancel()
            await self.close()

    async def _read(
        self,
        stream: str,
        reader: asyncio.StreamReader,
        queue: asyncio.Queue[tuple[float, bytes]],
        writer: asyncio.StreamWriter,
    ) -> None:
        try:
            while chunk := await reader.read(READ_SIZE):
                for delay, piece in self._rewritten(stream, chunk) if self._toxics_any() else ((0.0, chunk),):
                    if not piece:
                        continue
                    if not delay and self._plain(stream) and queue.empty() and not self._busy[stream]:
                        # Fast path: no toxic, nothing queued or in flight: order holds without the queue.
                        writer.write(piece)
                        if writer.transport.get_write_buffer_size() > DRAIN_ABOVE:
                            await writer.drain()  # only when the peer is slow: drain() per chunk costs
                        continue
                    await queue.put((time.monotonic() + delay, piece))
                if stream == "downstream" and self._resp is not None and self._resp.held:
                    self._release_later(self._resp.held, queue)
        except (ConnectionError, OSError):
            pass
        await queue.put((time.monotonic(), b""))  # end of stream

    def _toxics_any(self) -> bool:
        return self._resp is not None or bool(self._resp_toxics())

    def _release_later(self, held: bytes, queue: asyncio.Queue[tuple[float, bytes]]) -> None:
        """Send a held reply tail on if nothing completes it soon: it was a reply, not a marker."""

        async def release() -> None:
            await asyncio.sleep(HELD_FOR_S)
            if self._resp is not None and self._resp.held is held:
                await queue.put((time.monotonic(), self._resp.release_held()))

        self._tasks.append(asyncio.create_task(release()))

    async def _write(
        self, stream: str, queue: asyncio.Queue[tuple[float, bytes]], writer: asyncio.StreamWriter
    ) -> None:
        sent = 0
        while True:
            self._busy[stream] = False
            arrived, chunk = await queue.get()
            self._busy[stream] = True
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
                    writer.write(chunk[: max(0, toxic.attr("bytes") - sent)])
                    await writer.drain()
                    return
            sent += len(chunk)
            await self._send(chunk, toxics, writer)

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

    async def _send(self, chunk: bytes, toxics: tuple[Toxic, ...], writer: asyncio.StreamWriter) -> None:
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
            writer.write(piece)
            await writer.drain()
            if rate:
                await asyncio.sleep(len(piece) / (rate * 1024))
            if slicer is not None and slicer.attr("delay"):
                await asyncio.sleep(slicer.attr("delay") / 1e6)

    async def _hold_while_timeout(self, stream: str) -> tuple[Toxic, ...]:
        """Hold data while a timeout toxic is active (Toxiproxy's timeout 0: until it is removed).
        Returns the toxics current once data may pass."""
        while True:
            toxics = self.current(stream)
            if not any(t.type == "timeout" for t in toxics):
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
        for _, writer in (self._client, self._upstream):
            sock = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()

    async def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for _, writer in (self._client, self._upstream):
            writer.close()
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
