"""The simulator's own process: its API on a bare asyncio protocol (httptools parses).

Load tests run the simulator on the machine of the server they measure, so
what it spends is taken from the server: a request here is parsed by
httptools and answered by :meth:`.api.Api.respond` straight onto the socket,
with no ASGI, router or response objects in between. Keep-alive and pipelined
requests are answered in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from http import HTTPStatus

import httptools

from stsgas.paysim.api import Api

__all__ = ["serve"]

_REASONS = {s.value: s.phrase.encode() for s in HTTPStatus}


class _Connection(asyncio.Protocol):
    """One client connection."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.headers: dict[bytes, bytes] = {}
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._write(400, b"text/plain", b"bad request", keep=False)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    # httptools' callbacks
    def on_message_begin(self) -> None:
        self.url, self.headers, self.body = b"", {}, []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.lower()] = value

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        url = httptools.parse_url(self.url)
        method = self.parser.get_method().decode("latin-1")
        status, kind, out = self.api.respond(
            method,
            url.path.decode("latin-1"),
            (url.query or b"").decode("latin-1"),
            self.headers,
            b"".join(self.body),
        )
        self._write(
            status, kind, b"" if method == "HEAD" else out, keep=self.parser.should_keep_alive()
        )

    def _write(self, status: int, kind: bytes, body: bytes, *, keep: bool) -> None:
        if self.transport is None:
            return
        head = b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %d\r\n%s\r\n" % (
            status,
            _REASONS.get(status, b""),
            kind,
            len(body),
            b"" if keep else b"connection: close\r\n",
        )
        self.transport.write(head + body)
        if not keep:
            self.transport.close()


async def serve(api: Api, host: str, port: int) -> None:
    """Serve ``api`` on ``host:port`` until SIGTERM or SIGINT (then return)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C still ends it
            loop.add_signal_handler(sig, stop.set)
    server = await loop.create_server(lambda: _Connection(api), host, port, backlog=1024)
    async with server:
        await stop.wait()
