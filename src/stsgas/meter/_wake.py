"""The meter's timers: when it next needs waking, and what runs when it wakes.

Due times are RTC instants turned into true time (``_true_for_rtc``). A timer
that fell due while nobody called (the meter was off, a tariff arrived with its
activation time already past) runs at the wake-up's time: the meter never asks
to be woken in the past (``Meter.next_deadline``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from stsgas.meter import _clock, _safety
from stsgas.meter import _state as S  # noqa: N812 -- the tables read as S.X
from stsgas.meter._core import MeterCore
from stsgas.meter._inputs import clean_valve
from stsgas.meter.events import Events, LogKind
from stsgas.meter.history import MonthRecord
from stsgas.sts import BaseDate

__all__ = ["base_date_end", "deadline", "next_clean_after", "period_end", "run_due"]

MONTHS = S.MONTHS


def _ts(at: datetime) -> int:
    return int(at.timestamp())


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def base_date_end(bd: int) -> datetime:
    """The first minute a TID of base date ``bd`` cannot name."""
    return BaseDate(bd).last_minute + timedelta(minutes=1)


def next_clean_after(m: MeterCore, rtc: datetime) -> int:
    """The next auto-clean time (RTC), strictly after ``rtc``; 0 when cleaning is off."""
    days = m.settings.valve_clean_days
    if not days:
        return 0
    return _ts(_clock.clean_after(rtc, m.tz, days, m.settings.valve_clean_hour))


def period_end(m: MeterCore) -> datetime:
    """When (RTC) the current billing period ends."""
    return _clock.next_period_start(_dt(m.timers.month_start), m.tz, m.config.billing_day)


def deadline(m: MeterCore) -> datetime:
    """The earliest due time of every timer (true time; may lie in the past)."""
    t = m.timers
    bd = m.key.base_date
    cands = [m.true_for_rtc(_ts(period_end(m)))]
    if t.bd_end != bd:
        cands.append(m.true_for_rtc(base_date_end(bd).timestamp()))
    if t.clean_next:
        cands.append(m.true_for_rtc(t.clean_next))
    if m.key_at is not None and m.keybuf:
        cands.append(m.key_at + S.DIGIT_TIMEOUT)
    if m.kct_at is not None:
        cands.append(m.kct_at + S.KCT_TIMEOUT)
    pending = m.config.pending
    if pending is not None:
        cands.append(m.true_for_rtc(pending.at))
    gas = _safety.due(m)  # a gas-safety run reaching its time (true time: durations)
    if gas is not None:
        cands.append(gas)
    return min(cands)


def run_due(m: MeterCore, due: datetime, now: datetime, out: Events) -> datetime:
    """Run every timer due by ``now``, in order, each at its own time or the wake-up's;
    the next deadline after them."""
    while now >= due:
        at = max(due, m.now)  # a timer already overdue fires now
        rtc = m.rtc(at)
        if m.key_at is not None and at >= m.key_at + S.DIGIT_TIMEOUT and m.keybuf:
            m.keybuf = ""
            m.key_at = None
            m.show(m.idle_text(), out)
        if m.kct_at is not None and at >= m.kct_at + S.KCT_TIMEOUT:
            m.kct.clear()
            m.kct_at = None
        _safety.on_wake(m, at, out)
        pending = m.config.pending
        if pending is not None and _ts(rtc) >= pending.at:
            m.put(replace(m.config, tariff=pending.tariff, pending=None))
            m.log(LogKind.TARIFF_CHANGED, at, out)
        nxt = period_end(m)
        if _ts(rtc) >= _ts(nxt):
            t = m.timers
            m.end_month(
                MonthRecord(_clock.period_label(_dt(t.month_start), m.tz), m.balance.month), MONTHS
            )
            m.put(replace(m.balance, month=0), replace(t, month_start=_ts(nxt)))
        if m.timers.clean_next and _ts(rtc) >= m.timers.clean_next:
            m.put(replace(m.timers, clean_next=next_clean_after(m, rtc)))
            clean_valve(m, at, out)
        bd = m.key.base_date
        if m.timers.bd_end != bd and m.base_date_ended(at):
            m.put(replace(m.timers, bd_end=bd))
            m.log(LogKind.BASE_DATE_EXPIRED, at, out)
        m.save()
        before, due = due, deadline(m)
        if due <= before:  # nothing moved on: a timer that cannot fire must not spin
            break
    return due
