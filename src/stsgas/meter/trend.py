"""The hourly trend (record ``hour``): litres per RTC hour, the newest days of them."""

from __future__ import annotations

from array import array
from typing import ClassVar

from stsgas.meter.errors import RecordError

__all__ = ["HourlyTrend"]


class HourlyTrend:
    """Litres per hour (RTC hour numbers), the newest ``days`` days; ``H1`` + int64 pairs.

    A buffer rather than a frozen value: it gains a pair every hour with gas, and
    copying thousands of pairs per hour would cost more than everything else the
    meter does. Only :class:`Meter` changes it.
    """

    __slots__ = ("flat",)

    MAGIC: ClassVar[bytes] = b"H1"

    def __init__(self, flat: array[int] | None = None) -> None:
        #: flat (hour, litres) pairs, oldest first
        self.flat: array[int] = array("q") if flat is None else flat

    def add(self, hour: int, litres: int, days: int) -> bool:
        """Count ``litres`` in ``hour``; True when a new day began (time to persist)."""
        h = self.flat
        if h and h[-2] == hour:
            h[-1] += litres
            return False
        new_day = bool(h) and h[-2] // 24 != hour // 24
        if new_day:
            keep = hour - days * 24
            drop = 0
            while drop < len(h) and h[drop] <= keep:
                drop += 2
            del h[:drop]
        h.append(hour)
        h.append(litres)
        return new_day

    def pairs(self) -> list[tuple[int, int]]:
        """(hour, litres) pairs, oldest first."""
        h = self.flat
        return [(h[i], h[i + 1]) for i in range(0, len(h), 2)]

    def last(self) -> tuple[int, int] | None:
        """The newest (hour, litres) pair."""
        return (self.flat[-2], self.flat[-1]) if self.flat else None

    def to_record(self) -> bytes:
        """The record's bytes."""
        return self.MAGIC + bytes(self.flat.tobytes())

    @classmethod
    def from_record(cls, data: bytes) -> HourlyTrend:
        """The trend from its bytes."""
        if data[:2] != cls.MAGIC or (len(data) - 2) % 16:
            raise RecordError("hourly record has an unknown version")
        flat = array("q")
        flat.frombytes(data[2:])
        return cls(flat)
