"""The simulator's clock: a heap of (at, seq, step), and the aioquic-style jump loop.

Nothing sleeps. The loop takes the earliest of the meter's own deadline and
the next scheduled step, moves to that moment, and acts. ``seq`` keeps steps
at one instant in the order they were scheduled, so a run is reproducible.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

__all__ = ["Step", "Tickable", "Timeline", "run_until"]

#: A scheduled action; it may schedule further steps on the timeline.
Step = Callable[[datetime], None]


class Tickable(Protocol):
    """What the loop needs from a meter: its next timer and a way to fire it."""

    def next_deadline(self) -> datetime | None: ...

    def handle_timer(self, now: datetime) -> object: ...


class Timeline:
    """Steps ordered by time, then by scheduling order."""

    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, Step]] = []
        self._seq = 0

    def schedule(self, at: datetime, step: Step) -> None:
        """Run ``step(at)`` when the clock reaches ``at``."""
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, step))

    def next_time(self) -> datetime | None:
        """When the next step is due, or ``None`` if nothing is scheduled."""
        return self._heap[0][0] if self._heap else None

    def pop(self) -> tuple[datetime, Step]:
        """Remove and return the next step."""
        at, _, step = heapq.heappop(self._heap)
        return at, step

    def __len__(self) -> int:
        return len(self._heap)


def run_until(
    meter: Tickable,
    timeline: Timeline,
    end: datetime,
    *,
    after_timer: Callable[[datetime, object], None] | None = None,
) -> int:
    """Run steps and meter timers in time order up to (not including) ``end``.

    A meter deadline at the same instant as a step fires first: the meter's
    own housekeeping (month rollover, digit timeout) is due before anything
    new happens at that moment. Returns the number of timers fired.
    """
    timers = 0
    heap = timeline._heap  # the hot loop: read the heap directly
    while True:
        deadline = meter.next_deadline()
        step_at = heap[0][0] if heap else None
        if deadline is not None and (step_at is None or deadline <= step_at):
            if deadline >= end:
                return timers
            result = meter.handle_timer(deadline)
            timers += 1
            if after_timer is not None:
                after_timer(deadline, result)
            continue
        if step_at is None or step_at >= end:
            return timers
        at, _, step = heapq.heappop(heap)
        step(at)
