"""A real TCP listener standing in for a network receipt printer (raw port 9100)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class FakePrinter:
    """Accepts connections on 127.0.0.1 and keeps every byte each one sent."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.jobs: list[bytes] = []
        self.done = threading.Event()
        self._stop = threading.Event()
        self.sock.settimeout(0.1)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(10)
                chunks = []
                while chunk := conn.recv(4096):
                    chunks.append(chunk)
            self.jobs.append(b"".join(chunks))
            self.done.set()

    def close(self) -> None:
        """Stop listening."""
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@contextmanager
def fake_printer() -> Iterator[FakePrinter]:
    """A listening fake printer for the block."""
    printer = FakePrinter()
    try:
        yield printer
    finally:
        printer.close()


def closed_port() -> str:
    """``host:port`` where nothing listens (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"
