"""Local dates of the vending side: where a day or a month begins in the utility's zone.

Times are stored and compared in UTC, but people count days and months at
local midnight: the daily report, the monthly fixed charge and the month of a
step tariff's purchases. The zone is the ``STSGAS_TIMEZONE`` setting (an IANA
name, ``UTC`` by default). Each function takes the instant it works on; none
reads the clock.

Midnight does not exist in every zone on every day (a clock that jumps from
23:59 to 01:00): a day then begins at its first real instant, which is what
``zoneinfo`` gives for the missing wall time.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class UnknownTimeZone(ValueError):
    """A time-zone name that is not in the IANA database of this machine."""


#: The utility's zone for the request being served (set by the request guard from
#: ``STSGAS_TIMEZONE``, as the currency's decimals are): the sale path counts its
#: months (step tariff, recharge limit, monthly fixed charge) in it. UTC by default.
vending_zone: ContextVar[tzinfo] = ContextVar("stsgas_vending_zone", default=UTC)


def zone(name: str) -> ZoneInfo:
    """The zone called ``name`` (``Africa/Johannesburg``, ``UTC``), or UnknownTimeZone."""
    if not name or name != name.strip() or name.startswith("/") or ".." in name:
        raise UnknownTimeZone(f"{name!r} is not a time-zone name")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimeZone(
            f"unknown time zone {name!r}: give an IANA name such as Africa/Johannesburg or UTC"
        ) from exc


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("an instant needs its zone (UTC) to be placed in a local day")
    return at


def local_date(at: datetime, tz: tzinfo) -> date:
    """The local calendar date of the instant ``at``."""
    return _aware(at).astimezone(tz).date()


def _midnight(day: date, tz: tzinfo) -> datetime:
    """The UTC instant where local ``day`` begins."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of the local calendar day ``day`` (23, 24 or 25
    hours long around a clock change)."""
    return _midnight(day, tz), _midnight(day + timedelta(days=1), tz)


def month_start(at: datetime, tz: tzinfo) -> datetime:
    """The UTC instant where the local month of ``at`` began: purchases of the month
    (step tariff, recharge limit) count from here."""
    return _midnight(local_date(at, tz).replace(day=1), tz)


def months_between(earlier: datetime, later: datetime, tz: tzinfo) -> int:
    """Local calendar months from ``earlier``'s month to ``later``'s (0: the same month;
    negative when ``later`` is in an earlier month)."""
    a, b = local_date(earlier, tz), local_date(later, tz)
    return (b.year - a.year) * 12 + b.month - a.month
