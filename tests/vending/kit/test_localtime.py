"""Local days and months (``STSGAS_TIMEZONE``): where the daily report and the monthly
charges begin, also across clock changes and in zones east and west of UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsgas.vending.kit.localtime import (
    UnknownTimeZone,
    day_bounds,
    local_date,
    month_start,
    months_between,
    zone,
)
from stsgas.vending.settings import Settings

ZONES = st.sampled_from(
    [
        "UTC",
        "Africa/Johannesburg",
        "Europe/London",
        "America/Santiago",  # clock changes at midnight: some local days have no 00:00
        "Asia/Kathmandu",  # +05:45
        "Pacific/Kiritimati",  # +14
        "Pacific/Pago_Pago",  # -11
        "America/St_Johns",  # -03:30 with summer time
    ]
)
INSTANTS = st.datetimes(
    min_value=datetime(1990, 1, 2), max_value=datetime(2090, 12, 30), timezones=st.just(UTC)
)


@given(INSTANTS, ZONES)
def test_an_instant_lies_in_its_local_day(at: datetime, name: str) -> None:
    """The bounds of an instant's local day contain it, and that day is 23 to 25 hours."""
    tz = zone(name)
    start, end = day_bounds(local_date(at, tz), tz)
    assert start <= at < end
    assert timedelta(hours=22) <= end - start <= timedelta(hours=25)


@given(INSTANTS, ZONES)
def test_the_month_begins_before_the_instant_on_the_first(at: datetime, name: str) -> None:
    """A month starts at or before the instant, on the 1st of its local month, and the
    instant just before that start is in the previous local month."""
    tz = zone(name)
    start = month_start(at, tz)
    assert start <= at
    assert local_date(start, tz) == local_date(at, tz).replace(day=1)
    assert months_between(start - timedelta(microseconds=1), at, tz) == 1
    assert months_between(start, at, tz) == 0


def test_a_sale_late_in_utc_is_next_day_east_of_utc() -> None:
    """23:30 UTC on 31 January is 1 February in Johannesburg (UTC+2): a new day and a
    new month there, the same day and month in UTC."""
    at = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    joburg = zone("Africa/Johannesburg")
    assert local_date(at, joburg) == date(2026, 2, 1)
    assert month_start(at, joburg) == datetime(2026, 1, 31, 22, 0, tzinfo=UTC)
    assert month_start(at, UTC) == datetime(2026, 1, 1, tzinfo=UTC)
    assert months_between(datetime(2026, 1, 15, tzinfo=UTC), at, joburg) == 1
    assert months_between(datetime(2026, 1, 15, tzinfo=UTC), at, UTC) == 0


def test_a_day_without_midnight_begins_at_its_first_instant() -> None:
    """Santiago moved its clocks from 24:00 to 01:00 on 2022-09-11: that day begins at
    01:00 local (04:00 UTC) and has 23 hours."""
    tz = zone("America/Santiago")
    start, end = day_bounds(date(2022, 9, 11), tz)
    assert start == datetime(2022, 9, 11, 4, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=23)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", " UTC", "../etc/passwd", "/UTC"])
def test_an_unknown_zone_is_refused(name: str) -> None:
    """A name that is not an IANA zone is a clear error, in the library and the setting."""
    with pytest.raises(UnknownTimeZone):
        zone(name)
    with pytest.raises(ValueError, match=r"time zone|time-zone"):
        Settings(timezone=name)


def test_naive_instants_are_refused() -> None:
    """A time without a zone cannot be placed in a local day."""
    with pytest.raises(ValueError, match="zone"):
        local_date(datetime(2026, 1, 1), UTC)


def test_the_setting_defaults_to_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """STSGAS_TIMEZONE sets the zone; without it the vending side counts in UTC."""
    monkeypatch.delenv("STSGAS_TIMEZONE", raising=False)
    assert Settings().zone == zone("UTC")
    monkeypatch.setenv("STSGAS_TIMEZONE", "Africa/Johannesburg")
    assert Settings().zone == zone("Africa/Johannesburg")
