"""The meter's readout: what a meter reader takes away from the optical port, as one value.

Sans-IO: :func:`take_readout` reads a meter's state at an injected ``now``; the
OBIS table (:data:`OBJECTS`) says under which code each register and setting
travels in the IEC 62056-21 readout (``readout_codec``), and which of them a
public client may read without a password. The JSON form is the
``stsgas-readout/1`` document the back office imports; CSV is the same rows
for a spreadsheet.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from stsgas.meter._core import MeterCore
from stsgas.meter.readout_codec import escape, unescape
from stsgas.meter.tariff import units_to_money
from stsgas.sts import LITRES_PER_M3

__all__ = [
    "FORMAT",
    "OBJECTS",
    "Obj",
    "Readout",
    "ReadoutFormatError",
    "field_settings",
    "readout_registers",
    "take_readout",
]

FORMAT: Final = "stsgas-readout/1"

#: settings that are whole numbers in the readout (the rest are decimal or text)
INT_SETTINGS: Final = frozenset({"auto_clean_days", "billing_day", "excess_flow_s", "leak_s"})
#: gas-safety settings (readout name, the meter's litres-an-hour field, its seconds field),
#: read only when the meter has them and they are on
_SAFETY: Final = (
    ("excess_flow_m3h", "excess_flow_lph", "excess_flow_s"),
    ("leak_flow_m3h", "leak_flow_lph", "leak_s"),
)


class ReadoutFormatError(ValueError):
    """A readout document (JSON) that is not a well-formed ``stsgas-readout/1``."""


@dataclass(frozen=True, slots=True)
class Obj:
    """One value in the readout: its name, OBIS code, unit and whether it is public."""

    name: str
    obis: str
    #: "m3" for volumes; "credit" means m3 in volume mode and none in amount mode
    unit: str
    public: bool
    #: "meter" (top-level field), "register" or "setting"
    kind: str


#: Every single value the optical port gives, in readout order (docs/irpad.md lists them).
OBJECTS: Final[tuple[Obj, ...]] = (
    Obj("meter_number", "0-0:96.1.0", "", True, "meter"),
    Obj("read_at", "0-0:1.0.0", "", True, "meter"),
    Obj("mode", "7-0:128.0.0", "", True, "meter"),
    Obj("credit", "7-0:128.0.1", "credit", True, "register"),
    Obj("total_m3", "7-0:3.0.0", "m3", True, "register"),
    Obj("month_m3", "7-0:128.0.2", "m3", True, "register"),
    Obj("recharged", "7-0:128.0.3", "credit", True, "register"),
    Obj("battery_v", "0-0:96.6.3", "V", True, "register"),
    Obj("valve", "0-0:96.3.10", "", True, "register"),
    Obj("overdraft", "7-0:128.1.1", "credit", False, "setting"),
    Obj("recharge_limit", "7-0:128.1.2", "credit", False, "setting"),
    Obj("low_credit_alarm", "7-0:128.1.3", "credit", False, "setting"),
    Obj("battery_low_1_v", "7-0:128.1.4", "V", False, "setting"),
    Obj("battery_low_2_v", "7-0:128.1.5", "V", False, "setting"),
    Obj("auto_clean_days", "7-0:128.1.6", "d", False, "setting"),
    Obj("timezone", "7-0:128.1.7", "", False, "setting"),
    Obj("billing_day", "7-0:128.1.8", "", False, "setting"),
    Obj("excess_flow_m3h", "7-0:128.1.9", "m3h", False, "setting"),
    Obj("excess_flow_s", "7-0:128.1.10", "s", False, "setting"),
    Obj("leak_flow_m3h", "7-0:128.1.11", "m3h", False, "setting"),
    Obj("leak_s", "7-0:128.1.12", "s", False, "setting"),
)


@dataclass(frozen=True, slots=True)
class Readout:
    """One readout of one meter (decimal strings, exact; times in UTC)."""

    meter_number: str
    read_at: datetime
    mode: str
    #: (name, decimal string or word), in OBJECTS order
    registers: tuple[tuple[str, str], ...]
    #: (name, value); whole-number settings are int
    settings: tuple[tuple[str, str | int], ...]
    #: (YYYY-MM of the period's start, m3), oldest first
    monthly: tuple[tuple[str, Decimal], ...]
    #: (hour start, m3), oldest first, hours with gas only
    hourly: tuple[tuple[datetime, Decimal], ...]
    #: (time, LogKind text, detail or ""), oldest first
    events: tuple[tuple[datetime, str, str], ...]

    def to_json(self) -> dict[str, Any]:
        """The ``stsgas-readout/1`` document."""
        return {
            "format": FORMAT,
            "meter_number": self.meter_number,
            "read_at": self.read_at.isoformat(),
            "mode": self.mode,
            "registers": dict(self.registers),
            "settings": dict(self.settings),
            "monthly": [{"month": m, "volume_m3": f"{v:.3f}"} for m, v in self.monthly],
            "hourly": [{"hour": h.isoformat(), "volume_m3": f"{v:.3f}"} for h, v in self.hourly],
            "events": [{"at": at.isoformat(), "code": c, "detail": d} for at, c, d in self.events],
        }

    @classmethod
    def from_json(cls, doc: Any) -> Readout:
        """A readout from its document (ReadoutFormatError when malformed)."""
        try:
            if doc["format"] != FORMAT:
                raise ReadoutFormatError(f"format is {doc['format']!r}, not {FORMAT}")
            settings: list[tuple[str, str | int]] = []
            for name, value in doc["settings"].items():
                settings.append((name, int(value) if name in INT_SETTINGS else str(value)))
            return cls(
                meter_number=str(doc["meter_number"]),
                read_at=_utc(doc["read_at"]),
                mode=str(doc["mode"]),
                registers=tuple((str(k), str(v)) for k, v in doc["registers"].items()),
                settings=tuple(settings),
                monthly=tuple((str(r["month"]), Decimal(r["volume_m3"])) for r in doc["monthly"]),
                hourly=tuple((_utc(r["hour"]), Decimal(r["volume_m3"])) for r in doc["hourly"]),
                events=tuple(
                    (_utc(r["at"]), str(r["code"]), str(r.get("detail", ""))) for r in doc["events"]
                ),
            )
        except ReadoutFormatError:
            raise
        except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
            raise ReadoutFormatError(f"not a readout document: {exc!r}") from None

    def to_csv(self) -> str:
        """The same values as rows ``section,name,time,value`` (one header row)."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["section", "name", "time", "value"])
        w.writerow(["meter", "meter_number", "", self.meter_number])
        w.writerow(["meter", "read_at", "", self.read_at.isoformat()])
        w.writerow(["meter", "mode", "", self.mode])
        w.writerows(["register", k, "", v] for k, v in self.registers)
        w.writerows(["setting", k, "", v] for k, v in self.settings)
        w.writerows(["monthly", "volume_m3", m, f"{v:.3f}"] for m, v in self.monthly)
        w.writerows(["hourly", "volume_m3", h.isoformat(), f"{v:.3f}"] for h, v in self.hourly)
        w.writerows(["event", c, at.isoformat(), d] for at, c, d in self.events)
        return out.getvalue()


