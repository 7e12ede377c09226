"""A local HTTP SMS gateway double: a real server on 127.0.0.1 in a thread.

It records every JSON body it receives and answers with a status the test
chooses, so the adapter is tested over a real socket.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.http_double import JsonHandler, serving


@dataclass
class GatewayDouble:
    """What the double saw, and what it answers next."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    status: int = 202


@contextmanager
def running_gateway() -> Iterator[GatewayDouble]:
    """Start the double on a free port; stop it afterwards."""
    state = GatewayDouble(url="")

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            state.received.append(self.read_json())
            state.headers.append(dict(self.headers.items()))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with serving(Handler) as port:
        state.url = f"http://127.0.0.1:{port}/send"
        yield state
