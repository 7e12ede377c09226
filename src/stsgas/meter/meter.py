"""The Meter: a sans-IO prepaid gas meter. Inputs carry ``now``; outputs are returned events.

Persistence: one atomic ``StateStore.commit`` per change that matters -- an
accepted token commits credit, TID memory and its event together; flow is
committed at least every ``persist_every_l`` litres (default 100 L), and on
every valve change, month rollover and key change. Which record each part of
the state is kept in, the commit and the restore are ``_persist.MeterRecords``,
a base class of :class:`Meter`.

The state is typed frozen values (``stsgas.meter.state``, ``stsgas.meter.history``);
the rules live in ``_tokens``, ``_inputs``, ``_wake`` and the tables of ``_state``,
which see the meter only through the ``_core.MeterCore`` protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from stsgas.meter import _clock, _inputs, _safety, _tokens, _valve, _wake
from stsgas.meter import _state as S  # noqa: N812 -- the tables read as S.X
from stsgas.meter._core import FlowWatch
from stsgas.meter._persist import MeterRecords
from stsgas.meter.errors import MeterUsageError
from stsgas.meter.events import (
    Alarm,
    AlarmChanged,
    Beep,
    Buzzer,
    CloseReason,
    Events,
    LcdChanged,
    Logged,
    LogKind,
)  # fmt: skip
from stsgas.meter.history import EventLog, LogEntry, MonthRecord
from stsgas.meter.registers import MeterReadout
from stsgas.meter.settings import MeterSettings
from stsgas.meter.state import Balance, Config, KeyData, Lockout, Supply, Timers, Valve
from stsgas.meter.storage import StateStore
from stsgas.meter.trend import HourlyTrend
from stsgas.sts import LITRES_PER_M3, BaseDate, TidError, tid_for

__all__ = ["Meter"]

EVENT_LOG = 200


def _ts(at: datetime) -> int:
    return int(at.timestamp())


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def commission_tids(now: datetime, base_date: BaseDate) -> tuple[int, ...]:
    """The TID memory a new meter starts with: the minute before commissioning (M2).

    Seeding one minute early lets a token vended in the commissioning minute in,
    while older ones stay below the memory's floor. A meter commissioned after its
    base date's last minute cannot name the minute; it starts with an empty memory
    (and refuses TID-bearing tokens until a key change).
    """
    try:
        seed = tid_for(now, base_date) - 1
    except TidError:
        return ()
    return (seed,) if seed >= 0 else ()


class Meter(MeterReadout, MeterRecords):
    """One meter. Build with ``Meter(settings, store=..., now=...)`` or ``Meter.from_json``."""

    # ---- inputs (the rules live in _tokens / _inputs; these are the public calls) ---------
    def enter_token(self, digits: str, now: datetime) -> Events:
        """A 20-digit token from the keypad buffer or IR."""
        out = Events()
        self._enter(now, out)
        _tokens.enter_token(self, digits, now, out)
        self._recompute_deadline()
        return out

    def _call(self, rule: Callable[..., None], now: datetime, *args: Any) -> Events:
        out = Events()
        self._enter(now, out)
        rule(self, *args, now, out)
        self.save()
        self._recompute_deadline()
        return out

    def press(self, key: str, now: datetime) -> Events:
        """One keypad key: 0-9, ``*`` backspace, ``C`` cancel, ``#`` enter, ``O`` open key."""
        if len(key) != 1 or key not in S.KEYPAD:
            raise MeterUsageError(f"unknown key {key!r}")
        return self._call(_inputs.press, now, key)

    def open_key(self, now: datetime) -> Events:
        """The customer's valve open key."""
        return self._call(_inputs.open_key, now)

    def set_battery(self, volts: float, now: datetime) -> Events:
        """The battery voltage now."""
        return self._call(_inputs.set_battery, now, volts)

    def replace_battery(self, volts: float, now: datetime) -> Events:
        """The battery was taken out and a new one at ``volts`` fitted."""
        return self._call(_inputs.replace_battery, now, volts)

    def magnet(self, present: bool, now: datetime) -> Events:
        """A magnet at the sensor (or gone)."""
        return self._call(_inputs.magnet, now, present)

    def power(self, on: bool, now: datetime) -> Events:
        """Power cut (False) or restored (True)."""
        return self._call(_inputs.power, now, on)

    def receive_ir(self, data: bytes, now: datetime) -> Events:
        """One IR frame; the reply is in the returned events (``.reply``)."""
        return self._call(_inputs.receive_ir, now, data)

    def apply(self, rule: Callable[..., None], now: datetime, *args: Any) -> Events:
        """Run another module's input rule (the optical readout) as the inputs above run:
        due timers first, then ``rule(meter, *args, now, out)``, then one commit."""
        return self._call(rule, now, *args)

    def set_valve_fault(self, open_fails: bool, close_fails: bool, now: datetime) -> Events:
        """Model a jammed valve: its position switch never reports the stuck direction."""
        self.valve_fault.clear()
        self.valve_fault |= {k for k, on in (("open", open_fails), ("close", close_fails)) if on}
        return self._call(_inputs.noop, now)

    def __init__(self, settings: MeterSettings, *, store: StateStore, now: datetime) -> None:
        #: as commissioned; ``settings`` is what is in force (field settings set by IR applied)
        self.commissioned = settings
        self.settings: MeterSettings = settings
        self.flow_watch = FlowWatch()
        self._now: datetime = now
        self.store = store
        self.valve_fault: set[str] = set()
        #: when the open key last opened the valve (RAM only: boot closes the valve anyway)
        self.opened_at: datetime | None = None
        self.keybuf = ""
        self.key_at: datetime | None = None
        self.kct: dict[int, Any] = {}
        self.kct_at: datetime | None = None
        self.lcd = ""
        self._dirty: set[str] = set()
        self._unsaved_l = 0
        if now.tzinfo is None or now.utcoffset() is None or not _clock.in_range(now):
            raise MeterUsageError(f"now must be an aware time in {_clock.EARLIEST:%Y}..2099")
        saved = store.load()
        if saved:
            self._restore(saved)
        else:
            self._commission(now)
        self._recompute_deadline()
        self.lcd = self.idle_text()

    @classmethod
    def from_json(cls, doc: dict[str, Any], *, store: StateStore, now: datetime) -> Meter:
        """A meter from a scenario ``meter`` object (SettingsError on bad input)."""
        return cls(MeterSettings.from_json(doc), store=store, now=now)

    # ---- commissioning (the records and their commit are _persist.MeterRecords) ---------
    def _commission(self, now: datetime) -> None:
        st = self.settings
        c = st.sts
        credit = st.initial_credit
        self.balance = Balance(credit, 0, 0, credit, 0, 0, 0, 0, 0)
        self.valve = Valve(credit > 0, None if credit > 0 else CloseReason.CREDIT, 0, 0, False)
        self.supply = Supply(True, 0, st.battery_v, False)
        self.lockout = Lockout(0, 0)
        self.timers = Timers(0, 0, 0, 0.0, _ts(now))
        self.key = KeyData(
            c.key().value, int(c.ea), c.krn, c.key_type, c.ken, c.ti, c.sgc, int(c.base_date),
            c.pan,
        )  # fmt: skip
        self.tids: tuple[int, ...] = commission_tids(now, c.base_date)
        self._set_config(Config(st.tariff, None, st.timezone, st.billing_day))
        self.monthly: tuple[MonthRecord, ...] = ()
        self.event_log = EventLog()
        self.trend = HourlyTrend()
        rtc = self.rtc(now)
        self.timers = replace(
            self.timers,
            month_start=_ts(_clock.period_start(rtc, self.tz, self.config.billing_day)),
            clean_next=_wake.next_clean_after(self, rtc),
        )
        self._dirty.update(("reg", "key", "tid", "cfg", "mon", "evt", "hour"))
        self.save()

    # ---- time ---------------------------------------------------------------------------
    def rtc(self, now: datetime) -> datetime:
        """The meter's RTC reading at true time ``now`` (offset + drift)."""
        t = getattr(self, "timers", None)
        ppm = self.settings.rtc_drift_ppm
        if t is None or not (ppm or t.rtc_off):
            return now  # a clock never set and without drift (the common case) reads true time
        drift = (now.timestamp() - t.rtc_anchor) * ppm * 1e-6
        return now + timedelta(seconds=t.rtc_off + drift)

    def true_for_rtc(self, rtc_ts: float) -> datetime:
        """The true time at which the RTC will read ``rtc_ts``."""
        t = self.timers
        k = 1 + self.settings.rtc_drift_ppm * 1e-6
        true = t.rtc_anchor + (rtc_ts - t.rtc_off - t.rtc_anchor) / k
        return _dt(true) + timedelta(microseconds=1 if k != 1 else 0)

    @property
    def now(self) -> datetime:
        """The latest time the meter has been given (inputs must not go before it)."""
        return self._now

    def base_date_ended(self, now: datetime) -> bool:
        """The RTC is past the last minute a TID of the meter's base date can name.

        From then on no token can be dated under the meter's key: TID-bearing tokens
        are refused (``expired``) until a key change moves the meter to a new base date.
        """
        return self.rtc(now) >= _wake.base_date_end(self.key.base_date)

    def _recompute_deadline(self) -> None:
        self._deadline = _wake.deadline(self)

    def next_deadline(self) -> datetime | None:
        """When the meter next needs ``handle_timer`` (rollover, clean, timeouts, tariff).

        Never before the last ``now`` it was given: a timer already due (a restart
        after a month boundary, a tariff activated in the past) is due *now*, so a
        caller that calls ``handle_timer(next_deadline())`` never goes back in time.
        """
        return max(self._deadline, self._now)

    def _enter(self, now: datetime, out: Events) -> None:
        if now.tzinfo is None or now.utcoffset() is None:
            raise MeterUsageError("now must be timezone-aware (UTC)")
        if now < self._now:
            raise MeterUsageError(f"time went backwards: {now} < {self._now}")
        if not _clock.in_range(now):
            raise MeterUsageError(f"now {now} is outside {_clock.EARLIEST} .. {_clock.LATEST}")
        if now >= self._deadline:
            self._deadline = _wake.run_due(self, self._deadline, now, out)
        self._now = now

    def handle_timer(self, now: datetime) -> Events:
        """Run every timer due at or before ``now``."""
        out = Events()
        self._enter(now, out)
        return out

    # ---- shared helpers used by the input modules ---------------------------------------
    def show(self, text: str, out: Events) -> None:
        """Put text on the LCD."""
        if text != self.lcd:
            self.lcd = text
            out.append(LcdChanged(text=text))

    def log(self, kind: LogKind, now: datetime, out: Events, detail: str = "") -> None:
        """Append to the event log (type + RTC time, and what changed if ``detail``)."""
        at = self.rtc(now)
        self.event_log = self.event_log.add(LogEntry(kind, _ts(at), detail), EVENT_LOG)
        self._dirty.add("evt")
        out.append(Logged(type=kind, at=at, detail=detail))

    # ---- consumption ----------------------------------------------------------------------
    def flow(self, litres: int, now: datetime) -> Events:
        """Gas offered through the meter; registered only while the valve is open."""
        out = Events()
        self._enter(now, out)
        if litres <= 0 or not self.valve.open or not self.supply.power:
            return out
        litres = self._affordable(litres)
        if litres <= 0:
            _valve.check_credit(self, now, out)
            return out
        was_low = self.low_credit()
        b = self.balance
        carry = b.carry
        if self.settings.mode == "volume":
            units = litres
        else:
            units, carry = divmod(carry + self.tariff.cost_milli(b.month, litres), 1000)
        self.balance = Balance(
            b.credit - units, b.total + litres, b.month + litres, b.recharged, b.billed + units,
            b.cleared, carry, b.last_amt, b.last_at,
        )  # fmt: skip
        if self.settings.hourly_record_days:
            hour = _ts(self.rtc(now)) // 3600
            if self.trend.add(hour, litres, self.settings.hourly_record_days):
                self._dirty.add("hour")  # trend data: persisted once a day (and on flush)
        self._unsaved_l += litres
        self._dirty.add("reg")
        if self._unsaved_l >= self.settings.persist_every_l:
            self.save()
        if not was_low and self.low_credit():
            out.append(AlarmChanged(name=Alarm.LOW_CREDIT, on=True))
            out.append(Buzzer(pattern=Beep.ALARM))
        _valve.check_credit(self, now, out)
        if not self.keybuf:  # the LCD follows the credit, unless a token is being typed
            self.show(self.idle_text(), out)
        _valve.check_open_flow(self, litres, now, out)
        due = _safety.watch_flow(self, litres, now, out)  # a gas-safety run's wake-up
        if due is not None and due < self._deadline:
            self._deadline = due
        return out

    def _affordable(self, litres: int) -> int:
        b = self.balance
        room = b.credit - _valve.close_line(self)
        if self.settings.mode == "volume":
            return max(0, min(litres, room))
        budget = (room + 1) * LITRES_PER_M3 - 1 - b.carry  # 1/1000 money units, as cost_milli
        if self.tariff.cost_milli(b.month, litres) <= budget:
            return litres
        lo, hi = 0, litres
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.tariff.cost_milli(b.month, mid) <= budget:
                lo = mid
            else:
                hi = mid - 1
        return lo