def _utc(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ReadoutFormatError(f"time without a zone: {text!r}")
    return at.astimezone(UTC)


def _dt(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _m3(litres: int) -> str:
    return f"{Decimal(litres) / LITRES_PER_M3:.3f}"


def credit_text(m: MeterCore, units: int) -> str:
    """Register units as the readout writes them: m3 with 3 decimals, or money."""
    if m.settings.mode == "volume":
        return _m3(units)
    return str(units_to_money(units))


def readout_registers(m: MeterCore) -> tuple[tuple[str, str], ...]:
    """The registers a public client may read."""
    b = m.balance
    return (
        ("credit", credit_text(m, b.credit)),
        ("total_m3", _m3(b.total)),
        ("month_m3", _m3(b.month)),
        ("recharged", credit_text(m, b.recharged)),
        ("battery_v", f"{m.supply.bat_v:.2f}"),
        ("valve", "open" if m.valve.open else "closed"),
    )


def field_settings(m: MeterCore) -> tuple[tuple[str, str | int], ...]:
    """The field settings as the meter applies them (names as the settings command's)."""
    st = m.settings
    l1, l2 = st.battery_levels_v
    limit = st.recharge_limit
    out: list[tuple[str, str | int]] = [
        ("overdraft", credit_text(m, st.overdraft)),
        ("recharge_limit", "none" if limit is None else credit_text(m, limit)),
        ("low_credit_alarm", credit_text(m, st.low_credit_alarm)),
        ("battery_low_1_v", f"{l1:.2f}"),
        ("battery_low_2_v", f"{l2:.2f}"),
        ("auto_clean_days", st.valve_clean_days),
        ("timezone", m.config.tz),
        ("billing_day", m.config.billing_day),
    ]
    for name, lph_name, secs_name in _SAFETY:  # meters with the gas-safety settings
        lph = getattr(st, lph_name, None)
        if lph is not None:
            out.append((name, f"{Decimal(lph) / LITRES_PER_M3:.3f}"))
            out.append((secs_name, int(getattr(st, secs_name))))
    return tuple(out)


def take_readout(m: MeterCore, now: datetime) -> Readout:
    """Everything the optical port gives, read at true time ``now`` (times by the RTC)."""
    return Readout(
        meter_number=m.key.pan,
        read_at=m.rtc(now).astimezone(UTC).replace(microsecond=0),
        mode=m.settings.mode,
        registers=readout_registers(m),
        settings=field_settings(m),
        monthly=tuple((r.label, Decimal(r.litres) / LITRES_PER_M3) for r in m.monthly),
        hourly=tuple((_dt(h * 3600), Decimal(v) / LITRES_PER_M3) for h, v in m.trend.pairs()),
        events=tuple(
            (_dt(e.at), str(e.kind.value), str(getattr(e, "detail", "")))
            for e in m.event_log.entries
        ),
    )


# ---- single values as data sets (both ways) -----------------------------------------------
BY_OBIS: Final = {o.obis: o for o in OBJECTS}


def _unit(obj: Obj, mode: str) -> str:
    if obj.unit == "credit":
        return "m3" if mode == "volume" else ""
    return obj.unit


def object_value(obj: Obj, r: Readout) -> tuple[str, str] | None:
    """(value text, unit) of ``obj`` in a readout; None when the meter lacks it.

    Free text (the time-zone name) travels escaped (a data set may not carry ``/``).
    """
    if obj.kind == "meter":
        value = {"meter_number": r.meter_number, "read_at": r.read_at.isoformat(), "mode": r.mode}
        return value[obj.name], ""
    found = dict(r.registers if obj.kind == "register" else r.settings).get(obj.name)
    if found is None:
        return None
    text = escape(str(found)) if obj.name == "timezone" else str(found)
    return text, _unit(obj, r.mode)


def parse_object(obj: Obj, value: str) -> str | int:
    """A value text read back from the port, as the readout holds it."""
    if obj.name in INT_SETTINGS:
        return int(value)
    return unescape(value) if obj.name == "timezone" else value
