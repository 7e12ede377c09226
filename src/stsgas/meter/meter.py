"""The Meter: a sans-IO prepaid gas meter. Inputs carry ``now``; outputs are returned events.

Persistence: one atomic ``StateStore.commit`` per change that matters -- an
accepted token commits credit, TID memory and its event together; flow is
committed at least every ``persist_every_l`` litres (default 100 L), and on
every valve change, month rollover and key change.
"""

from __future__ import annotations

import json
from array import array
from datetime import UTC, datetime, timedelta
from typing import Any

from stsgas.meter import _state as S  # noqa: N812 -- the tables read as S.X
from stsgas.meter.events import (
    AlarmChanged,
    Buzzer,
    Events,
    LcdChanged,
    Logged,
    TokenAccepted,
    TokenRejected,
    ValveChanged,
)  # fmt: skip
from stsgas.meter.registers import MeterReadout, Registers
from stsgas.meter.settings import MeterSettings
from stsgas.meter.storage import StateStore
from stsgas.meter.tariff import Tariff

__all__ = ["Meter", "MeterUsageError", "Registers"]

EVENT_LOG = 200
MONTHS = 120


class MeterUsageError(Exception):
    """The caller misused the meter (time going backwards, unknown key)."""


def _pack(name: str, value: Any) -> bytes:
    """A record's bytes: versioned compact JSON; hourly records as packed int64 pairs."""
    if name == "hour":
        return b"H1" + bytes(value.tobytes())
    return json.dumps([1, value], separators=(",", ":")).encode()


def _unpack_hours(data: bytes) -> array[int]:
    if data[:2] != b"H1":
        raise ValueError("hourly record has an unknown version")
    flat = array("q")
    flat.frombytes(data[2:])
    return flat


