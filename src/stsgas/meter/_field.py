"""The signed IR ``settings`` command: field settings, all applied or none.

The caller has checked the MAC and the replay counter. Every value is read and
range-checked (``_state.SETTING_RANGES``) against the meter's settings with the
others of the same command applied, before anything changes; one bad value
refuses the whole command (``err range``) and leaves the counter where it was.
An accepted command moves the counter, keeps the values in the ``cfg`` record
(so they survive power loss), logs one ``setting_changed`` per value that
changed (``name old->new``), and lets each take effect at once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from stsgas.irproto import FrameError, parse_settings
from stsgas.meter import _clock, _valve
from stsgas.meter._core import MeterCore
from stsgas.meter._state import MONTHS
from stsgas.meter.events import Events, LogKind
from stsgas.meter.history import MonthRecord
from stsgas.meter.settings import CV_PER_VOLT, MeterSettings, SettingsError
from stsgas.meter.state import Limits
from stsgas.meter.tariff import MONEY_SCALE
from stsgas.sts import LITRES_PER_M3

__all__ = ["apply_settings", "setting_text"]

#: field setting -> the Limits field it sets (timezone and billing day live in Config)
_LIMIT_FIELD = {
    "overdraft": "overdraft",
    "recharge_limit": "recharge_limit",
    "low_credit_alarm": "low_credit_alarm",
    "auto_clean_days": "clean_days",
    "excess_flow_m3h": "excess_lph",
    "excess_flow_s": "excess_s",
    "leak_flow_m3h": "leak_lph",
    "leak_s": "leak_s",
}
_BATTERY = ("battery_low_1_v", "battery_low_2_v")


def setting_text(st: MeterSettings, tz: str, day: int, name: str) -> str:
    """A setting's value as the command writes it (``off``: a shut-off not set)."""
    lim = st.limits()
    if name == "timezone":
        return tz
    if name == "billing_day":
        return str(day)
    if name in _BATTERY:
        return f"{lim.battery_cv[_BATTERY.index(name)] / CV_PER_VOLT:.2f}"
    value = getattr(lim, _LIMIT_FIELD[name])
    if value is None:
        return "none" if name == "recharge_limit" else "off"
    if name in ("excess_flow_m3h", "leak_flow_m3h"):
        return str(Decimal(value) / LITRES_PER_M3)
    if name in ("overdraft", "recharge_limit", "low_credit_alarm"):
        unit = Decimal(LITRES_PER_M3 if st.mode == "volume" else MONEY_SCALE)
        return str((Decimal(value) / unit).quantize(Decimal("0.001")))
    return str(value)


def _new_state(m: MeterCore, text: str) -> tuple[Limits, str, int]:
    """The limits, zone and billing day the command asks for (SettingsError/FrameError)."""
    st = m.settings
    lim, tz, day = st.limits(), m.config.tz, m.config.billing_day
    for name, value_text in parse_settings(text):
        value = st.parse_field(name, value_text)
        if name == "timezone":
            tz = str(value)
        elif name == "billing_day":
            day = int(str(value))
        elif name in _BATTERY:
            cv = list(lim.battery_cv)
            cv[_BATTERY.index(name)] = int(str(value))
            lim = replace(lim, battery_cv=(cv[0], cv[1]))
        else:
            change: dict[str, Any] = {_LIMIT_FIELD[name]: value}
            lim = replace(lim, **change)
    if not lim.battery_cv[1] < lim.battery_cv[0]:
        raise SettingsError("battery_low_2_v must be below battery_low_1_v")
    return lim, tz, day


def apply_settings(m: MeterCore, text: str, seq: int, now: datetime, out: Events) -> str:
    """Check every value, then apply them all; the IR reply."""
    try:
        lim, tz, day = _new_state(m, text)
    except FrameError:
        return "err format"
    except SettingsError:
        return "err range"
    names = [name for name, _ in parse_settings(text)]
    before = {n: setting_text(m.settings, m.config.tz, m.config.billing_day, n) for n in names}
    old_cfg, old_zone = m.config, m.tz
    m.put(replace(m.lockout, ir_seq=seq), replace(old_cfg, tz=tz, billing_day=day, limits=lim))
    for name in names:
        new = setting_text(m.settings, tz, day, name)
        if new != before[name]:
            m.log(LogKind.SETTING_CHANGED, now, out, f"{name} {before[name]}->{new}")
    _take_effect(m, old_cfg.tz != tz or old_cfg.billing_day != day, old_zone, now, out)
    return f"ok settings {len(names)}"


def _new_period(m: MeterCore, old_tz: ZoneInfo, rtc: datetime) -> int:
    """The running period's start under a new zone or billing day. The period keeps
    its month (its label in the monthly record): when the new calendar's period holding
    ``rtc`` began later in that month, it takes that start; when it began in a later
    month (a zone ahead across a month end), the old month is recorded now; when the
    new calendar puts the start back in a month already recorded (a zone behind, just
    after a period end), the period starts at the new calendar's next start instead.
    So no month is recorded twice or left out."""
    tz, day = m.tz, m.config.billing_day
    old = datetime.fromtimestamp(m.timers.month_start, UTC)
    label = _clock.period_label(old, old_tz)
    start = _clock.period_start(rtc, tz, day)
    if start > old:
        if _clock.period_label(start, tz) > label:
            m.end_month(MonthRecord(label, m.balance.month), MONTHS)
            m.put(replace(m.balance, month=0))
        return int(start.timestamp())
    start = old
    while _clock.period_label(start, tz) < label:
        start = _clock.next_period_start(start, tz, day)
    return int(start.timestamp())


def _take_effect(
    m: MeterCore, calendar: bool, old_tz: ZoneInfo, now: datetime, out: Events
) -> None:
    """Let the new values act now: the billing period and auto-clean follow a new zone,
    day or interval; the credit line and low-credit sign are re-judged (the battery
    levels by the caller, which owns the battery rule)."""
    rtc = m.rtc(now)
    if calendar:
        m.put(replace(m.timers, month_start=_new_period(m, old_tz, rtc)))
    t = m.timers
    days = m.settings.valve_clean_days
    clean = _clock.clean_after(rtc, m.tz, days, m.settings.valve_clean_hour) if days else None
    m.put(replace(t, clean_next=0 if clean is None else int(clean.timestamp())))
    _valve.check_credit(m, now, out)
    if not m.keybuf:
        m.show(m.idle_text(), out)
