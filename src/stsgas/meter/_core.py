"""The narrow interface the rule modules get: what ``_tokens``, ``_inputs``, ``_wake``,
``_testtoken`` and ``query`` may read and call on a meter.

They import this protocol, never ``meter``: the meter imports them, so there is
no import cycle, and none of them reaches into the meter's private attributes.
State changes go through :meth:`MeterCore.put` (a new frozen part replaces the
old one and marks its record for the next commit) and :meth:`MeterCore.save`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from stsgas.meter.events import Events, LogKind
from stsgas.meter.history import EventLog, MonthRecord
from stsgas.meter.settings import MeterSettings
from stsgas.meter.state import Balance, Config, KeyData, Lockout, Supply, Timers, Valve
from stsgas.meter.tariff import Tariff
from stsgas.meter.trend import HourlyTrend

__all__ = ["FlowWatch", "MeterCore", "Part"]

#: a frozen piece of state that :meth:`MeterCore.put` replaces
Part = Balance | Valve | Supply | Lockout | Timers | KeyData | Config


@dataclass(frozen=True, slots=True)
class FlowWatch:
    """RAM (a leak run is kept as ``Supply.leak_run`` when the valve shuts): when gas
    last registered, since when each gas-safety run has lasted (None = no run) and
    each run's slack (litres x 3600 ahead of its rate, at most one litre's worth);
    the rules are in ``_safety``."""

    last_at: datetime | None = None
    excess_since: datetime | None = None
    leak_since: datetime | None = None
    excess_bank: float = 0.0
    leak_bank: float = 0.0


class MeterCore(Protocol):
    """A meter as the rule modules see it."""

    # ---- settings and derived values ----
    @property
    def settings(self) -> MeterSettings: ...
    @property
    def tariff(self) -> Tariff: ...
    @property
    def tz(self) -> ZoneInfo: ...
    @property
    def now(self) -> datetime: ...

    # ---- persisted state (frozen values; change them with put) ----
    @property
    def balance(self) -> Balance: ...
    @property
    def valve(self) -> Valve: ...
    @property
    def supply(self) -> Supply: ...
    @property
    def lockout(self) -> Lockout: ...
    @property
    def timers(self) -> Timers: ...
    @property
    def key(self) -> KeyData: ...
    @property
    def config(self) -> Config: ...
    @property
    def tids(self) -> tuple[int, ...]: ...
    @property
    def monthly(self) -> tuple[MonthRecord, ...]: ...
    @property
    def event_log(self) -> EventLog: ...
    @property
    def trend(self) -> HourlyTrend: ...

    # ---- RAM-only input state (lost at power-down) ----
    keybuf: str
    key_at: datetime | None
    kct: dict[int, Any]
    kct_at: datetime | None
    opened_at: datetime | None
    flow_watch: FlowWatch

    @property
    def valve_fault(self) -> set[str]: ...

    # ---- changing state ----
    def put(self, *parts: Part) -> None:
        """Replace parts of the state; their records go out with the next commit."""

    def remember_tids(self, tids: tuple[int, ...]) -> None:
        """Replace the TID memory."""

    def end_month(self, record: MonthRecord, keep: int) -> None:
        """Append a finished billing period (the newest ``keep`` are kept)."""

    def save(self) -> None:
        """Commit every changed record in one atomic store commit."""

    # ---- shared rules and output ----
    def rtc(self, now: datetime) -> datetime: ...
    def true_for_rtc(self, rtc_ts: float) -> datetime: ...
    def base_date_ended(self, now: datetime) -> bool: ...
    def show(self, text: str, out: Events) -> None: ...
    def log(self, kind: LogKind, now: datetime, out: Events, detail: str = "") -> None: ...
    def idle_text(self) -> str: ...
    def fmt(self, units: int) -> Decimal: ...
