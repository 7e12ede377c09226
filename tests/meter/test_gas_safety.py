"""Gas safety: excess-flow and continuous-flow (leak) shut-offs, their log, alarm, LCD,
wake-up, latch through power loss, and the rule that reopens the valve."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from stsgas.meter import MemoryStateStore, Meter
from stsgas.meter.events import Alarm, AlarmChanged, Logged, LogKind
from stsgas.meter.settings import SettingsError
from stsgas.sts import MeterConfig, clear_tamper_token, credit_token

from .meter_support import METER, T0, make
from .test_field_settings import ir

S = timedelta(seconds=1)
H = timedelta(hours=1)
VEND = MeterConfig.from_json(METER)
#: excess flow above 1 m3/h for 30 s; leak at 5 L/h or more for an hour
SAFE = {"excess_flow_m3h": "1", "excess_flow_s": 30, "leak_flow_m3h": "0.005", "leak_s": 3600}


def opened(store: MemoryStateStore | None = None, **over: object) -> tuple[Meter, datetime]:
    """A meter with 100 m3 of credit, its valve opened by the open key; the opening time."""
    m = make(store, **{**SAFE, **over})
    assert m.enter_token(credit_token(VEND, "100", at=T0 + H).digits, T0 + H).accepted
    m.open_key(T0 + H)
    assert m.valve_open
    return m, T0 + H


def pulses(m: Meter, start: datetime, every_s: float, litres: int, count: int) -> list[object]:
    """``count`` flows of ``litres`` each ``every_s`` seconds after ``start``; all events."""
    out: list[object] = []
    for i in range(1, count + 1):
        at = start + timedelta(seconds=every_s * i)
        due = m.next_deadline()
        if due is not None and due <= at:
            out += m.handle_timer(due)
        out += m.flow(litres, at)
    return out


def test_excess_flow_closes_after_its_time() -> None:
    """10 L every 10 s (3.6 m3/h) from just after the open key's check closes at 30 s of it."""
    m, t = opened()
    m.flow(1, t + 61 * S)  # a slow start, past the open key's own flow check (A15)
    events = pulses(m, t + 61 * S, 10, 10, 2)
    assert m.valve_open
    events += pulses(m, t + 81 * S, 10, 10, 1)
    assert (m.valve_open, m.valve_reason) == (False, "excess_flow")
    assert m.events()[-1] == (LogKind.EXCESS_FLOW, t + 91 * S)
    assert AlarmChanged(name=Alarm.EXCESS_FLOW, on=True) in events
    assert m.alarms() == [Alarm.EXCESS_FLOW]
    assert m.lcd == "CR 99.969 m3 FLOW"


def test_flow_just_under_the_excess_rate_never_closes() -> None:
    """5 L every 20 s is 0.9 m3/h: an hour of it leaves the valve open (no leak rule here)."""
    m, t = opened(leak_flow_m3h="1", leak_s=172800)
    m.flow(1, t + 61 * S)
    pulses(m, t + 61 * S, 20, 5, 180)
    assert m.valve_open
    assert LogKind.EXCESS_FLOW not in [k for k, _ in m.events()]


def test_a_pause_ends_an_excess_run() -> None:
    """20 s over the rate, 30 s slow, 20 s over again: no run lasts 30 s, no shut-off."""
    m, t = opened()
    m.flow(1, t + 61 * S)
    pulses(m, t + 61 * S, 10, 10, 2)
    pulses(m, t + 81 * S, 30, 1, 1)
    pulses(m, t + 111 * S, 10, 10, 2)
    assert m.valve_open


def test_the_meter_wakes_for_an_excess_run() -> None:
    """Between two flows the meter asks to be woken when the run reaches its time, and
    closes then: the flow has not been seen to stop."""
    m, t = opened(excess_flow_m3h="0.5", excess_flow_s=12)
    m.flow(1, t + 100 * S)
    pulses(m, t + 100 * S, 5, 3, 2)  # 2.16 m3/h; the run started at t + 100 s
    assert m.valve_open
    assert m.next_deadline() == t + 112 * S
    m.handle_timer(t + 112 * S)
    assert m.valve_reason == "excess_flow"
    assert m.events()[-1] == (LogKind.EXCESS_FLOW, t + 112 * S)


def test_leak_closes_when_flow_never_stops() -> None:
    """1 L every 500 s (7.2 L/h) from the opening: the meter wakes at one hour and closes."""
    m, t = opened()
    pulses(m, t, 500, 1, 7)
    assert m.valve_open
    assert m.next_deadline() == t + H
    events = m.handle_timer(t + H)
    assert (m.valve_open, m.valve_reason) == (False, "leak")
    assert [e.type for e in events if isinstance(e, Logged)] == [LogKind.LEAK_SHUTOFF]
    assert AlarmChanged(name=Alarm.LEAK, on=True) in events
    assert m.alarms() == [Alarm.LEAK]
    assert m.lcd.endswith(" LEAK")


