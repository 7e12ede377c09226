"""The valve's rules: what moves it (through ``_state.VALVE_TABLE``), what may open it
(``_state.OPEN_LOCKS`` and the credit line), emergency gas, and the open-key flow check."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from stsgas.meter import _state as S  # noqa: N812 -- the tables read as S.X
from stsgas.meter._core import MeterCore
from stsgas.meter.events import Alarm, AlarmChanged, Events, LogKind, ValveChanged

__all__ = ["can_open", "check_credit", "check_open_flow", "close_line", "move_valve"]


def close_line(m: MeterCore) -> int:
    """Credit at or below which the valve closes."""
    return -m.settings.overdraft


def move_valve(m: MeterCore, inp: S.ValveInput, now: datetime, out: Events) -> None:
    """Drive the valve through the table, checking the position switch."""
    v = m.valve
    new, reason = S.valve_step(S.ValveState.OPEN if v.open else S.ValveState.CLOSED, inp)
    want_open = new is S.ValveState.OPEN
    if want_open == v.open:
        if not want_open and reason != v.reason and v.reason not in S.STICKY_REASONS:
            m.put(replace(v, reason=reason))
        return
    fault = "open" if want_open else "close"
    if fault in m.valve_fault:
        m.put(replace(v, faults=v.faults + 1))
        m.log(LogKind(f"valve_{fault}_failure"), now, out)
        out.append(ValveChanged(at=now, open=v.open, reason=v.reason, ok=False))
        out.append(AlarmChanged(name=Alarm.VALVE_FAILURE, on=True))
        return
    m.put(replace(v, open=want_open, reason=reason, moves=v.moves + 1))  # M6 counter
    out.append(ValveChanged(at=now, open=want_open, reason=reason))
    if not want_open:
        _hold_leak_run(m, now)


def _hold_leak_run(m: MeterCore, now: datetime) -> None:
    """The valve shut with a leak run going: keep how long it had lasted (NVM), so
    a power cut, a battery swap or an empty credit does not restart the leak timer."""
    w, lph = m.flow_watch, m.settings.leak_flow_lph
    held = 0  # no run, or one whose flow had stopped before the valve shut: none kept
    since, last = w.leak_since, w.last_at
    if (
        lph is not None
        and since is not None
        and last is not None
        and lph * (now - last).total_seconds() <= w.leak_bank + 3600
    ):
        held = max(1, int((now - since).total_seconds()))
    if held != m.supply.leak_run:
        m.put(replace(m.supply, leak_run=held))


def check_credit(m: MeterCore, now: datetime, out: Events) -> None:
    """State-triggered rules: the credit line closes the valve; low credit alarms."""
    track_emergency(m)
    if m.valve.open and m.balance.credit <= close_line(m):
        move_valve(m, S.ValveInput.CREDIT_EXHAUSTED, now, out)
        m.save()


def can_open(m: MeterCore) -> bool:
    """The open key's rules: no lock holds (``_state.OPEN_LOCKS``), and credit is
    positive or emergency gas is on.

    Overdraft (emergency gas) lets an open valve keep running past zero down to
    minus the limit. It never starts from a closed valve at or below zero, but
    once started it lasts until the overdraft is used up or repaid: a valve that
    closed meanwhile for another reason (a power cut, a battery swap, battery
    level 1) opens again on the open key.
    """
    if any(locked(m.supply) for locked in S.OPEN_LOCKS.values()):
        return False
    credit = m.balance.credit
    return credit > 0 or (m.valve.emerg and credit > close_line(m))


def track_emergency(m: MeterCore) -> None:
    """Emergency gas starts when an open valve runs past zero; it ends when the
    credit is positive again (repaid) or reaches the close line (used up)."""
    v = m.valve
    credit = m.balance.credit
    on = v.emerg
    if credit > 0 or credit <= close_line(m):
        on = False
    elif v.open:
        on = True
    if on != v.emerg:
        m.put(replace(v, emerg=on))


def check_open_flow(m: MeterCore, litres: int, now: datetime, out: Events) -> None:
    """M6: flow right after the open key faster than an appliance closes the valve again."""
    opened = m.opened_at
    if opened is None:
        return
    elapsed = (now - opened).total_seconds()
    if elapsed > S.OPEN_CHECK.total_seconds():
        m.opened_at = None
        return
    if litres * 3600 > S.UNCONTROLLED_LPH * max(elapsed, 1.0) and m.valve.open:
        m.opened_at = None
        move_valve(m, S.ValveInput.HIGH_FLOW, now, out)
        m.save()
