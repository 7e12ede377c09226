"""The simulator's HTTP face as an ASGI app (tests serve it in-process under uvicorn).

The endpoints are :class:`.api.Api`'s: pay (form or JSON), OAuth token,
transaction status, a callback's delivery state. The simulator's own process
serves the same API without ASGI (:mod:`.wire`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from stsgas.paysim.api import Api
from stsgas.paysim.ledger import Simulator

__all__ = ["build"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]


def build(sim: Simulator) -> ASGIApp:
    """The simulator's ASGI app over ``sim``."""
    api = Api(sim)

    async def app(
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].removeprefix("lifespan.")
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.lower(): v for k, v in scope["headers"]}
        status, kind, out = api.respond(
            scope["method"], scope["path"], scope["query_string"].decode("latin-1"), headers, body
        )
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", kind), (b"content-length", b"%d" % len(out))],
            }
        )
        if scope["method"] == "HEAD":
            out = b""
        await send({"type": "http.response.body", "body": out})

    return app
