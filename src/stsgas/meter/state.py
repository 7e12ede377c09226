"""The meter's state as typed values: its registers, its key and its configuration.

The registers are five small frozen parts, grouped by what changes together
(``Balance`` on every litre, ``Valve``, ``Supply``, ``Lockout``, ``Timers``), so
the hot path rebuilds one small value and not all 26 fields. They are stored
together as the ``reg`` record. ``KeyData`` (``key``) and ``Config`` (``cfg``)
are records of their own. These are the values the meter replaces as it runs
(``MeterCore.put``); what it accumulates as it runs -- the TID memory (``tid``),
the finished months (``mon``) and the event log (``evt``) -- is in
:mod:`stsgas.meter.history`, and the hourly trend (``hour``) is a buffer, not a
value (:class:`stsgas.meter.trend.HourlyTrend`).

Each record is written and read through the versioned ``[version, value]``
envelope of :mod:`stsgas.meter._envelope`. The field names in the records are
the short keys meters have always written: renaming a field in Python never
changes the bytes on the device.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from stsgas.meter._envelope import pack, unpack
from stsgas.meter.errors import RecordError
from stsgas.meter.events import CloseReason
from stsgas.meter.tariff import Tariff

__all__ = [
    "Balance", "Config", "KeyData", "Limits", "Lockout", "PendingTariff", "RegisterSet",
    "Supply", "Timers", "Valve", "pack_registers",
]  # fmt: skip


# ---- the registers (record ``reg``) -----------------------------------------------------
@dataclass(frozen=True, slots=True)
class Balance:
    """Money/volume registers (register units: litres, or 1e-5 money) and the last recharge."""

    credit: int
    total: int
    month: int
    recharged: int
    billed: int
    cleared: int
    #: thousandths of a register unit not yet billed (amount mode)
    carry: int
    last_amt: int
    #: RTC seconds of the last recharge (0 = none)
    last_at: int


@dataclass(frozen=True, slots=True)
class Valve:
    """The valve: where it is, why it is closed, its wear and emergency gas."""

    open: bool
    reason: CloseReason | None
    #: actuations (M6), every attempt counted
    moves: int
    #: position-switch failures seen
    faults: int
    #: emergency gas (overdraft) in use
    emerg: bool


@dataclass(frozen=True, slots=True)
class Supply:
    """Power, battery and the tamper lock."""

    power: bool
    #: battery level 0 (good), 1 (low, closed once) or 2 (locked until replaced)
    bat: int
    bat_v: float
    tamper: bool
    #: the gas-safety shut-off that holds the valve shut (excess_flow or leak; None = none)
    gas: CloseReason | None = None
    #: seconds a leak run had lasted when the valve last shut (0 = none): it goes on
    #: at the next opening, so a power cut does not restart the leak timer
    leak_run: int = 0


@dataclass(frozen=True, slots=True)
class Lockout:
    """Token entry lockout and the last authenticated IR command counter."""

    fail: int
    #: UTC seconds until which entry is locked (0 = not locked)
    lock_until: int
    ir_seq: int = 0


@dataclass(frozen=True, slots=True)
class Timers:
    """The RTC's offset and the due times the meter keeps (RTC seconds)."""

    month_start: int
    #: next auto-clean (0 = cleaning off)
    clean_next: int
    #: the base date whose end was already logged (0 = none)
    bd_end: int
    rtc_off: float
    rtc_anchor: int


