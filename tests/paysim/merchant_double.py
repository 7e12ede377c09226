"""A merchant's confirmation URL double: a real HTTP server on 127.0.0.1 in a thread
that refuses the first ``fail_first`` callbacks (503), then accepts, recording each."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.http_double import JsonHandler, serving


@dataclass
class MerchantDouble:
    """What the double received and how many callbacks it still refuses."""

    url: str
    fail_first: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def running_merchant(fail_first: int = 0) -> Iterator[MerchantDouble]:
    """Start the double on a free port; stop it afterwards."""
    state = MerchantDouble(url="", fail_first=fail_first)

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            body = self.read_json()
            with state.lock:
                state.received.append(body)
                refuse = state.fail_first > 0
                state.fail_first -= 1
            answer = b'{"ResultCode": 0, "ResultDesc": "Accepted"}'
            self.send_response(503 if refuse else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    with serving(Handler) as port:
        state.url = f"http://127.0.0.1:{port}/confirm"
        yield state
