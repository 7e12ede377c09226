"""Gas safety: the excess-flow and continuous-flow (leak) shut-offs.

The meter sees gas as litres registered at instants (``Meter.flow``); the
litres of one call passed since the call before (or since the open key opened
the valve). Each such interval has a rate. A *run* is a stretch of intervals
each at the shut-off's rate or above it (excess flow: above
``excess_flow_lph``; leak: at or above ``leak_flow_lph``); an interval below
the rate ends the run. When a run has lasted ``excess_flow_s`` / ``leak_s`` the
valve closes for that reason (``_state.GAS_SAFETY``).

Between calls the meter wakes when a run reaches its time (``due``) and closes
then if the flow has not been seen to stop: the next litre at the threshold
rate is not yet overdue (``3600 / rate`` seconds after the last gas). Otherwise
the next call decides. A shut-off latches in ``Supply.gas`` (persisted): the
open key is refused until the authenticated IR ``clear_tamper`` command, sent
by someone at the meter who has checked the installation. A token does not
clear it: tokens can be bought without anyone looking at the pipes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from stsgas.meter import _state as S  # noqa: N812 -- the tables read as S.X
from stsgas.meter import _valve
from stsgas.meter._core import FlowWatch, MeterCore
from stsgas.meter.events import AlarmChanged, Beep, Buzzer, CloseReason, Events

__all__ = ["FlowWatch", "arm", "clear", "due", "on_wake", "watch_flow"]


#: a run's slack: how far ahead of its rate (litres x 3600) the flow may bank, one litre.
#: A leak that registers one litre a little late is still a flow that never stopped.
SLACK = 3600.0


def arm(m: MeterCore, now: datetime) -> None:
    """The valve just opened: gas from now on is timed from ``now``; a leak run the
    valve shut on (``Supply.leak_run``) goes on, its time while shut not counted."""
    held = m.supply.leak_run
    since = now - timedelta(seconds=held) if held else None
    m.flow_watch = FlowWatch(last_at=now, leak_since=since)
    if held:
        m.put(replace(m.supply, leak_run=0))


def _rules(m: MeterCore) -> list[tuple[CloseReason, datetime | None, float, int, int]]:
    """The shut-offs in force: reason, run start, slack, threshold (L/h), allowed seconds."""
    st, w = m.settings, m.flow_watch
    out: list[tuple[CloseReason, datetime | None, float, int, int]] = []
    if st.excess_flow_lph is not None:
        out.append(
            (CloseReason.EXCESS_FLOW, w.excess_since, w.excess_bank, st.excess_flow_lph,
             st.excess_flow_s)
        )  # fmt: skip
    if st.leak_flow_lph is not None:
        out.append((CloseReason.LEAK, w.leak_since, w.leak_bank, st.leak_flow_lph, st.leak_s))
    return out


def _run(
    since: datetime | None, bank: float, lph: int | None, litres: int, secs: float,
    start: datetime, above: bool,
) -> tuple[datetime | None, float]:  # fmt: skip
    """A run after ``litres`` in ``secs``: its start (None: no run) and slack. The run
    goes on while the gas since it began, plus at most one litre banked, keeps up
    with the rate; ``above``: the rate itself is not enough (excess flow)."""
    if lph is None:
        return None, 0.0
    level = (bank if since is not None else 0.0) + litres * 3600 - lph * secs
    if level > 0 or (level == 0 and not above):
        return since or start, min(SLACK, level)
    return None, 0.0


def watch_flow(m: MeterCore, litres: int, now: datetime, out: Events) -> datetime | None:
    """After ``litres`` registered at ``now``: extend or end each run, and shut off
    when one has lasted its time. The wake-up a run now needs (None: none)."""
    st, w = m.settings, m.flow_watch
    if st.excess_flow_lph is None and st.leak_flow_lph is None:
        return None  # the hot path of a meter without gas safety: nothing to time
    if not m.valve.open:
        m.flow_watch = FlowWatch()
        return None
    if w.last_at is None:  # the first gas since boot: nothing to time it from
        m.flow_watch = FlowWatch(last_at=now)
        return None
    secs = (now - w.last_at).total_seconds()
    ex, ex_bank = _run(
        w.excess_since, w.excess_bank, st.excess_flow_lph, litres, secs, w.last_at, True
    )
    lk, lk_bank = _run(w.leak_since, w.leak_bank, st.leak_flow_lph, litres, secs, w.last_at, False)
    m.flow_watch = FlowWatch(now, ex, lk, ex_bank, lk_bank)
    for reason, since, _, _, limit in _rules(m):
        if since is not None and (now - since).total_seconds() >= limit:
            shut_off(m, reason, now, out)
            return None
    return due(m)


def _wake_at(m: MeterCore, since: datetime, bank: float, lph: int, limit: int) -> datetime | None:
    """When the run from ``since`` reaches its time, if a wake-up then could still
    find the flow going (a litre then would keep the run: not yet overdue)."""
    last = m.flow_watch.last_at
    at = since + timedelta(seconds=limit)
    if last is None or at > last + timedelta(seconds=(bank + 3600) / lph):
        return None
    return at


def due(m: MeterCore) -> datetime | None:
    """The earliest wake-up a run needs (None: no run can close the valve by waiting)."""
    times = [
        at
        for _, since, bank, lph, limit in _rules(m)
        if since is not None and (at := _wake_at(m, since, bank, lph, limit)) is not None
    ]
    return min(times, default=None)


def on_wake(m: MeterCore, at: datetime, out: Events) -> None:
    """A wake-up at ``at``: shut off for a run that has reached its time."""
    if not m.valve.open:
        return
    for reason, since, bank, lph, limit in _rules(m):
        when = None if since is None else _wake_at(m, since, bank, lph, limit)
        if when is not None and at >= when:
            shut_off(m, reason, at, out)
            return


def shut_off(m: MeterCore, reason: CloseReason, now: datetime, out: Events) -> None:
    """Close the valve for a gas-safety reason, latch it, log, alarm and show it."""
    inp, kind, alarm, _ = S.GAS_SAFETY[reason]
    m.log(kind, now, out)
    _valve.move_valve(m, inp, now, out)
    m.put(replace(m.supply, gas=reason, leak_run=0))
    m.flow_watch = FlowWatch()
    m.opened_at = None
    out.append(AlarmChanged(name=alarm, on=True))
    out.append(Buzzer(pattern=Beep.ALARM))
    if not m.keybuf:
        m.show(m.idle_text(), out)
    m.save()


def clear(m: MeterCore, out: Events) -> CloseReason | None:
    """Lift a gas-safety latch (the caller authenticated the command); what it was."""
    was = m.supply.gas
    if was is not None:
        m.put(replace(m.supply, gas=None))
        out.append(AlarmChanged(name=S.GAS_SAFETY[was][2], on=False))
    return was
