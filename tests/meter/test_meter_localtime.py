"""Local time: the billing period, the monthly records and the auto-clean hour follow
the meter's time zone and billing day; old records without them still load."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stsgas.meter import MemoryStateStore, Meter
from stsgas.meter.events import Logged
from stsgas.meter.settings import MeterSettings, SettingsError

from .meter_support import METER

DATA = Path(__file__).resolve().parents[1] / "data" / "meter"
JHB = {**METER, "timezone": "Africa/Johannesburg", "billing_day": 15}  # UTC+2, no DST


def _meter(doc: dict[str, Any], now: datetime) -> Meter:
    m = Meter.from_json(doc, store=MemoryStateStore(), now=now)
    m.open_key(now)  # no credit: the valve stays shut, flow is written in by hand
    return m


def _wake(m: Meter, until: datetime) -> list[tuple[str, datetime]]:
    out: list[tuple[str, datetime]] = []
    deadline = m.next_deadline()
    while deadline is not None and deadline <= until:
        out += [(e.type, e.at) for e in m.handle_timer(deadline) if isinstance(e, Logged)]
        deadline = m.next_deadline()
    return out


def test_billing_period_starts_at_local_midnight_of_the_billing_day() -> None:
    """Johannesburg, billing day 15: the period turns at 14th 22:00 UTC, not a
    minute earlier, and is recorded under the month it started in (local)."""
    m = _meter(JHB, datetime(2026, 1, 20, tzinfo=UTC))
    m.put(replace(m.balance, month=4200))
    turn = datetime(2026, 2, 14, 22, tzinfo=UTC)
    assert m.next_deadline() == turn
    _wake(m, turn - timedelta(seconds=1))
    assert m.monthly_records() == []
    _wake(m, turn)
    assert m.monthly_records() == [("2026-01", 4200)]
    assert m.registers.month_l == 0
    assert m.next_deadline() == datetime(2026, 3, 14, 22, tzinfo=UTC)


def test_period_follows_daylight_saving_time() -> None:
    """Berlin, day 1: March starts at 23:00 UTC (CET), April at 22:00 UTC (CEST)."""
    m = _meter({**METER, "timezone": "Europe/Berlin"}, datetime(2026, 2, 10, tzinfo=UTC))
    assert m.next_deadline() == datetime(2026, 2, 28, 23, tzinfo=UTC)
    _wake(m, datetime(2026, 3, 15, tzinfo=UTC))
    assert m.next_deadline() == datetime(2026, 3, 31, 22, tzinfo=UTC)
    _wake(m, datetime(2026, 4, 2, tzinfo=UTC))
    assert [mo for mo, _ in m.monthly_records()] == ["2026-02", "2026-03"]


def test_auto_clean_runs_at_the_local_hour() -> None:
    """valve_clean_hour 3 in Johannesburg is 01:00 UTC."""
    doc = {**JHB, "valve_clean_days": 1, "valve_clean_hour": 3}
    m = _meter(doc, datetime(2026, 1, 20, 12, tzinfo=UTC))
    logged = _wake(m, datetime(2026, 1, 21, 12, tzinfo=UTC))
    assert logged == [("valve_cleaned", datetime(2026, 1, 21, 1, tzinfo=UTC))]


def test_query_27_shows_local_time_zone_and_billing_day() -> None:
    """The technician sees the meter's local time and its billing settings."""
    m = _meter(JHB, datetime(2026, 1, 20, 10, tzinfo=UTC))
    for key in "27#":
        m.press(key, datetime(2026, 1, 20, 10, tzinfo=UTC))
    assert m.lcd == "27 2026-01-20 12:00 Africa/Johannesburg day 15"


@pytest.mark.parametrize(
    ("field", "value"),
    [("timezone", "Mars/Olympus"), ("timezone", "../etc/passwd"), ("billing_day", 29),
     ("billing_day", 0), ("valve_clean_hour", 24), ("rtc_drift_ppm", 1e6)],
)  # fmt: skip
def test_bad_clock_settings_are_refused_by_name(field: str, value: object) -> None:
    """A zone the database lacks, a day some month lacks, a bad hour or drift."""
    with pytest.raises(SettingsError, match=field):
        MeterSettings.from_json({**METER, field: value})


def test_records_from_before_the_clock_settings_load() -> None:
    """Records written before version 2 (tests/data/meter/nvm-records-v1.json, made by
    the meter before this change) load: UTC months on the 1st, the overdraft the
    valve was running on still available to the open key, and rewritten as v2."""
    old = json.loads((DATA / "nvm-records-v1.json").read_text())
    recs = {k: bytes.fromhex(v) if k == "hour" else v.encode() for k, v in old["records"].items()}
    store = MemoryStateStore()
    store.commit(recs)
    now = datetime.fromisoformat(old["saved_at"]) + timedelta(hours=1)
    m = Meter.from_json(old["meter"], store=store, now=now)
    assert (m.config.tz, m.config.billing_day) == ("UTC", 1)
    assert m.monthly_records() == [("2026-01", 1500)]
    assert m.next_deadline() == datetime(2026, 3, 1, tzinfo=UTC)
    assert not m.valve_open
    assert m.valve_reason == "power"
    m.open_key(now)
    assert m.valve_open  # emergency gas was in use when the old meter saved
    saved = store.load()
    assert saved is not None
    assert json.loads(saved["cfg"])[0] == 2
    assert json.loads(saved["reg"])[0] == 2
