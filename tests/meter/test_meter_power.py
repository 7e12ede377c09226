"""Battery and power rules by name: the level-2 lock, the battery swap, and emergency
gas that survives a power cut or a battery swap."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from stsgas.meter import Meter
from stsgas.meter.events import Alarm, AlarmChanged
from stsgas.sts import MeterConfig, credit_token

from .meter_support import METER, T0, make

H = timedelta(hours=1)


@pytest.fixture
def vend() -> MeterConfig:
    """The vending side's view of the test meter."""
    return MeterConfig.from_json(METER)


def _open_with(m: Meter, vend: MeterConfig, m3: str) -> None:
    assert m.enter_token(credit_token(vend, m3, at=T0 + H).digits, T0 + H).accepted
    m.open_key(T0 + H)
    assert m.valve_open


def test_battery_level_2_locks_the_valve_until_replacement(vend: MeterConfig) -> None:
    """Level 2 closes the valve; the open key cannot open it, not even after the
    voltage recovers to between the levels; a replacement lifts the lock."""
    m = make()
    _open_with(m, vend, "10")
    m.set_battery(3.1, T0 + 2 * H)
    assert not m.valve_open
    assert m.valve_reason == "battery"
    m.open_key(T0 + 3 * H)
    assert not m.valve_open
    m.set_battery(3.3, T0 + 4 * H)  # above level 2, still at level 1: not a new battery
    m.open_key(T0 + 5 * H)
    assert not m.valve_open
    assert "battery_low_2" in m.alarms()
    m.set_battery(3.6, T0 + 6 * H)
    assert m.events()[-1][0] == "battery_replacement"
    m.open_key(T0 + 7 * H)
    assert m.valve_open


def test_battery_level_1_closes_once_and_the_customer_reopens(vend: MeterConfig) -> None:
    """Level 1 closes the valve once; the open key opens it again."""
    m = make()
    _open_with(m, vend, "10")
    m.set_battery(3.35, T0 + 2 * H)
    assert m.valve_reason == "battery"
    m.open_key(T0 + 3 * H)
    assert m.valve_open
    m.set_battery(3.3, T0 + 4 * H)
    assert m.valve_open


def test_battery_swap_is_logged_as_replacement_and_lifts_level_2(vend: MeterConfig) -> None:
    """A swap is ``battery_replacement`` (not power down/up), clears both battery
    alarms and the lock; the valve restarts closed until the open key."""
    m = make()
    _open_with(m, vend, "10")
    m.set_battery(3.1, T0 + 2 * H)
    out = m.replace_battery(3.6, T0 + 3 * H)
    assert [k for k, _ in m.events()][-1] == "battery_replacement"
    assert "power_down" not in [k for k, _ in m.events()]
    assert AlarmChanged(name=Alarm.BATTERY_LOW_2, on=False) in out
    assert m.alarms() == []
    m.open_key(T0 + 4 * H)
    assert m.valve_open


def test_battery_swap_of_a_healthy_battery_closes_the_valve_until_the_open_key(
    vend: MeterConfig,
) -> None:
    """Every boot starts closed, also after a swap; a half-typed token is lost."""
    m = make()
    _open_with(m, vend, "10")
    m.press("1", T0 + 2 * H)
    m.replace_battery(3.6, T0 + 2 * H)
    assert (m.valve_open, m.valve_reason, m.keybuf) == (False, "power", "")
    assert m.events()[-1][0] == "battery_replacement"


def test_a_weak_new_battery_is_judged_after_the_swap() -> None:
    """A replacement that is itself at level 1 raises level 1 again."""
    m = make()
    m.replace_battery(3.3, T0 + H)
    assert [k for k, _ in m.events()][-2:] == ["battery_replacement", "battery_low_1"]


def _into_emergency(vend: MeterConfig) -> Meter:
    """1 m3 bought, 2 m3 overdraft: 1.5 m3 used leaves 1.5 m3 of emergency gas."""
    m = make()
    _open_with(m, vend, "1")
    m.flow(1500, T0 + 2 * H)
    assert m.credit == Decimal("-0.5")
    assert m.valve_open
    return m


def test_emergency_gas_survives_a_power_cut(vend: MeterConfig) -> None:
    """Power off closes the valve; power back, the open key opens it while overdraft
    is left, and gas runs on to the limit."""
    m = _into_emergency(vend)
    m.power(False, T0 + 3 * H)
    m.power(True, T0 + 4 * H)
    assert not m.valve_open
    m.open_key(T0 + 5 * H)
    assert m.valve_open
    m.flow(5000, T0 + 6 * H)
    assert m.credit == Decimal(-2)
    assert m.valve_reason == "credit"


def test_emergency_gas_survives_a_battery_swap(vend: MeterConfig) -> None:
    """The same after a battery swap."""
    m = _into_emergency(vend)
    m.replace_battery(3.6, T0 + 3 * H)
    m.open_key(T0 + 4 * H)
    assert m.valve_open


def test_emergency_gas_ends_when_used_up(vend: MeterConfig) -> None:
    """Used up: the valve closes for credit and the open key no longer opens it,
    power cut or not."""
    m = _into_emergency(vend)
    m.flow(5000, T0 + 3 * H)
    assert m.valve_reason == "credit"
    m.power(False, T0 + 4 * H)
    m.power(True, T0 + 5 * H)
    m.open_key(T0 + 6 * H)
    assert not m.valve_open
    assert m.valve.emerg is False


def test_emergency_gas_ends_when_repaid(vend: MeterConfig) -> None:
    """A recharge that repays the overdraft ends emergency gas (credit is positive)."""
    m = _into_emergency(vend)
    assert m.valve.emerg is True
    assert m.enter_token(credit_token(vend, "1", at=T0 + 3 * H).digits, T0 + 3 * H).accepted
    assert m.credit == Decimal("0.5")
    assert m.valve.emerg is False


def test_without_overdraft_there_is_no_emergency_gas(vend: MeterConfig) -> None:
    """At credit zero with no overdraft the valve closes for credit, and stays shut."""
    m = make(overdraft="0")
    _open_with(m, vend, "1")
    m.flow(1000, T0 + 2 * H)
    assert m.valve_reason == "credit"
    m.power(False, T0 + 3 * H)
    m.power(True, T0 + 4 * H)
    m.open_key(T0 + 5 * H)
    assert not m.valve_open
