"""The meter's calendar: billing periods and auto-clean times in the meter's local time.

The RTC counts UTC. A utility bills by the local calendar, so the monthly step
reset (00:00 on the billing day) and the auto-clean hour are local wall-clock
times in the meter's IANA time zone, turned into UTC instants here. Every
comparison is made between UTC instants: two datetimes that share a tzinfo
compare by wall clock, which is wrong across a DST change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "EARLIEST", "LATEST", "clean_after", "in_range", "next_period_start", "period_label",
    "period_start", "zone",
]  # fmt: skip

#: the meter's clock range: the first STS base date up to 2100 (calendar sums stay in range)
EARLIEST = datetime(1993, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def in_range(at: datetime) -> bool:
    """``at`` lies in the range the meter's clock can hold."""
    return EARLIEST <= at < LATEST


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (ValueError for a name the zone database lacks)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise ValueError(f"unknown time zone {name!r} (an IANA name like Africa/Johannesburg)")


def _utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of local wall time ``day at`` (a time in a DST gap takes fold 0)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _month(year: int, month: int, shift: int) -> tuple[int, int]:
    n = year * 12 + month - 1 + shift
    return n // 12, n % 12 + 1


def period_start(rtc: datetime, tz: ZoneInfo, billing_day: int) -> datetime:
    """The start (UTC) of the billing period holding RTC time ``rtc``."""
    local = rtc.astimezone(tz)
    year, month = local.year, local.month
    start = _utc(date(year, month, billing_day), time(0), tz)
    if start > rtc:
        year, month = _month(year, month, -1)
        start = _utc(date(year, month, billing_day), time(0), tz)
    return start


def next_period_start(start: datetime, tz: ZoneInfo, billing_day: int) -> datetime:
    """The first period start strictly after ``start`` (00:00 local on the billing day)."""
    local = start.astimezone(tz)
    year, month = local.year, local.month
    for shift in (0, 1, 2):
        y, m = _month(year, month, shift)
        cand = _utc(date(y, m, billing_day), time(0), tz)
        if cand > start:
            return cand
    raise AssertionError("a billing period is shorter than three months")  # pragma: no cover


def period_label(start: datetime, tz: ZoneInfo) -> str:
    """A period's name in the monthly record: YYYY-MM of its local start."""
    local = start.astimezone(tz)
    return f"{local.year:04d}-{local.month:02d}"


def clean_after(rtc: datetime, tz: ZoneInfo, days: int, hour: int) -> datetime:
    """The next auto-clean (UTC): ``hour`` local, every ``days`` days, strictly after ``rtc``."""
    day = rtc.astimezone(tz).date() + timedelta(days=days)
    nxt = _utc(day, time(hour), tz)
    while nxt <= rtc:
        day += timedelta(days=days)
        nxt = _utc(day, time(hour), tz)
    return nxt
