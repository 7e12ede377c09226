"""The meter's timers: when it next needs waking, and what runs when it wakes.

Due times are RTC instants turned into true time (``_true_for_rtc``). A timer
that fell due while nobody called (the meter was off, a tariff arrived with its
activation time already past) runs at the wake-up's time: the meter never asks
to be woken in the past (``Meter.next_deadline``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from stsgas.meter import _clock
from stsgas.meter import _state as S  # noqa: N812 -- the tables read as S.X
from stsgas.meter.events import Events
from stsgas.sts import BaseDate

if TYPE_CHECKING:
    from stsgas.meter.meter import Meter

__all__ = ["base_date_end", "deadline", "next_clean_after", "period_end", "run_due"]

MONTHS = 120


def _ts(at: datetime) -> int:
    return int(at.timestamp())


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def base_date_end(bd: int) -> datetime:
    """The first minute a TID of base date ``bd`` cannot name."""
    return BaseDate(bd).last_minute + timedelta(minutes=1)


def next_clean_after(m: Meter, rtc: datetime) -> int:
    """The next auto-clean time (RTC), strictly after ``rtc``; 0 when cleaning is off."""
    days = m.settings.valve_clean_days
    if not days:
        return 0
    return _ts(_clock.clean_after(rtc, m.tz, days, m.settings.valve_clean_hour))


def period_end(m: Meter) -> datetime:
    """When (RTC) the current billing period ends."""
    return _clock.next_period_start(_dt(m.r["month_start"]), m.tz, m.cfg["billing_day"])


def deadline(m: Meter) -> datetime:
    """The earliest due time of every timer (true time; may lie in the past)."""
    r = m.r
    cands = [m._true_for_rtc(_ts(period_end(m)))]
    if r["bd_end"] != m.key["bd"]:
        cands.append(m._true_for_rtc(base_date_end(m.key["bd"]).timestamp()))
    if r["clean_next"]:
        cands.append(m._true_for_rtc(r["clean_next"]))
    if m.key_at is not None and m.keybuf:
        cands.append(m.key_at + S.DIGIT_TIMEOUT)
    if m.kct_at is not None:
        cands.append(m.kct_at + S.KCT_TIMEOUT)
    pending = m.cfg["pending"]
    if pending is not None:
        cands.append(m._true_for_rtc(pending[1]))
    return min(cands)


def run_due(m: Meter, now: datetime, out: Events) -> None:
    """Run every timer due by ``now``, in order, each at its own time or the wake-up's."""
    from stsgas.meter._inputs import clean_valve

    while now >= m._deadline:
        before = m._deadline
        r = m.r
        at = max(m._deadline, m.now)  # a timer already overdue fires now
        rtc = m.rtc(at)
        if m.key_at is not None and at >= m.key_at + S.DIGIT_TIMEOUT and m.keybuf:
            m.keybuf = ""
            m.key_at = None
            m.show(m.idle_text(), out)
        if m.kct_at is not None and at >= m.kct_at + S.KCT_TIMEOUT:
            m.kct.clear()
            m.kct_at = None
        pending = m.cfg["pending"]
        if pending is not None and _ts(rtc) >= pending[1]:
            m.cfg["tariff"] = pending[0]
            m.cfg["pending"] = None
            m._load_tariffs()
            m._dirty.add("cfg")
            m.log("tariff_changed", at, out)
        nxt = period_end(m)
        if _ts(rtc) >= _ts(nxt):
            m.monthly.append([_clock.period_label(_dt(r["month_start"]), m.tz), r["month"]])
            del m.monthly[:-MONTHS]
            r["month"] = 0
            r["month_start"] = _ts(nxt)
            m._dirty.update(("reg", "mon"))
        if r["clean_next"] and _ts(rtc) >= r["clean_next"]:
            r["clean_next"] = next_clean_after(m, rtc)
            m._dirty.add("reg")
            clean_valve(m, at, out)
        if r["bd_end"] != m.key["bd"] and m.base_date_ended(at):
            r["bd_end"] = m.key["bd"]
            m._dirty.add("reg")
            m.log("base_date_expired", at, out)
        m._save()
        m._recompute_deadline()
        if m._deadline <= before:  # nothing moved on: a timer that cannot fire must not spin
            break
