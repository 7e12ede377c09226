"""Field probes of the IR settings command and the gas-safety shut-offs: what an
attacker at the IR port, a power cut or a clock change must not achieve."""

from __future__ import annotations

from datetime import UTC, datetime

from stsgas.meter import MemoryStateStore, Meter
from stsgas.meter.events import LogKind
from stsgas.sts import credit_token

from .meter_support import T0, make
from .test_field_settings import ir, snapshot
from .test_gas_safety import VEND, H, S, opened, pulses


def test_leak_run_survives_a_power_cut() -> None:
    """Cutting the power and pressing the open key does not start the leak timer again:
    the run pauses while the valve is shut and goes on when gas flows again."""
    store = MemoryStateStore()
    m, t = opened(store)
    pulses(m, t, 500, 1, 6)  # 50 min of 7.2 L/h
    m.power(False, t + 3050 * S)
    m.flush()
    m = Meter(m.commissioned, store=store, now=t + 3100 * S)
    m.power(True, t + 3100 * S)
    m.open_key(t + 3110 * S)
    assert m.valve_open
    pulses(m, t + 3110 * S, 500, 1, 2)  # 3050 s + 1000 s of run: past the hour
    assert m.valve_reason == "leak"
    assert m.events()[-1][0] == LogKind.LEAK_SHUTOFF


def test_leak_run_survives_a_battery_swap() -> None:
    """A battery swap is a power cut too."""
    m, t = opened()
    pulses(m, t, 500, 1, 6)
    m.replace_battery(3.6, t + 3050 * S)
    m.open_key(t + 3060 * S)
    pulses(m, t + 3060 * S, 500, 1, 2)
    assert m.valve_reason == "leak"


def test_a_stop_while_shut_is_not_carried() -> None:
    """A run whose flow had stopped before the valve shut is not carried over."""
    m, t = opened()
    pulses(m, t, 500, 1, 4)
    m.power(False, t + 2000 * S + 2 * H)  # no gas for two hours before the cut
    m.power(True, t + 2000 * S + 2 * H)
    m.open_key(t + 2000 * S + 2 * H)
    pulses(m, t + 2000 * S + 2 * H, 500, 1, 6)
    assert m.valve_open


def test_leak_timer_ignores_an_ir_clock_change() -> None:
    """Setting the meter's clock back a day mid-run neither restarts nor speeds the run."""
    m, t = opened()
    pulses(m, t, 500, 1, 4)
    assert ir(m, "clock", (t - 24 * H).isoformat(), at=t + 2001 * S) == "ok clock"
    pulses(m, t + 2000 * S, 500, 1, 3)
    assert m.valve_open
    m.handle_timer(t + H)
    assert m.valve_reason == "leak"


def test_settings_during_a_shut_off_keep_it_shut() -> None:
    """Raising the limits by IR while a leak shut-off holds neither opens the valve nor
    lifts the latch: only clear_tamper does."""
    m, t = opened()
    pulses(m, t, 500, 1, 7)
    m.handle_timer(t + H)
    assert m.valve_reason == "leak"
    text = "leak_flow_m3h=1,leak_s=172800,overdraft=50"
    assert ir(m, "settings", text, at=t + 2 * H) == "ok settings 3"
    m.open_key(t + 2 * H)
    assert (m.valve_open, m.valve_reason) == (False, "leak")


def test_counter_at_its_maximum() -> None:
    """The largest counter is taken once; one more is a format error that moves nothing."""
    m = make()
    assert ir(m, "settings", "billing_day=2", at=T0 + H, seq=2**31 - 1) == "ok settings 1"
    before = snapshot(m)
    assert ir(m, "settings", "billing_day=3", at=T0 + H, seq=2**31) == "err format"
    assert ir(m, "settings", "billing_day=3", at=T0 + H, seq=2**31 - 1).startswith("err replay")
    assert snapshot(m)[:4] == before[:4]


def test_excess_flow_exactly_at_the_threshold_is_allowed() -> None:
    """Excess flow is flow *above* the rate: exactly 1 m3/h for ten minutes is not."""
    m, t = opened(leak_flow_m3h="1", leak_s=172800)
    m.flow(1, t + 61 * S)
    pulses(m, t + 61 * S, 36, 10, 17)  # 10 L / 36 s = 1000 L/h
    assert m.valve_open
    pulses(m, t + 673 * S, 35, 10, 2)
    assert m.valve_reason == "excess_flow"


def test_a_one_tick_dip_does_not_restart_the_leak_timer() -> None:
    """A leak that, once in a while, registers its litre a little late (one interval
    just under the rate) is still a flow that never stopped: it must not reset the run."""
    m, t = opened()
    for i in range(8):
        pulses(m, t + i * 1330 * S, 600, 1, 1)
        pulses(m, t + (i * 1330 + 600) * S, 730, 1, 1)
    assert m.valve_reason == "leak"


def test_zone_change_just_after_a_period_end_writes_no_second_month() -> None:
    """UTC -> America/New_York half an hour after January was recorded: local time is
    still 31 January, but January is not recorded twice; the running period is February's
    and ends at the new local midnight on 1 March, with its gas."""
    m = make()
    m.handle_timer(datetime(2026, 2, 1, 0, 30, tzinfo=UTC))
    assert m.monthly_records() == [("2026-01", 0)]
    assert ir(m, "settings", "timezone=America/New_York", at=T0 + 745 * H) == "ok settings 1"
    m.handle_timer(datetime(2026, 3, 2, tzinfo=UTC))
    assert m.monthly_records() == [("2026-01", 0), ("2026-02", 0)]


def test_zone_change_across_a_month_end_records_the_month() -> None:
    """UTC -> Asia/Tokyo late on 31 January UTC (1 February in Tokyo): January is recorded
    (not folded into February), then February runs to Tokyo's 1 March."""
    m = make()
    assert m.enter_token(credit_token(VEND, "100", at=T0 + H).digits, T0 + H).accepted
    m.open_key(T0 + H)
    m.flow(700, T0 + 2 * H)
    at = datetime(2026, 1, 31, 20, tzinfo=UTC)
    assert ir(m, "settings", "timezone=Asia/Tokyo", at=at) == "ok settings 1"
    m.flow(50, at + H)
    m.handle_timer(datetime(2026, 3, 2, tzinfo=UTC))
    assert m.monthly_records() == [("2026-01", 700), ("2026-02", 50)]


def test_a_zone_the_database_dropped_still_boots() -> None:
    """A meter set to a zone name the zone database later drops (legacy links move out of
    the default database) still boots and meters on UTC, credit kept; IR sets a good zone."""
    store = MemoryStateStore()
    m = make(store)
    assert m.enter_token(credit_token(VEND, "10", at=T0 + H).digits, T0 + H).accepted
    assert ir(m, "settings", "timezone=Europe/Kiev", at=T0 + H) == "ok settings 1"
    m.flush()
    records = vars(store)["_records"]
    records["cfg"] = records["cfg"].replace(b"Europe/Kiev", b"Europe/Kiex")  # gone
    m = Meter(m.commissioned, store=store, now=T0 + 2 * H)
    assert m.credit == 10
    assert m.next_deadline() == datetime(2026, 2, 1, tzinfo=UTC)
    assert ir(m, "settings", "timezone=Europe/Kyiv", at=T0 + 3 * H) == "ok settings 1"
    assert m.next_deadline() == datetime(2026, 1, 31, 22, tzinfo=UTC)
