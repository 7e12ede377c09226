"""Read access to a meter's registers and records: what displays, reports and tests read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from stsgas.meter._state import GAS_SAFETY
from stsgas.meter.events import Alarm, CloseReason
from stsgas.meter.history import EventLog, MonthRecord
from stsgas.meter.settings import MeterSettings
from stsgas.meter.state import Balance, Supply, Valve
from stsgas.meter.tariff import units_to_money
from stsgas.meter.trend import HourlyTrend
from stsgas.sts import LITRES_PER_M3

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
    balance: Balance
    valve: Valve
    supply: Supply
    tids: tuple[int, ...]
    event_log: EventLog
    monthly: tuple[MonthRecord, ...]
    trend: HourlyTrend

    def low_credit(self) -> bool:
        """The low-credit sign is on."""
        return self.balance.credit <= self.settings.low_credit_alarm

    @property
    def registers(self) -> Registers:
        """The money/volume registers and TID memory."""
        b = self.balance
        return Registers(
            credit=b.credit,
            total_l=b.total,
            month_l=b.month,
            recharged=b.recharged,
            billed=b.billed,
            cleared=b.cleared,
            carry_milli=b.carry,
            tids=self.tids,
        )

    def fmt(self, units: int) -> Decimal:
        """Register units as a Decimal in m3 (volume) or money (amount)."""
        if self.settings.mode == "volume":
            return Decimal(units) / LITRES_PER_M3
        return units_to_money(units)

    @property
    def credit(self) -> Decimal:
        """Remaining credit (m3 or money; negative while in overdraft)."""
        return self.fmt(self.balance.credit)

    @property
    def valve_open(self) -> bool:
        """The valve is open."""
        return self.valve.open

    @property
    def valve_reason(self) -> CloseReason | None:
        """Why the valve is closed (None while open)."""
        return None if self.valve.open else self.valve.reason

    def alarms(self) -> list[str]:
        """Active alarms, in a fixed order."""
        s = self.supply
        out: list[str] = []
        if self.low_credit():
            out.append(Alarm.LOW_CREDIT)
        if s.bat >= 1:
            out.append(Alarm.BATTERY_LOW_1)
        if s.bat >= 2:
            out.append(Alarm.BATTERY_LOW_2)
        if s.tamper:
            out.append(Alarm.TAMPER)
        if self.valve.faults:
            out.append(Alarm.VALVE_FAILURE)
        if s.gas is not None:
            out.append(GAS_SAFETY[s.gas][2])
        return out

    def events(self) -> list[tuple[str, datetime]]:
        """The event log, oldest first."""
        return [(e.kind, _dt(e.at)) for e in self.event_log.entries]

    def monthly_records(self) -> list[tuple[str, int]]:
        """Finished months (YYYY-MM, litres), up to 120."""
        return [(m.label, m.litres) for m in self.monthly]

    def hourly_records(self) -> list[tuple[datetime, int]]:
        """Hours with consumption (hour start by RTC, litres), within the configured depth."""
        return [(_dt(hour * 3600), litres) for hour, litres in self.trend.pairs()]

    def idle_text(self) -> str:
        """The LCD's resting text: credit, the low-credit sign and a gas-safety shut-off
        (``FLOW`` excess flow, ``LEAK`` continuous flow) until it is cleared."""
        unit = " m3" if self.settings.mode == "volume" else ""
        sign = " LOW" if self.low_credit() else ""
        gas = self.supply.gas
        shut = "" if gas is None else f" {GAS_SAFETY[gas][3]}"
        return f"CR {self.credit!s}{unit}{sign}{shut}"  # str(): format() takes a slower path