@dataclass(frozen=True, slots=True)
class RegisterSet:
    """The five register parts as one record (``reg``)."""

    balance: Balance
    valve: Valve
    supply: Supply
    lockout: Lockout
    timers: Timers

    VERSION: ClassVar[int] = 2

    def to_record(self) -> bytes:
        """The record's bytes (today's version; the key order meters have always written)."""
        return pack_registers(self.balance, self.valve, self.supply, self.lockout, self.timers)

    @classmethod
    def from_record(cls, data: bytes, *, overdraft: int) -> tuple[RegisterSet, bool]:
        """The registers, and whether the record was older than today's version.

        v1 has no emergency-gas flag (on when the saved valve was open in the
        overdraft: the older meter was then giving emergency gas), no base-date-end
        mark and, in its first form, no actuation counter.
        """
        version, r = unpack("reg", data, cls.VERSION)
        try:
            credit = int(r["credit"])
            emerg = r.get("emerg", bool(r["valve"] and -overdraft < credit <= 0))
            reason = r["reason"]
            regs = cls(
                Balance(
                    credit, int(r["total"]), int(r["month"]), int(r["recharged"]),
                    int(r["billed"]), int(r["cleared"]), int(r["carry"]), int(r["last_amt"]),
                    int(r["last_at"]),
                ),
                Valve(
                    bool(r["valve"]), None if reason is None else CloseReason(reason),
                    int(r.get("moves", 0)), int(r["faults"]), bool(emerg),
                ),
                Supply(
                    bool(r["power"]), int(r["bat"]), float(r["bat_v"]), bool(r["tamper"]),
                    None if r.get("gas") is None else CloseReason(r["gas"]),
                    int(r.get("run", 0)),
                ),
                Lockout(int(r["fail"]), int(r["lock_until"]), int(r.get("ir_seq", 0))),
                Timers(
                    int(r["month_start"]), int(r["clean_next"]), int(r.get("bd_end", 0)),
                    float(r["rtc_off"]), int(r["rtc_anchor"]),
                ),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordError(f"record reg is malformed: {exc}") from exc
        return regs, version < cls.VERSION


_JSON_BOOL: Final = {True: "true", False: "false"}


def _num(x: float) -> str:
    """A number as ``json.dumps`` writes it (repr for finite values)."""
    return repr(x) if math.isfinite(x) else json.dumps(x)


def pack_registers(b: Balance, v: Valve, s: Supply, lk: Lockout, t: Timers) -> bytes:
    """The ``reg`` record of five parts (what :meth:`RegisterSet.to_record` writes).

    Written from a template rather than through ``json.dumps``: the meter commits
    this record every ``persist_every_l`` litres, and the template is about three
    times faster. The bytes are exactly ``json.dumps``'s (a Hypothesis test holds
    them equal): the keys in the order meters have always written them, and
    ``ir_seq`` only once an authenticated IR command was taken, ``gas`` only while
    a gas-safety shut-off holds, ``run`` only while a leak run waits for the valve
    to open again (so a meter that never had one writes the old bytes).
    """
    tf = _JSON_BOOL
    reason = "null" if v.reason is None else f'"{v.reason.value}"'
    seq = f',"ir_seq":{lk.ir_seq}' if lk.ir_seq else ""
    if s.gas is not None:
        seq += f',"gas":"{s.gas.value}"'
    if s.leak_run:
        seq += f',"run":{s.leak_run}'
    return (
        f'[{RegisterSet.VERSION},{{"credit":{b.credit},"total":{b.total},"month":{b.month},'
        f'"recharged":{b.recharged},"billed":{b.billed},"cleared":{b.cleared},'
        f'"carry":{b.carry},"valve":{tf[v.open]},"reason":{reason},"bat":{s.bat},'
        f'"bat_v":{_num(s.bat_v)},"tamper":{tf[s.tamper]},"power":{tf[s.power]},'
        f'"fail":{lk.fail},"lock_until":{lk.lock_until},"last_amt":{b.last_amt},'
        f'"last_at":{b.last_at},"clean_next":{t.clean_next},"month_start":{t.month_start},'
        f'"rtc_off":{_num(t.rtc_off)},"rtc_anchor":{t.rtc_anchor},"faults":{v.faults},'
        f'"moves":{v.moves},"emerg":{tf[v.emerg]},"bd_end":{t.bd_end}{seq}}}]'
    ).encode()


# ---- the key (record ``key``) -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class KeyData:
    """The decoder key and the key data that came with it (STS names)."""

    value: bytes
    ea: int
    krn: int
    kt: int
    ken: int
    ti: str
    sgc: str
    base_date: int
    pan: str

    VERSION: ClassVar[int] = 1

    def to_record(self) -> bytes:
        """The record's bytes."""
        return pack(
            self.VERSION,
            {
                "key": self.value.hex(), "ea": self.ea, "krn": self.krn, "kt": self.kt,
                "ken": self.ken, "ti": self.ti, "sgc": self.sgc, "bd": self.base_date,
                "pan": self.pan,
            },
        )  # fmt: skip

    @classmethod
    def from_record(cls, data: bytes) -> tuple[KeyData, bool]:
        """The key data (version 1 is the only one so far)."""
        _, k = unpack("key", data, cls.VERSION)
        try:
            key = cls(
                bytes.fromhex(k["key"]), int(k["ea"]), int(k["krn"]), int(k["kt"]),
                int(k["ken"]), str(k["ti"]), str(k["sgc"]), int(k["bd"]), str(k["pan"]),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordError(f"record key is malformed: {exc}") from exc
        return key, False


# ---- tariff and clock settings (record ``cfg``) -------------------------------------------
@dataclass(frozen=True, slots=True)
class PendingTariff:
    """A tariff waiting for its activation time (RTC seconds)."""

    tariff: Tariff
    at: int


@dataclass(frozen=True, slots=True)
class Limits:
    """The field settings besides zone and billing day, once one was set by IR.

    Register units for credit figures, centivolts for the battery levels, litres
    an hour and seconds for the gas-safety rules (None = that shut-off is off).
    """

    overdraft: int
    recharge_limit: int | None
    low_credit_alarm: int
    battery_cv: tuple[int, int]
    clean_days: int
    excess_lph: int | None
    excess_s: int
    leak_lph: int | None
    leak_s: int

    def to_json(self) -> dict[str, Any]:
        """The short-key object the ``cfg`` record keeps."""
        return {
            "od": self.overdraft, "rl": self.recharge_limit, "lca": self.low_credit_alarm,
            "bat": list(self.battery_cv), "clean": self.clean_days, "xl": self.excess_lph,
            "xs": self.excess_s, "ll": self.leak_lph, "ls": self.leak_s,
        }  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Limits:
        """Back from :meth:`to_json` (KeyError/TypeError/ValueError when malformed)."""
        rl, xl, ll = d["rl"], d["xl"], d["ll"]
        b1, b2 = d["bat"]
        return cls(
            int(d["od"]), None if rl is None else int(rl), int(d["lca"]), (int(b1), int(b2)),
            int(d["clean"]), None if xl is None else int(xl), int(d["xs"]),
            None if ll is None else int(ll), int(d["ls"]),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Config:
    """What the meter bills by: its tariff, one waiting to start, its zone and billing
    day, and the field settings set by IR (None: the commissioning ones hold)."""

    tariff: Tariff
    pending: PendingTariff | None
    tz: str
    billing_day: int
    limits: Limits | None = None

    VERSION: ClassVar[int] = 2

    def to_record(self) -> bytes:
        """The record's bytes (``lim`` only once a field setting was set: a meter that
        never took one writes the bytes it always wrote)."""
        p = self.pending
        value: dict[str, Any] = {
            "tariff": self.tariff.to_json(),
            "pending": None if p is None else [p.tariff.to_json(), p.at],
            "tz": self.tz,
            "billing_day": self.billing_day,
        }
        if self.limits is not None:
            value["lim"] = self.limits.to_json()
        return pack(self.VERSION, value)

    @classmethod
    def from_record(cls, data: bytes, *, tz: str, billing_day: int) -> tuple[Config, bool]:
        """The settings; v1 has no clock settings and takes ``tz`` and ``billing_day``.

        The older meter billed by UTC months on the 1st; a meter that loads its
        record is configured with the zone and day it had (UTC and 1 unless set).
        A record without ``lim`` (every one before field settings) keeps the
        commissioning values.
        """
        version, c = unpack("cfg", data, cls.VERSION)
        try:
            p = c["pending"]
            lim = c.get("lim")
            cfg = cls(
                Tariff.from_json(c["tariff"]),
                None if p is None else PendingTariff(Tariff.from_json(p[0]), int(p[1])),
                str(c.get("tz", tz)),
                int(c.get("billing_day", billing_day)),
                None if lim is None else Limits.from_json(lim),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise RecordError(f"record cfg is malformed: {exc}") from exc
        return cfg, version < cls.VERSION
