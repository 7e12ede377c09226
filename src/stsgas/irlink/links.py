"""IR links: the port the IR pad and the meter's IR window talk through.

``IrLink`` is a tiny port ABC (send a frame, receive a frame or time out,
close) with three adapters: :class:`LoopbackIrLink` (an in-memory pair for
tests and the simulator), :class:`SerialIrLink` (pyserial on a device path:
a real IR dongle, or a pseudo-terminal slave) and :class:`FdIrLink` (a raw
file descriptor, used for the master side of a pty).

A serial line carries bytes, not frames, so the stream adapters find frame
ends two ways: a ``split`` function that knows the frame format (returns the
length of the first complete frame in a buffer, or 0), and, as a fallback,
a quiet line for ``idle`` seconds after some bytes (how IR meters end a
frame in practice). The fallback lets a garbage frame with no terminator
still reach the meter, which then answers it with an error.
"""

from __future__ import annotations

import os
import queue
import select
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

import serial

__all__ = ["FdIrLink", "IrLink", "IrLinkClosed", "LoopbackIrLink", "SerialIrLink", "Splitter"]

#: Length of the first complete frame at the start of a buffer, or 0 if none is complete yet.
Splitter = Callable[[bytes], int]


class IrLinkClosed(Exception):
    """The link was closed (by us or by the other end)."""


class IrLink(ABC):
    """A frame link: what the IR pad and the meter's IR server need from a port."""

    @abstractmethod
    def send(self, frame: bytes) -> None:
        """Send one frame."""

    @abstractmethod
    def receive(self, timeout: float | None) -> bytes | None:
        """The next frame, or ``None`` if none arrived within ``timeout`` seconds."""

    @abstractmethod
    def close(self) -> None:
        """Release the port; further calls raise :class:`IrLinkClosed`."""

    def __enter__(self) -> IrLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LoopbackIrLink(IrLink):
    """One end of an in-memory link; frames keep their boundaries. Thread-safe."""

    def __init__(self, inbox: queue.Queue[bytes | None], outbox: queue.Queue[bytes | None]) -> None:
        self._inbox = inbox
        self._outbox = outbox
        self._closed = False

    @classmethod
    def pair(cls) -> tuple[LoopbackIrLink, LoopbackIrLink]:
        """Two connected ends: what one sends, the other receives."""
        a: queue.Queue[bytes | None] = queue.Queue()
        b: queue.Queue[bytes | None] = queue.Queue()
        return cls(a, b), cls(b, a)

    def send(self, frame: bytes) -> None:
        if self._closed:
            raise IrLinkClosed("link closed")
        self._outbox.put(bytes(frame))

    def receive(self, timeout: float | None) -> bytes | None:
        if self._closed:
            raise IrLinkClosed("link closed")
        try:
            frame = self._inbox.get(timeout=timeout)
        except queue.Empty:
            return None
        if frame is None:  # the other end closed
            self._closed = True
            raise IrLinkClosed("peer closed")
        return frame

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._outbox.put(None)


class _StreamIrLink(IrLink):
    """Framing over a byte stream: a format-aware ``split`` plus an idle-gap fallback."""

    def __init__(self, *, split: Splitter | None, idle: float) -> None:
        self._split = split
        self._idle = idle
        self._buffer = b""
        self._closed = False

    @abstractmethod
    def _read(self, timeout: float) -> bytes:
        """Bytes that arrive within ``timeout`` seconds (b"" if none)."""

    @abstractmethod
    def _write(self, data: bytes) -> None: ...

    def _take_frame(self) -> bytes | None:
        if self._split is None or not self._buffer:
            return None
        n = self._split(self._buffer)
        if n <= 0:
            return None
        frame, self._buffer = self._buffer[:n], self._buffer[n:]
        return frame

    def send(self, frame: bytes) -> None:
        if self._closed:
            raise IrLinkClosed("link closed")
        self._write(frame)

    def receive(self, timeout: float | None) -> bytes | None:
        if self._closed:
            raise IrLinkClosed("link closed")
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            frame = self._take_frame()
            if frame is not None:
                return frame
            wait = 3600.0 if deadline is None else deadline - time.monotonic()
            if self._buffer:  # part of a frame: wait at most one idle gap for the rest
                wait = min(wait, self._idle) if deadline is not None else self._idle
            if wait <= 0 and not self._buffer:
                return None
            chunk = self._read(max(wait, 0.0))
            if chunk:
                self._buffer += chunk
            elif self._buffer:  # the line went quiet: the frame is what we have
                frame, self._buffer = self._buffer, b""
                return frame
            elif deadline is not None and time.monotonic() >= deadline:
                return None


class SerialIrLink(_StreamIrLink):
    """pyserial on a device path: an IR dongle, or the slave end of a pty."""

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 9600,
        split: Splitter | None = None,
        idle: float = 0.05,
    ) -> None:
        super().__init__(split=split, idle=idle)
        self._serial = serial.Serial(port, baudrate=baudrate, timeout=0)

    def _read(self, timeout: float) -> bytes:
        self._serial.timeout = timeout
        first: bytes = self._serial.read(1)
        if not first:
            return b""
        self._serial.timeout = 0
        rest: bytes = self._serial.read(4096)
        return first + rest

    def _write(self, data: bytes) -> None:
        self._serial.write(data)
        self._serial.flush()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._serial.close()


class FdIrLink(_StreamIrLink):
    """A raw file descriptor (the master end of a pty); the caller owns the descriptor."""

    def __init__(self, fd: int, *, split: Splitter | None = None, idle: float = 0.05) -> None:
        super().__init__(split=split, idle=idle)
        self._fd = fd

    def _read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self._fd, 4096)
        except OSError as exc:  # EIO: every slave end closed
            raise IrLinkClosed(str(exc)) from exc

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]

    def close(self) -> None:
        self._closed = True
