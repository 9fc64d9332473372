"""Toxiproxy 2.x's HTTP API over asyncio streams: JSON in, JSON out, errors as {"error", "status"}."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from harness.proxy.errors import ApiError
from harness.proxy.server import ProxyServer

VERSION = "2.12.0"  # the Toxiproxy whose documented API this one follows
MAX_BODY = 1 << 20
_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    500: "Internal Server Error",
}

Handler = Callable[[ProxyServer, dict[str, str], Any], Awaitable[tuple[int, Any]]]


async def _list(s: ProxyServer, p: dict[str, str], body: Any) -> tuple[int, Any]:
    return 200, s.all()


async def _create(s: ProxyServer, p: dict[str, str], body: Any) -> tuple[int, Any]:
    return 201, (await s.create(body)).to_json()


async def _populate(s: ProxyServer, p: dict[str, str], body: Any) -> tuple[int, Any]:
    return 201, {"proxies": [proxy.to_json() for proxy in await s.populate(body)]}


async def _reset(s: ProxyServer, p: dict[str, str], body: Any) -> tuple[int, Any]:
    await s.reset()
    return 204, None


async def _version(s: ProxyServer, p: dict[str, str], body: Any) -> tuple[int, Any]:
    return 200, {"version": VERSION}  # JSON since Toxiproxy 2.7 (plain text before)


async def _get(s: ProxyServer, p: dict[str, str], body: Any) -> tuple[int, Any]:
    return 200, s.get(p["proxy"]).to_json()


async def _update(s: ProxyServer, p: dict[str, str], body: Any) -> tuple[int, Any]:
    return 200, (await s.update(p["proxy"], body)).to_json()


async def _delete(s: ProxyServer, p: dict[str, str], body: Any) -> tuple[int, Any]:
    await s.delete(p["proxy"])
    return 204, None


async def _toxics(s: ProxyServer, p: dict[str, str], body: Any) -> tuple[int, Any]:
    return 200, [t.to_json() for t in s.get(p["proxy"]).toxics.values()]


async def _add_toxic(s: ProxyServer, p: dict[str, str], body: Any) -> tuple[int, Any]:
    return 200, s.add_toxic(p["proxy"], body).to_json()


async def _get_toxic(s: ProxyServer, p: dict[str, str], body: Any) -> tuple[int, Any]:
    return 200, s.get_toxic(p["proxy"], p["toxic"]).to_json()


async def _update_toxic(s: ProxyServer, p: dict[str, str], body: Any) -> tuple[int, Any]:
    return 200, s.update_toxic(p["proxy"], p["toxic"], body).to_json()


async def _remove_toxic(s: ProxyServer, p: dict[str, str], body: Any) -> tuple[int, Any]:
    s.remove_toxic(p["proxy"], p["toxic"])
    return 204, None


_NAME = r"[^/]+"
ROUTES: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
    (re.compile(r"^/proxies$"), {"GET": _list, "POST": _create}),
    (re.compile(r"^/populate$"), {"POST": _populate}),
    (re.compile(r"^/reset$"), {"POST": _reset}),
    (re.compile(r"^/version$"), {"GET": _version}),
    (
        re.compile(rf"^/proxies/(?P<proxy>{_NAME})$"),
        {"GET": _get, "POST": _update, "PATCH": _update, "DELETE": _delete},
    ),
    (re.compile(rf"^/proxies/(?P<proxy>{_NAME})/toxics$"), {"GET": _toxics, "POST": _add_toxic}),
    (
        re.compile(rf"^/proxies/(?P<proxy>{_NAME})/toxics/(?P<toxic>{_NAME})$"),
        {"GET": _get_toxic, "POST": _update_toxic, "PATCH": _update_toxic, "DELETE": _remove_toxic},
    ),
]


async def dispatch(server: ProxyServer, method: str, path: str, raw: bytes) -> tuple[int, Any]:
    for pattern, methods in ROUTES:
        match = pattern.match(path.split("?", 1)[0])
        if match is None:
            continue
        handler = methods.get(method)
        if handler is None:
            raise ApiError(405, "method not allowed")
        try:
            body = json.loads(raw) if raw.strip() else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError(400, "bad request body") from None
        return await handler(server, match.groupdict(), body)
    raise ApiError(404, "not found")


async def serve_client(
    server: ProxyServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """HTTP/1.1 with keep-alive; one request at a time."""
    try:
        while True:
            request_line = await reader.readline()
            if not request_line:
                return
            parts = request_line.decode("latin-1").split()
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                key, _, value = line.decode("latin-1").partition(":")
                headers[key.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0") or 0)
            if len(parts) < 2 or length > MAX_BODY:
                await _respond(writer, 400, {"error": "bad request", "status": 400}, close=True)
                return
            raw = await reader.readexactly(length) if length else b""
            if headers.get("user-agent", "").startswith("Mozilla/"):
                # As Toxiproxy: a web page must not drive the API through a visitor's browser.
                await _respond(writer, 403, None, close=False, text="User agent not allowed\n")
                continue
            try:
                status, payload = await dispatch(server, parts[0].upper(), parts[1], raw)
            except ApiError as exc:
                status, payload = exc.status, {"error": exc.message, "status": exc.status}
            close = headers.get("connection", "").lower() == "close"
            await _respond(writer, status, payload, close=close)
            if close:
                return
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        return
    finally:
        writer.close()


async def _respond(
    writer: asyncio.StreamWriter, status: int, payload: Any, close: bool, text: str | None = None
) -> None:
    if text is not None:
        body, kind = text.encode(), "text/plain; charset=utf-8"
    elif payload is None:
        body, kind = b"", "application/json"
    else:
        body, kind = json.dumps(payload).encode(), "application/json"
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\nContent-Type: {kind}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: {'close' if close else 'keep-alive'}\r\n\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()


async def start_api(server: ProxyServer, host: str, port: int) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await serve_client(server, reader, writer)

    return await asyncio.start_server(handle, host, port, reuse_address=True)
