"""The meter's state as the records it commits: what is kept where, saved and restored.

Each frozen part of the state lives in one named record (``_RECORD_OF``); a
change marks its record, and :meth:`MeterRecords.save` hands every marked one
to the :class:`~stsgas.meter.storage.StateStore` in one atomic commit. A meter
built over a store that holds records restores from them here, reading older
record versions and marking them to be written back in today's.

Kept apart from :mod:`stsgas.meter.meter` (which mixes :class:`MeterRecords` in,
as it does :class:`~stsgas.meter.registers.MeterReadout`) so that the mapping
between the state and its records is in one place and the meter module is
about inputs, time and consumption. A base class rather than helper functions:
``save`` and ``put`` are called on every input and by every rule, and stay
plain methods of the meter with no extra call in between.
"""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from stsgas.meter import _clock
from stsgas.meter._core import Part
from stsgas.meter.events import CloseReason
from stsgas.meter.history import (
    EventLog,
    MonthRecord,
    months_from_record,
    months_to_record,
    tids_from_record,
    tids_to_record,
)  # fmt: skip
from stsgas.meter.settings import MeterSettings
from stsgas.meter.state import (
    Balance,
    Config,
    KeyData,
    Lockout,
    RegisterSet,
    Supply,
    Timers,
    Valve,
    pack_registers,
)  # fmt: skip
from stsgas.meter.storage import StateStore
from stsgas.meter.tariff import Tariff
from stsgas.meter.trend import HourlyTrend

__all__ = ["MeterRecords"]

#: which record each kind of part is kept in
_RECORD_OF: dict[type, str] = {
    Balance: "reg", Valve: "reg", Supply: "reg", Lockout: "reg", Timers: "reg",
    KeyData: "key", Config: "cfg",
}  # fmt: skip


class MeterRecords:
    """The state a Meter keeps, and its records (mixed into Meter, which sets it up)."""

    commissioned: MeterSettings
    settings: MeterSettings
    store: StateStore
    balance: Balance
    valve: Valve
    supply: Supply
    lockout: Lockout
    timers: Timers
    key: KeyData
    config: Config
    tariff: Tariff
    tz: ZoneInfo
    tids: tuple[int, ...]
    monthly: tuple[MonthRecord, ...]
    event_log: EventLog
    trend: HourlyTrend
    #: the records changed since the last commit
    _dirty: set[str]
    #: litres registered since the last commit
    _unsaved_l: int

    def _record(self, name: str) -> bytes:
        if name == "reg":
            return pack_registers(self.balance, self.valve, self.supply, self.lockout, self.timers)
        if name == "key":
            return self.key.to_record()
        if name == "cfg":
            return self.config.to_record()
        if name == "tid":
            return tids_to_record(self.tids)
        if name == "mon":
            return months_to_record(self.monthly)
        if name == "evt":
            return self.event_log.to_record()
        return self.trend.to_record()

    def save(self) -> None:
        """Commit every changed record in one atomic store commit (nothing when none)."""
        if not self._dirty:
            return
        self.store.commit({name: self._record(name) for name in sorted(self._dirty)})
        self._dirty.clear()
        self._unsaved_l = 0

    def _restore(self, saved: dict[str, bytes]) -> None:
        st = self.settings
        config, old_cfg = Config.from_record(
            saved["cfg"], tz=st.timezone, billing_day=st.billing_day
        )
        self._set_config(config)
        regs, old_reg = RegisterSet.from_record(saved["reg"], overdraft=self.settings.overdraft)
        self.key, _ = KeyData.from_record(saved["key"])
        self._dirty.update(n for n, old in (("reg", old_reg), ("cfg", old_cfg)) if old)
        self.tids = tids_from_record(saved["tid"])
        self.monthly = months_from_record(saved["mon"])
        self.event_log = EventLog.from_record(saved["evt"])
        self.trend = HourlyTrend.from_record(saved["hour"])
        self.balance, self.valve, self.supply = regs.balance, regs.valve, regs.supply
        self.lockout, self.timers = regs.lockout, regs.timers
        if self.supply.power and self.valve.open:  # every boot starts closed (M5)
            self.valve = replace(self.valve, open=False, reason=CloseReason.POWER)

    def _set_config(self, config: Config) -> None:
        self.config = config
        lim = config.limits
        self.settings = self.commissioned if lim is None else self.commissioned.with_limits(lim)
        self.tariff = config.tariff
        try:
            self.tz = _clock.zone(config.tz)
        except ValueError:  # a zone the database has since dropped: keep metering, on UTC
            self.tz = _clock.zone("UTC")

    def flush(self) -> None:
        """Commit anything not yet persisted (the power-fail capacitor's last write)."""
        self._dirty.update(("reg", "hour"))
        self.save()

    # ---- the changes the rule modules make (_core.MeterCore) ------------------------------
    def put(self, *parts: Part) -> None:
        """Replace parts of the state; their records go out with the next commit."""
        for part in parts:
            if isinstance(part, Balance):
                self.balance = part
            elif isinstance(part, Valve):
                self.valve = part
            elif isinstance(part, Supply):
                self.supply = part
            elif isinstance(part, Lockout):
                self.lockout = part
            elif isinstance(part, Timers):
                self.timers = part
            elif isinstance(part, KeyData):
                self.key = part
            else:
                self._set_config(part)
            self._dirty.add(_RECORD_OF[type(part)])

    def remember_tids(self, tids: tuple[int, ...]) -> None:
        """Replace the TID memory."""
        self.tids = tids
        self._dirty.add("tid")

    def end_month(self, record: MonthRecord, keep: int) -> None:
        """Append a finished billing period (the newest ``keep`` are kept)."""
        self.monthly = (*self.monthly, record)[-keep:]
        self._dirty.add("mon")
