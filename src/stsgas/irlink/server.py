"""MeterIrServer: a virtual meter's IR window on an :class:`IrLink`.

The meter core is sans-IO; this adapter is the IO half. It reads frames from
the link, reads the clock (the meter never does), hands each frame to
``meter.receive_ir(data, now)`` and writes the reply back. Between frames it
fires the meter's own timers, so a meter served on a pty keeps its clock-
driven behaviour (digit timeout, month rollover, auto-clean) while idle.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from stsgas.irlink.links import IrLink, IrLinkClosed

__all__ = ["IrMeter", "MeterIrServer", "system_clock"]


class IrMeter(Protocol):
    """What the server needs from a meter."""

    def receive_ir(self, data: bytes, now: datetime) -> object: ...

    def next_deadline(self) -> datetime | None: ...

    def handle_timer(self, now: datetime) -> object: ...


def system_clock() -> datetime:
    """The wall clock in UTC (the adapter's clock; tests pass their own)."""
    return datetime.now(UTC)


def reply_bytes(result: object) -> bytes | None:
    """The reply frame in what ``receive_ir`` returned (bytes, or an object with ``reply``)."""
    if result is None or isinstance(result, bytes | bytearray):
        return bytes(result) if result else None
    reply = getattr(result, "reply", None)
    return bytes(reply) if reply else None


class MeterIrServer:
    """Serve ``meter`` on ``link``: each received frame gets the meter's reply.

    Args:
        lock: shared with any other thread driving the same meter (the TUI).
        poll: the longest wait between looks at the meter's timers (seconds).
    """

    def __init__(
        self,
        meter: IrMeter,
        link: IrLink,
        *,
        clock: Callable[[], datetime] = system_clock,
        lock: threading.Lock | None = None,
        poll: float = 0.5,
        tick: bool = True,
    ) -> None:
        self.meter = meter
        self.link = link
        self.clock = clock
        self.lock = lock or threading.Lock()
        self.poll = poll
        self.tick = tick
        self.frames = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def serve_one(self, timeout: float) -> bool:
        """Handle at most one frame (and due timers); False if none arrived."""
        if self.tick:
            self._fire_timers()
        frame = self.link.receive(timeout)
        if frame is None:
            return False
        with self.lock:
            result = self.meter.receive_ir(frame, self.clock())
        self.frames += 1
        reply = reply_bytes(result)
        if reply:
            delay = getattr(result, "delay", 0.0)  # a 62056-21 answer after the baud switch-over
            if delay and self._stop.wait(delay):
                return True
            self.link.send(reply)
        return True

    def _fire_timers(self) -> None:
        with self.lock:
            now = self.clock()
            deadline = self.meter.next_deadline()
            while deadline is not None and deadline <= now:
                self.meter.handle_timer(deadline)
                later = self.meter.next_deadline()
                if later is not None and later <= deadline:
                    break  # a meter that does not move its timer on: do not spin
                deadline = later

    def serve_forever(self) -> None:
        """Serve until :meth:`stop` or the link closes."""
        try:
            while not self._stop.is_set():
                self.serve_one(self.poll)
        except IrLinkClosed:
            return

    def start(self) -> MeterIrServer:
        """Serve on a daemon thread."""
        self._thread = threading.Thread(target=self.serve_forever, name="ir-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread (within one poll)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5 * self.poll + 1)
            self._thread = None