def _ts(at: datetime) -> int:
    return int(at.timestamp())


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _month_start_after(ts: float) -> datetime:
    d = _dt(ts)
    return datetime(d.year + d.month // 12, d.month % 12 + 1, 1, tzinfo=UTC)


class Meter(MeterReadout):
    """One meter. Build with ``Meter(settings, store=..., now=...)`` or ``Meter.from_json``."""

    # ---- inputs (the rules live in _tokens / _inputs; these are the public calls) ---------
    def enter_token(self, digits: str, now: datetime) -> Events:
        """A 20-digit token from the keypad buffer or IR."""
        from stsgas.meter import _tokens

        out = Events()
        self._enter(now, out)
        _tokens.enter_token(self, digits, now, out)
        self._recompute_deadline()
        return out

    def _call(self, name: str, now: datetime, *args: Any) -> Events:
        from stsgas.meter import _inputs

        out = Events()
        self._enter(now, out)
        getattr(_inputs, name)(self, *args, now, out)
        self._save()
        self._recompute_deadline()
        return out

    def press(self, key: str, now: datetime) -> Events:
        """One keypad key: 0-9, ``*`` backspace, ``C`` cancel, ``#`` enter, ``O`` open key."""
        return self._call("press", now, key)

    def open_key(self, now: datetime) -> Events:
        """The customer's valve open key."""
        return self._call("open_key", now)

    def set_battery(self, volts: float, now: datetime) -> Events:
        """The battery voltage now."""
        return self._call("set_battery", now, volts)

    def magnet(self, present: bool, now: datetime) -> Events:
        """A magnet at the sensor (or gone)."""
        return self._call("magnet", now, present)

    def power(self, on: bool, now: datetime) -> Events:
        """Power cut (False) or restored (True)."""
        return self._call("power", now, on)

    def receive_ir(self, data: bytes, now: datetime) -> Events:
        """One IR frame; the reply is in the returned events (``.reply``)."""
        return self._call("receive_ir", now, data)

    def set_valve_fault(self, open_fails: bool, close_fails: bool, now: datetime) -> Events:
        """Model a jammed valve: its position switch never reports the stuck direction."""
        self.valve_fault.clear()
        self.valve_fault |= {k for k, on in (("open", open_fails), ("close", close_fails)) if on}
        return self._call("noop", now)

    def __init__(self, settings: MeterSettings, *, store: StateStore, now: datetime) -> None:
        self.settings: MeterSettings = settings
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

    # ---- commissioning and persistence -------------------------------------------------
    def _commission(self, now: datetime) -> None:
        from stsgas.sts import tid_for

        st = self.settings
        c = st.sts
        self.r: dict[str, Any] = {
            "credit": st.initial_credit, "total": 0, "month": 0, "recharged": st.initial_credit,
            "billed": 0, "cleared": 0, "carry": 0, "valve": st.initial_credit > 0,
            "reason": None if st.initial_credit > 0 else "credit", "bat": 0, "bat_v": st.battery_v,
            "tamper": False, "power": True, "fail": 0, "lock_until": 0, "last_amt": 0,
            "last_at": 0, "clean_next": 0, "month_start": 0, "rtc_off": 0.0, "rtc_anchor": _ts(now),
            "faults": 0, "moves": 0,
        }  # fmt: skip
        self.key: dict[str, Any] = {
            "key": c.key().value.hex(), "ea": int(c.ea), "krn": c.krn, "kt": c.key_type,
            "ken": c.ken, "ti": c.ti, "sgc": c.sgc, "bd": int(c.base_date), "pan": c.pan,
        }  # fmt: skip
        # seeded one minute before commissioning: a token vended in the commissioning
        # minute is accepted, older ones stay below the memory's floor (M2)
        seed = tid_for(now, c.base_date) - 1
        self.tids: list[int] = [seed] if seed >= 0 else []
        self.cfg: dict[str, Any] = {"tariff": st.tariff.to_json(), "pending": None}
        self.monthly: list[list[Any]] = []
        self.events_log: list[list[Any]] = []
        self.hourly: array[int] = array("q")  # flat (hour, litres) pairs
        rtc = self.rtc(now)
        self.r["month_start"] = _ts(datetime(rtc.year, rtc.month, 1, tzinfo=UTC))
        self.r["clean_next"] = self._next_clean_after(rtc) if st.valve_clean_days else 0
        self._load_tariffs()
        self._dirty.update(("reg", "key", "tid", "cfg", "mon", "evt", "hour"))
        self._save()

    def _records(self) -> dict[str, Any]:
        return {
            "reg": self.r,
            "key": self.key,
            "tid": self.tids,
            "cfg": self.cfg,
            "mon": self.monthly,
            "evt": self.events_log,
            "hour": self.hourly,
        }

    def _save(self) -> None:
        if not self._dirty:
            return
        recs = self._records()
        out = {name: _pack(name, recs[name]) for name in sorted(self._dirty)}
        self.store.commit(out)
        self._dirty.clear()
        self._unsaved_l = 0

    def _restore(self, saved: dict[str, bytes]) -> None:
        def rec(name: str) -> Any:
            version, value = json.loads(saved[name])
            if version != 1:
                raise ValueError(f"record {name} has unknown version {version}")
            return value

        self.r = rec("reg")
        self.key = rec("key")
        self.tids = rec("tid")
        self.cfg = rec("cfg")
        self.monthly = rec("mon")
        self.events_log = rec("evt")
        self.hourly = _unpack_hours(saved["hour"])
        self._load_tariffs()
        if self.r["power"] and self.r["valve"]:  # every boot starts closed (M5)
            self.r["valve"] = False
            self.r["reason"] = "power"

    def _load_tariffs(self) -> None:
        self.tariff = Tariff.from_json(self.cfg["tariff"])
        self.monthly_price_cache = None

    # ---- time ---------------------------------------------------------------------------
    def rtc(self, now: datetime) -> datetime:
        """The meter's RTC reading at true time ``now`` (offset + drift)."""
        r = getattr(self, "r", None)
        if r is None:
            return now
        drift = (now.timestamp() - r["rtc_anchor"]) * self.settings.rtc_drift_ppm * 1e-6
        return now + timedelta(seconds=r["rtc_off"] + drift)

    def _true_for_rtc(self, rtc_ts: float) -> datetime:
        r = self.r
        k = 1 + self.settings.rtc_drift_ppm * 1e-6
        true = r["rtc_anchor"] + (rtc_ts - r["rtc_off"] - r["rtc_anchor"]) / k
        return _dt(true) + timedelta(microseconds=1 if k != 1 else 0)

    def _next_clean_after(self, rtc: datetime) -> int:
        """The next auto-clean time (RTC), strictly after ``rtc``; 0 when cleaning is off."""
        days = self.settings.valve_clean_days
        if not days:
            return 0
        day = datetime(rtc.year, rtc.month, rtc.day, self.settings.valve_clean_hour, tzinfo=UTC)
        nxt = day + timedelta(days=days)
        while nxt <= rtc:
            nxt += timedelta(days=days)
        return _ts(nxt)

    def _recompute_deadline(self) -> None:
        r = self.r
        cands = [self._true_for_rtc(_ts(_month_start_after(r["month_start"])))]
        if r["clean_next"]:
            cands.append(self._true_for_rtc(r["clean_next"]))
        if self.key_at is not None and self.keybuf:
            cands.append(self.key_at + S.DIGIT_TIMEOUT)
        if self.kct_at is not None:
            cands.append(self.kct_at + S.KCT_TIMEOUT)
        pending = self.cfg["pending"]
        if pending is not None:
            cands.append(self._true_for_rtc(pending[1]))
        self._deadline = min(cands)

    def next_deadline(self) -> datetime | None:
        """When the meter next needs ``handle_timer`` (rollover, clean, timeouts, tariff)."""
        return self._deadline

    def _enter(self, now: datetime, out: Events) -> None:
        if now < self._now:
            raise MeterUsageError(f"time went backwards: {now} < {self._now}")
        if now.tzinfo is None:
            raise MeterUsageError("now must be timezone-aware (UTC)")
        if now >= self._deadline:
            self._timers(now, out)
        self._now = now

    def handle_timer(self, now: datetime) -> Events:
        """Run every timer due at or before ``now``."""
        out = Events()
        self._enter(now, out)
        return out

    def _timers(self, now: datetime, out: Events) -> None:
        from stsgas.meter._inputs import clean_valve

        while now >= self._deadline:
            r = self.r
            rtc = self.rtc(self._deadline)
            key_due = self.key_at is not None and self._deadline >= self.key_at + S.DIGIT_TIMEOUT
            if key_due and self.keybuf:
                self.keybuf = ""
                self.key_at = None
                self.show(self.idle_text(), out)
            if self.kct_at is not None and self._deadline >= self.kct_at + S.KCT_TIMEOUT:
                self.kct.clear()
                self.kct_at = None
            pending = self.cfg["pending"]
            if pending is not None and _ts(rtc) >= pending[1]:
                self.cfg["tariff"] = pending[0]
                self.cfg["pending"] = None
                self._load_tariffs()
                self._dirty.add("cfg")
                self.log("tariff_changed", self._deadline, out)
            nxt = _month_start_after(r["month_start"])
            if _ts(rtc) >= _ts(nxt):
                start = _dt(r["month_start"])
                self.monthly.append([f"{start.year:04d}-{start.month:02d}", r["month"]])
                del self.monthly[:-MONTHS]
                r["month"] = 0
                r["month_start"] = _ts(nxt)
                self._dirty.update(("reg", "mon"))
            if r["clean_next"] and _ts(rtc) >= r["clean_next"]:
                r["clean_next"] = self._next_clean_after(rtc)
                self._dirty.add("reg")
                clean_valve(self, self._deadline, out)
            self._save()
            self._recompute_deadline()

    # ---- shared helpers used by the input modules ---------------------------------------
    def show(self, text: str, out: Events) -> None:
        """Put text on the LCD."""
        if text != self.lcd:
            self.lcd = text
            out.append(LcdChanged(text=text))

    def log(self, kind: str, now: datetime, out: Events) -> None:
        """Append to the event log (type + RTC time)."""
        at = self.rtc(now)
        self.events_log.append([kind, _ts(at)])
        del self.events_log[:-EVENT_LOG]
        self._dirty.add("evt")
        out.append(Logged(type=kind, at=at))

    def close_line(self) -> int:
        """Credit at or below which the valve closes."""
        return -self.settings.overdraft

    def move_valve(self, inp: S.ValveInput, now: datetime, out: Events) -> None:
        """Drive the valve through the table, checking the position switch."""
        r = self.r
        was = S.ValveState.OPEN if r["valve"] else S.ValveState.CLOSED
        new, reason = S.valve_step(was, inp)
        want_open = new is S.ValveState.OPEN
        if want_open == r["valve"]:
            if not want_open and reason != r["reason"] and r["reason"] != "tamper":
                r["reason"] = reason
                self._dirty.add("reg")
            return
        fault = "open" if want_open else "close"
        if fault in self.valve_fault:
            r["faults"] += 1
            self.log(f"valve_{fault}_failure", now, out)
            out.append(ValveChanged(at=now, open=r["valve"], reason=r["reason"], ok=False))
            out.append(AlarmChanged(name="valve_failure", on=True))
            self._dirty.add("reg")
            return
        r["valve"] = want_open
        r["reason"] = reason
        r["moves"] = r.get("moves", 0) + 1  # actuation counter (M6); older images lack it
        self._dirty.add("reg")
        out.append(ValveChanged(at=now, open=want_open, reason=reason))

    def check_credit(self, now: datetime, out: Events) -> None:
        """State-triggered rules: the credit line closes the valve; low credit alarms."""
        r = self.r
        if r["valve"] and r["credit"] <= self.close_line():
            self.move_valve(S.ValveInput.CREDIT_EXHAUSTED, now, out)
            self._save()

    def can_open(self) -> bool:
        """The open key's rules: no lock holds and credit is positive.

        Overdraft (emergency gas) lets an open valve keep running past zero down to
        minus the limit; it never reopens a valve while credit is at or below zero.
        """
        r = self.r
        if not r["power"] or r["bat"] >= 2 or r["tamper"]:
            return False
        return bool(r["credit"] > 0)

    # ---- consumption ----------------------------------------------------------------------
    def flow(self, litres: int, now: datetime) -> Events:
        """Gas offered through the meter; registered only while the valve is open."""
        out = Events()
        self._enter(now, out)
        r = self.r
        if litres <= 0 or not r["valve"] or not r["power"]:
            return out
        litres = self._affordable(litres)
        if litres <= 0:
            self.check_credit(now, out)
            return out
        was_low = self.low_credit()
        if self.settings.mode == "volume":
            r["credit"] -= litres
            r["billed"] += litres
        else:
            milli = r["carry"] + self.tariff.cost_milli(r["month"], litres)
            units, r["carry"] = divmod(milli, 1000)
            r["credit"] -= units
            r["billed"] += units
        r["total"] += litres
        r["month"] += litres
        if self.settings.hourly_record_days:
            self._hourly(litres, now)
        self._unsaved_l += litres
        self._dirty.add("reg")
        if self._unsaved_l >= self.settings.persist_every_l:
            self._save()
        if not was_low and self.low_credit():
            out.append(AlarmChanged(name="low_credit", on=True))
            out.append(Buzzer(pattern="alarm"))
            self.show(self.idle_text(), out)
        if r["credit"] <= self.close_line():
            self.check_credit(now, out)
        self._check_open_flow(litres, now, out)
        return out

    def _check_open_flow(self, litres: int, now: datetime, out: Events) -> None:
        """M6: flow right after the open key faster than an appliance closes the valve again."""
        opened = self.opened_at
        if opened is None:
            return
        elapsed = (now - opened).total_seconds()
        if elapsed > S.OPEN_CHECK.total_seconds():
            self.opened_at = None
            return
        if litres * 3600 > S.UNCONTROLLED_LPH * max(elapsed, 1.0) and self.r["valve"]:
            self.opened_at = None
            self.move_valve(S.ValveInput.HIGH_FLOW, now, out)
            self._save()

    def _affordable(self, litres: int) -> int:
        r = self.r
        room = r["credit"] - self.close_line()
        if self.settings.mode == "volume":
            return max(0, min(litres, int(room)))
        budget = (room + 1) * 1000 - 1 - r["carry"]
        if self.tariff.cost_milli(r["month"], litres) <= budget:
            return litres
        lo, hi = 0, litres
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.tariff.cost_milli(r["month"], mid) <= budget:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def _hourly(self, litres: int, now: datetime) -> None:
        hour = _ts(self.rtc(now)) // 3600
        h = self.hourly
        if h and h[-2] == hour:
            h[-1] += litres
        else:
            if h and h[-2] // 24 != hour // 24:
                self._dirty.add("hour")  # trend data: persisted once a day (and on flush)
                keep = hour - self.settings.hourly_record_days * 24
                drop = 0
                while drop < len(h) and h[drop] <= keep:
                    drop += 2
                del h[:drop]
            h.append(hour)
            h.append(litres)

    def flush(self) -> None:
        """Commit anything not yet persisted (the power-fail capacitor's last write)."""
        self._dirty.update(("reg", "hour"))
        self._save()

    def _reject(self, code: str, now: datetime, out: Events, text: str | None = None) -> Events:
        status = S.REJECTIONS[code][0]
        out.append(TokenRejected(at=now, code=code, status=status))
        out.append(Buzzer(pattern="reject"))
        self.show(text or S.REJECTIONS[code][2], out)
        return out

    def _accepted(
        self, kind: str, tid: int | None, amount: int | None, now: datetime, out: Events, text: str
    ) -> Events:
        out.append(TokenAccepted(at=now, kind=kind, tid=tid, amount=amount))
        out.append(Buzzer(pattern="accept"))
        self.show(text, out)
        return out
