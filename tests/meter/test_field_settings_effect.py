"""A field setting changed by IR takes effect at once: credit line, recharge limit,
low-credit sign, battery levels, auto-clean, billing day and time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stsgas.meter import Meter
from stsgas.meter.query import answer
from stsgas.sts import MeterConfig, credit_token

from .meter_support import METER, T0, make
from .test_field_settings import ir

H = timedelta(hours=1)
VEND = MeterConfig.from_json(METER)


def _credit(m: Meter, amount: str, at: datetime) -> str:
    return m.enter_token(credit_token(VEND, amount, at=at).digits, at).code


def _open_with(m: Meter, amount: str) -> None:
    assert _credit(m, amount, T0 + H) == "ok"
    m.open_key(T0 + H)
    assert m.valve_open


def test_new_overdraft_lets_the_valve_stay_open() -> None:
    """With no overdraft the valve closes at zero; after ``overdraft=1`` it runs on to -1."""
    without = make(overdraft="0")
    _open_with(without, "1")
    without.flow(1000, T0 + 2 * H)
    assert (without.valve_open, without.valve_reason) == (False, "credit")

    m = make(overdraft="0")
    _open_with(m, "1")
    assert ir(m, "settings", "overdraft=1", at=T0 + H) == "ok settings 1"
    m.flow(1000, T0 + 2 * H)
    assert m.valve_open
    m.flow(1500, T0 + 3 * H)
    assert (str(m.credit), m.valve_open, m.valve_reason) == ("-1", False, "credit")
    assert answer(m, "11") == "1 1"


def test_lower_overdraft_closes_a_valve_already_past_it() -> None:
    """A valve running on emergency gas closes when the new limit is already used up."""
    m = make()
    _open_with(m, "1")
    m.flow(1500, T0 + 2 * H)
    assert m.valve_open
    assert str(m.credit) == "-0.5"
    assert ir(m, "settings", "overdraft=0.5", at=T0 + 3 * H) == "ok settings 1"
    assert (m.valve_open, m.valve_reason) == (False, "credit")


def test_new_recharge_limit_refuses_a_bigger_token() -> None:
    """A token that would take the credit over the new limit is refused (``limit``)."""
    m = make()
    assert ir(m, "settings", "recharge_limit=10", at=T0 + H) == "ok settings 1"
    assert _credit(m, "11", T0 + H) == "limit"
    assert _credit(m, "10", T0 + H) == "ok"
    assert answer(m, "12") == "10"


def test_new_low_credit_alarm_moves_the_low_sign() -> None:
    """Raising the alarm above the credit puts ``LOW`` on the LCD at once."""
    m = make()
    _open_with(m, "20")
    assert not m.lcd.endswith("LOW")
    assert ir(m, "settings", "low_credit_alarm=25", at=T0 + H) == "ok settings 1"
    assert m.lcd == "CR 20 m3 LOW"
    assert "low_credit" in m.alarms()


def test_raised_battery_level_closes_the_valve() -> None:
    """A battery at 3.45 V is good at level 1 = 3.40 V; at 3.50 V it is low: logged and closed."""
    m = make()
    _open_with(m, "20")
    m.set_battery(3.45, T0 + H)
    assert m.valve_open
    assert ir(m, "settings", "battery_low_1_v=3.50", at=T0 + 2 * H) == "ok settings 1"
    assert (m.valve_open, m.valve_reason) == (False, "battery")
    assert m.events()[-1][0] == "battery_low_1"
    assert m.alarms() == ["battery_low_1"]


def test_auto_clean_interval_moves_the_next_clean() -> None:
    """Auto-clean off (0) -> 7 days: the next clean is 7 days on at the clean hour."""
    m = make()
    assert answer(m, "23") == "-"
    assert ir(m, "settings", "auto_clean_days=7", at=T0 + H) == "ok settings 1"
    assert answer(m, "23") == "2026-01-08 03:00"
    assert ir(m, "settings", "auto_clean_days=0", at=T0 + H) == "ok settings 1"
    assert answer(m, "23") == "-"


def test_new_billing_day_moves_the_next_period_start() -> None:
    """Billing day 1 -> 15 on 1 January: the period now ends at 00:00 on 15 January."""
    m = make()
    assert m.next_deadline() == datetime(2026, 2, 1, tzinfo=UTC)
    assert ir(m, "settings", "billing_day=15", at=T0 + H) == "ok settings 1"
    assert m.next_deadline() == datetime(2026, 1, 15, tzinfo=UTC)


def test_new_time_zone_moves_local_midnight() -> None:
    """UTC -> Africa/Johannesburg (UTC+2): the next period starts at 22:00 UTC the day before."""
    m = make()
    assert ir(m, "settings", "timezone=Africa/Johannesburg", at=T0 + H) == "ok settings 1"
    assert m.next_deadline() == datetime(2026, 1, 31, 22, tzinfo=UTC)
    assert answer(m, "27") == "2026-01-01 03:00 Africa/Johannesburg day 1"


def test_billing_day_already_passed_keeps_one_period() -> None:
    """Day 1 -> 3 on the 5th: the running period takes the new start (the 3rd) and ends
    on 3 February; no short period is written to the monthly record."""
    at = datetime(2026, 1, 5, tzinfo=UTC)
    m = make()
    m.handle_timer(at)
    assert ir(m, "settings", "billing_day=3", at=at) == "ok settings 1"
    assert m.next_deadline() == datetime(2026, 2, 3, tzinfo=UTC)
    m.handle_timer(datetime(2026, 2, 3, tzinfo=UTC))
    assert m.monthly_records() == [("2026-01", 0)]
