"""Token identifiers and base dates (§6.3.6).

A TID is the number of whole minutes from the base date to the issue time, in
UTC, in 24 bits. The minute 00:01 is reserved and moves to 00:02.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Final

from stsgas.sts.errors import TidError

__all__ = ["TID_MAX", "BaseDate", "datetime_for_tid", "key_expired", "tid_for"]

#: The largest TID: 2**24 - 1 minutes, about 31.9 years.
TID_MAX: Final = (1 << 24) - 1
_MINUTE: Final = timedelta(minutes=1)


class BaseDate(IntEnum):
    """The three base dates of IEC 62055-41; a key is bound to one."""

    #: 1993-01-01 00:00 UTC; ran out 2024-11-24 20:15.
    BD1993 = 1993
    #: 2014-01-01 00:00 UTC; runs out 2045-11-24 20:15.
    BD2014 = 2014
    #: 2035-01-01 00:00 UTC; runs out 2066-11-24 20:15.
    BD2035 = 2035

    @property
    def start(self) -> datetime:
        """The base date itself, as an aware UTC datetime."""
        return datetime(int(self), 1, 1, tzinfo=UTC)

    @property
    def last_minute(self) -> datetime:
        """The last minute a TID can express for this base date."""
        return self.start + TID_MAX * _MINUTE

    @classmethod
    def parse(cls, value: object) -> BaseDate:
        """Accept 1993/2014/2035 as int or str, or a two-digit 93/14/35."""
        try:
            year = int(str(value))
        except ValueError:
            raise TidError(f"unknown base date {value!r}") from None
        year = {93: 1993, 14: 2014, 35: 2035}.get(year, year)
        try:
            return cls(year)
        except ValueError:
            raise TidError(f"unknown base date {value!r}; use 1993, 2014 or 2035") from None


def _aware(at: datetime) -> datetime:
    if not isinstance(at, datetime):
        raise TypeError("issue time must be a datetime")
    if at.tzinfo is None or at.utcoffset() is None:
        raise TidError("issue time must be timezone-aware (TIDs are counted in UTC)")
    return at.astimezone(UTC)


def tid_for(at: datetime, base_date: BaseDate) -> int:
    """The TID of an issue time.

    Raises:
        TidError: naive time, before the base date, or past its last minute.
    """
    utc = _aware(at).replace(second=0, microsecond=0)
    if utc.hour == 0 and utc.minute == 1:
        utc += _MINUTE
    start = base_date.start
    if utc < start:
        raise TidError(f"issue time {utc:%Y-%m-%d %H:%M} is before base date {int(base_date)}")
    tid = int((utc - start) // _MINUTE)
    if tid > TID_MAX:
        raise TidError(
            f"issue time {utc:%Y-%m-%d %H:%M} is past the last minute of base date "
            f"{int(base_date)} ({base_date.last_minute:%Y-%m-%d %H:%M})"
        )
    return tid


def datetime_for_tid(tid: int, base_date: BaseDate) -> datetime:
    """The issue minute (UTC) that a TID stands for."""
    if not 0 <= tid <= TID_MAX:
        raise TidError(f"TID {tid} is outside 0..{TID_MAX}")
    return base_date.start + tid * _MINUTE


def key_expired(tid: int, ken: int) -> bool:
    """The decoder-side key expiry rule: ``TID >> 16 > KEN`` (KEN 255 never expires)."""
    return (tid >> 16) > ken
