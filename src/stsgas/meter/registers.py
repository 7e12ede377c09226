"""Read access to a meter's registers and records: what displays, reports and tests read."""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from stsgas.meter.settings import MeterSettings
from stsgas.meter.tariff import units_to_money

__all__ = ["MeterReadout", "Registers"]


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Registers:
    """Read-only view of the money/volume registers (register units)."""

    credit: int
    total_l: int
    month_l: int
    recharged: int
    billed: int
    cleared: int
    carry_milli: int
    tids: tuple[int, ...]


class MeterReadout:
    """Read-only views over the state a Meter keeps (mixed into Meter)."""

    settings: MeterSettings
    r: dict[str, Any]
    tids: list[int]
    events_log: list[list[Any]]
    monthly: list[list[Any]]
    hourly: array[int]

    def low_credit(self) -> bool:
        """The low-credit sign is on."""
        return bool(self.r["credit"] <= self.settings.low_credit_alarm)

    @property
    def registers(self) -> Registers:
        """The money/volume registers and TID memory."""
        r = self.r
        return Registers(
            credit=r["credit"],
            total_l=r["total"],
            month_l=r["month"],
            recharged=r["recharged"],
            billed=r["billed"],
            cleared=r["cleared"],
            carry_milli=r["carry"],
            tids=tuple(self.tids),
        )

    def fmt(self, units: int) -> Decimal:
        """Register units as a Decimal in m3 (volume) or money (amount)."""
        if self.settings.mode == "volume":
            return Decimal(units) / 1000
        return units_to_money(units)

    @property
    def credit(self) -> Decimal:
        """Remaining credit (m3 or money; negative while in overdraft)."""
        return self.fmt(self.r["credit"])

    @property
    def valve_open(self) -> bool:
        """The valve is open."""
        return bool(self.r["valve"])

    @property
    def valve_reason(self) -> str | None:
        """Why the valve is closed (None while open)."""
        return None if self.r["valve"] else self.r["reason"]

    def alarms(self) -> list[str]:
        """Active alarms, in a fixed order."""
        r = self.r
        out = []
        if self.low_credit():
            out.append("low_credit")
        if r["bat"] >= 1:
            out.append("battery_low_1")
        if r["bat"] >= 2:
            out.append("battery_low_2")
        if r["tamper"]:
            out.append("tamper")
        if r["faults"]:
            out.append("valve_failure")
        return out

    def events(self) -> list[tuple[str, datetime]]:
        """The event log, oldest first."""
        return [(kind, _dt(ts)) for kind, ts in self.events_log]

    def monthly_records(self) -> list[tuple[str, int]]:
        """Finished months (YYYY-MM, litres), up to 120."""
        return [(m, litres) for m, litres in self.monthly]

    def hourly_records(self) -> list[tuple[datetime, int]]:
        """Hours with consumption (hour start by RTC, litres), within the configured depth."""
        h = self.hourly
        return [(_dt(h[i] * 3600), h[i + 1]) for i in range(0, len(h), 2)]

    def idle_text(self) -> str:
        """The LCD's resting text: credit and the low-credit sign."""
        unit = " m3" if self.settings.mode == "volume" else ""
        sign = " LOW" if self.low_credit() else ""
        return f"CR {self.credit}{unit}{sign}"