def test_flow_under_the_leak_rate_never_closes() -> None:
    """1 L every 900 s is 4 L/h, under 5 L/h: ten hours of it leave the valve open."""
    m, t = opened()
    pulses(m, t, 900, 1, 40)
    assert m.valve_open
    assert LogKind.LEAK_SHUTOFF not in [k for k, _ in m.events()]


def test_flow_that_stops_is_not_a_leak() -> None:
    """33 min of slow flow, a 25-minute stop (longer than two litres take at 5 L/h), then
    more: the run starts again after the stop and closes the valve an hour after it."""
    m, t = opened()
    pulses(m, t, 500, 1, 4)
    pulses(m, t + 2000 * S, 1500, 1, 1)  # 2.4 L/h over the stop: the run ends
    pulses(m, t + 3500 * S, 500, 1, 6)  # 50 min more: under an hour since the stop
    assert m.valve_open
    pulses(m, t + 6500 * S, 500, 1, 2)
    assert m.valve_reason == "leak"
    assert m.events()[-1] == (LogKind.LEAK_SHUTOFF, t + 7100 * S)


def test_a_wake_up_cannot_tell_a_short_pause_from_a_leak() -> None:
    """The rule errs on the safe side: at the leak time the last litre came 600 s ago, less
    than the 720 s one litre takes at 5 L/h, so the flow counts as not stopped."""
    m, t = opened()
    pulses(m, t, 500, 1, 6)
    assert m.next_deadline() == t + H
    m.handle_timer(t + H)
    assert m.valve_reason == "leak"


def test_shut_off_holds_until_the_ir_clear_command() -> None:
    """The open key and a clear-tamper token leave it shut, as does a restart; the signed IR
    clear_tamper lifts the latch and clears the alarm, then the open key opens."""
    store = MemoryStateStore()
    m, t = opened(store)
    pulses(m, t, 500, 1, 7)
    m.handle_timer(t + H)
    assert m.valve_reason == "leak"
    m.open_key(t + 2 * H)
    assert (m.valve_open, m.lcd) == (False, "CR 99.993 m3 LEAK OFF")
    token = clear_tamper_token(VEND, at=t + 2 * H).digits
    assert m.enter_token(token, t + 2 * H).accepted
    m.open_key(t + 2 * H)
    assert not m.valve_open
    m.power(False, t + 3 * H)
    m.flush()
    m = Meter(m.commissioned, store=store, now=t + 4 * H)
    m.power(True, t + 4 * H)
    m.open_key(t + 4 * H)
    assert (m.valve_open, m.alarms()) == (False, [Alarm.LEAK])
    out = m.receive_ir(_signed_clear(m), t + 5 * H)
    assert AlarmChanged(name=Alarm.LEAK, on=False) in out
    assert m.event_log.entries[-1].detail == "gas leak"
    assert m.alarms() == []
    m.open_key(t + 5 * H)
    assert m.valve_open
    assert m.lcd == "CR 99.993 m3"


def _signed_clear(m: Meter) -> bytes:
    from stsgas.irproto import encode_frame, signed

    return encode_frame(signed(m.key.value, "clear_tamper", m.lockout.ir_seq + 1))


def test_shut_offs_are_set_by_the_settings_command() -> None:
    """A meter commissioned without them gets them by IR, and they act."""
    m = make()
    assert m.enter_token(credit_token(VEND, "100", at=T0 + H).digits, T0 + H).accepted
    text = "leak_flow_m3h=0.002,leak_s=600"
    assert ir(m, "settings", text, at=T0 + H) == "ok settings 2"
    m.open_key(T0 + H)
    pulses(m, T0 + H, 300, 1, 2)
    assert m.valve_reason == "leak"


def test_no_shut_off_when_not_set() -> None:
    """The commissioning default is off: a day of steady flow does not close the valve."""
    m = make()
    assert m.enter_token(credit_token(VEND, "100", at=T0 + H).digits, T0 + H).accepted
    m.open_key(T0 + H)
    pulses(m, T0 + H, 600, 5, 144)
    assert m.valve_open


@pytest.mark.parametrize(
    "over",
    [{"excess_flow_m3h": "0.4"}, {"excess_flow_s": 4}, {"leak_flow_m3h": "2"}, {"leak_s": 10}],
)
def test_scenario_meter_values_are_range_checked(over: dict[str, Any]) -> None:
    """The scenario ``meter`` object's gas-safety values obey the same safe ranges."""
    with pytest.raises(SettingsError, match=next(iter(over))):
        make(**over)
