"""The billing calendar over many zones and instants (property test, fixed seeds)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from stsgas.meter import _clock

ZONES = ["UTC", "Africa/Johannesburg", "Europe/Berlin", "America/Santiago", "Asia/Kolkata",
         "Pacific/Chatham", "America/Havana", "Australia/Lord_Howe"]  # fmt: skip
instants = st.datetimes(
    min_value=datetime(1993, 2, 1), max_value=datetime(2099, 11, 1), timezones=st.just(UTC)
)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(rtc=instants, name=st.sampled_from(ZONES), day=st.integers(1, 28))
def test_every_instant_lies_in_exactly_one_period(rtc: datetime, name: str, day: int) -> None:
    """start <= rtc < next start; the next start is the one after; periods are 28-31
    local days long (DST and zone changes can move them by hours); the start is on the
    billing day in local time (a midnight lost to DST starts the period when the day does)."""
    tz = _clock.zone(name)
    start = _clock.period_start(rtc, tz, day)
    nxt = _clock.next_period_start(start, tz, day)
    assert start <= rtc < nxt
    assert _clock.period_start(nxt, tz, day) == nxt
    assert timedelta(days=27) < nxt - start < timedelta(days=32)
    local = start.astimezone(tz)
    assert local.day == day
    assert local.hour <= 1


@settings(max_examples=200, derandomize=True, deadline=None)
@given(rtc=instants, name=st.sampled_from(ZONES), days=st.integers(1, 60),
       hour=st.integers(0, 23))  # fmt: skip
def test_clean_time_is_after_and_within_one_interval(
    rtc: datetime, name: str, days: int, hour: int
) -> None:
    """The next clean is strictly later, on the local day ``days`` after today (or a
    multiple of it), at the local hour (a DST gap moves it by that hour)."""
    tz = _clock.zone(name)
    nxt = _clock.clean_after(rtc, tz, days, hour)
    assert rtc < nxt <= rtc + timedelta(days=days + 1, hours=2)
    local = nxt.astimezone(tz)
    assert (local.date() - rtc.astimezone(tz).date()).days % days == 0
    assert local.hour in (hour, (hour + 1) % 24)
