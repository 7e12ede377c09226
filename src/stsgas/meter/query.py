"""Query codes: 2 digits + Enter (or IR ``query NN``) show one value on the LCD."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from stsgas.meter._core import MeterCore
from stsgas.meter.tariff import units_to_money
from stsgas.sts import LITRES_PER_M3

__all__ = ["CODES", "answer"]

FIRMWARE = "stsgas-meter 1.0"


def _m3(litres: int) -> str:
    return f"{Decimal(litres) / LITRES_PER_M3} m3"


def _when(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M") if ts else "-"


def _step(m: MeterCore) -> str:
    """A price is money in either mode (``m.fmt`` would read it as litres on a volume meter)."""
    i = m.tariff.step_at(m.balance.month)
    return f"step {i + 1} {units_to_money(m.tariff.steps[i].price)}/m3"


def _tariff(m: MeterCore) -> str:
    return " ".join(f"{s['up_to_m3'] or '-'}:{s['price']}" for s in m.config.tariff.to_json())


def _last_event(m: MeterCore) -> str:
    if not m.event_log.entries:
        return "-"
    e = m.event_log.entries[-1]
    return f"{e.kind} {_when(e.at)}"


def _last_hour(m: MeterCore) -> str:
    last = m.trend.last()
    return "-" if last is None else f"{_when(last[0] * 3600)} {_m3(last[1])}"


#: code -> (what it shows, how)
CODES: dict[str, tuple[str, Callable[[MeterCore], str]]] = {
    "01": ("remaining credit", lambda m: str(m.fmt(m.balance.credit))),
    "02": ("total consumption", lambda m: _m3(m.balance.total)),
    "03": ("this month's consumption", lambda m: _m3(m.balance.month)),
    "04": ("last month's consumption", lambda m: _m3(m.monthly[-1].litres) if m.monthly else "-"),
    "05": ("current tariff step and price", _step),
    "06": ("meter number (PAN)", lambda m: m.key.pan),
    "07": ("date and time (RTC, UTC)", lambda m: m.rtc(m.now).strftime("%Y-%m-%d %H:%M:%S")),
    "08": ("battery voltage and level", lambda m: f"{m.supply.bat_v:.2f}V L{m.supply.bat}"),
    "09": ("valve state and why", lambda m: "open" if m.valve.open else f"closed {m.valve.reason}"),
    "10": (
        "last recharge (amount, time)",
        lambda m: f"{m.fmt(m.balance.last_amt)} {_when(m.balance.last_at)}",
    ),
    "11": (
        "overdraft limit and used",
        lambda m: f"{m.fmt(m.settings.overdraft)} {m.fmt(max(0, -m.balance.credit))}",
    ),
    "12": (
        "recharge limit",
        lambda m: (
            str(m.fmt(m.settings.recharge_limit))
            if m.settings.recharge_limit is not None
            else "none"
        ),
    ),
    "13": ("low-credit alarm value", lambda m: str(m.fmt(m.settings.low_credit_alarm))),
    "14": ("tariff steps (up to m3 : price)", _tariff),
    "15": (
        "last event",
        lambda m: _last_event(m),
    ),
    "16": (
        "monthly history (last 3 months)",
        lambda m: (
            " ".join(f"{mo.label}:{Decimal(mo.litres) / LITRES_PER_M3}" for mo in m.monthly[-3:])
            or "-"
        ),
    ),
    "17": (
        "key data (SGC TI KRN KT base date)",
        lambda m: f"{m.key.sgc} {m.key.ti} {m.key.krn} {m.key.kt} {m.key.base_date}",
    ),
    "18": ("last 3 TIDs", lambda m: " ".join(str(t) for t in m.tids[-3:]) or "-"),
    "19": ("tamper state", lambda m: "tamper" if m.supply.tamper else "ok"),
    "20": ("firmware version", lambda m: FIRMWARE),
    "21": (
        "token entry lockout (failures, until)",
        lambda m: f"{m.lockout.fail} {_when(m.lockout.lock_until)}",
    ),
    "22": (
        "last hourly record",
        lambda m: _last_hour(m),
    ),
    "23": ("next valve auto-clean", lambda m: _when(m.timers.clean_next)),
    "24": ("total recharged", lambda m: str(m.fmt(m.balance.recharged))),
    "25": ("measure mode", lambda m: m.settings.mode),
    "26": ("valve actuations", lambda m: str(m.valve.moves)),
    "27": (
        "local time, time zone and billing day",
        lambda m: (
            f"{m.rtc(m.now).astimezone(m.tz):%Y-%m-%d %H:%M} {m.config.tz} "
            f"day {m.config.billing_day}"
        ),
    ),
}


def answer(m: MeterCore, code: str) -> str | None:
    """The LCD text for a query code, or None for an unknown code."""
    entry = CODES.get(code)
    return None if entry is None else entry[1](m)
