"""The scenario runner: a JSON scenario in, the report of docs/scenarios.md out.

Besides 20-digit strings, a step's ``token`` may be a *spec* that the runner
vends with ``stsgas.sts`` for the scenario's meter key (so example files stay
readable and their tokens real): ``{"credit": "10"}`` (optional ``"tid_at"``
or ``"tid"``, ``"label"``), ``{"again": "label"}`` (replay), ``{"clear_tamper": true}``,
``{"clear_credit": true}``, ``{"tariff_rate": 250, "tid_at": "..."}``,
``{"key_change": {...new meter fields...}, "part": 0}``, ``{"garbage": "..."}``,
``{"test": {"control": 16, "mfr": 0, "subclass": 0}}`` (class 1), and
``{"clear_credit": true, "register": 0}``. A key change spec with
``"unchecked": true`` builds the set without the ``stsgas.sts`` key-change rule
(what a broken or hostile vending system could send), so a scenario can show
the meter refusing it.

A ``{"restart": true}`` step resets the meter's processor at ``at``: what was
committed to its store is kept (the power-fail write included), RAM is lost,
and the time since the last step passes with the meter down, so the timers it
missed are due when it wakes.

Top-level keys besides ``meter``, ``start`` and ``steps`` (``description``,
``reviewed``: who checked the expected report against which rules) are notes
for the reader; the runner ignores them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from stsgas.irproto import encode_frame, signed
from stsgas.meter.errors import MeterError, MeterUsageError
from stsgas.meter.events import Events
from stsgas.meter.meter import Meter
from stsgas.meter.settings import MeterSettings, SettingsError
from stsgas.meter.storage import MemoryStateStore
from stsgas.sts import (
    LITRES_PER_M3,
    KeyChange1,
    KeyChange2,
    MeterConfig,
    StsError,
    TariffRate,
    TestToken,
    clear_credit_token,
    clear_tamper_token,
    credit_token_at_tid,
    encode,
    key_change_tokens,
    management_token,
    tid_for,
)  # fmt: skip

__all__ = ["ScenarioError", "run_scenario"]


class ScenarioError(MeterError, ValueError):
    """The scenario file is malformed; the message says where."""


def parse_time(value: object, where: str) -> datetime:
    """ISO UTC time with minute or second precision."""
    if not isinstance(value, str):
        raise ScenarioError(f"{where}: time must be a string like 2026-01-01T08:00Z")
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ScenarioError(f"{where}: not an ISO time: {value!r}") from None
    if at.tzinfo is None:
        raise ScenarioError(f"{where}: time needs a zone (Z)")
    try:
        return at.astimezone(UTC)
    except OverflowError:
        raise ScenarioError(f"{where}: {value!r} is outside the calendar") from None


def iso(at: datetime) -> str:
    """UTC time as the report writes it."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Vendor:
    """Vends the tokens a scenario's specs ask for, following key changes."""

    def __init__(self, meter_doc: dict[str, Any]) -> None:
        self.doc = dict(meter_doc)
        self.cfg = MeterConfig.from_json(self.doc)
        self.mode = str(meter_doc.get("mode", "volume"))
        self.labels: dict[str, str] = {}
        self.sets: dict[str, tuple[list[str], MeterConfig, dict[str, Any]]] = {}
        self.used_parts: dict[str, set[int]] = {}

    def digits(self, spec: object, at: datetime, where: str) -> str:
        if isinstance(spec, str):
            return spec
        if not isinstance(spec, dict):
            raise ScenarioError(f"{where}: token is 20 digits or a spec object")
        when = parse_time(spec["tid_at"], where) if "tid_at" in spec else at
        if "garbage" in spec:
            return str(spec["garbage"])
        if "again" in spec:
            if spec["again"] not in self.labels:
                raise ScenarioError(f"{where}: no token labelled {spec['again']!r} yet")
            return self.labels[spec["again"]]
        if "credit" in spec:
            sub = int(spec.get("subclass", 2 if self.mode == "volume" else 6))
            tid = spec["tid"] if "tid" in spec else tid_for(when, self.cfg.base_date)
            if not isinstance(tid, int) or isinstance(tid, bool):
                raise ScenarioError(f"{where}: 'tid' must be a whole number")
            amount = Decimal(str(spec["credit"]))
            digits = credit_token_at_tid(self.cfg, amount, tid=tid, subclass=sub).digits
        elif spec.get("clear_tamper"):
            digits = clear_tamper_token(self.cfg, at=when).digits
        elif spec.get("clear_credit"):
            reg = int(spec.get("register", 0xFFFF))
            digits = clear_credit_token(self.cfg, register=reg, at=when).digits
        elif "test" in spec:
            t = spec["test"]
            test = TestToken(
                subclass=int(t.get("subclass", 0)),
                control=int(t["control"]),
                mfr_code=int(t.get("mfr", 0)),
            )
            digits = encode(test, self.cfg.key())
        elif "tariff_rate" in spec:
            tid = tid_for(when, self.cfg.base_date)
            digits = management_token(
                self.cfg, TariffRate(tid=tid, rate=int(spec["tariff_rate"]))
            ).digits
        elif "key_change" in spec:
            return self._kct(spec, where)
        else:
            raise ScenarioError(f"{where}: unknown token spec {sorted(spec)}")
        if "label" in spec:
            self.labels[str(spec["label"])] = digits
        return digits

    def _kct(self, spec: dict[str, Any], where: str) -> str:
        new_doc = {**self.doc, **spec["key_change"]}
        name = repr((sorted(new_doc.items()), spec.get("rollover")))
        if name not in self.sets:
            new = MeterConfig.from_json(new_doc)
            ro = spec.get("rollover")
            if spec.get("unchecked"):
                digits = unchecked_kcts(self.cfg, new, bool(ro))
            else:
                kcts = key_change_tokens(self.cfg, new, rollover=None if ro is None else bool(ro))
                digits = [t.digits for t in kcts]
            self.sets[name] = (digits, new, new_doc)
            self.used_parts[name] = set()
        tokens, new, doc = self.sets[name]
        part = int(spec.get("part", 0))
        if not 0 <= part < len(tokens):
            raise ScenarioError(f"{where}: key change set has {len(tokens)} parts")
        self.used_parts[name].add(part)
        done = len(self.used_parts[name]) == len(tokens)
        if done and not spec.get("unchecked"):  # later specs vend under the new key
            self.cfg, self.doc = new, doc
        return tokens[part]


def unchecked_kcts(old: MeterConfig, new: MeterConfig, rollover: bool) -> list[str]:
    """A two-token 64-bit set built field by field, with no key-change rule applied."""
    nk = new.key().value
    first = KeyChange1(
        ken_high=new.ken >> 4,
        krn=new.krn,
        rollover=rollover,
        three_token=False,
        key_type=new.key_type,
        nk_high=int.from_bytes(nk[:4], "big"),
    )
    second = KeyChange2(ken_low=new.ken & 15, ti=int(new.ti), nk_low=int.from_bytes(nk[4:], "big"))
    return [encode(first, old.key()), encode(second, old.key())]


def _dec(value: object, where: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ScenarioError(f"{where}: not a decimal: {value!r}") from None


def _state(m: Meter, accepted: bool, code: str) -> dict[str, Any]:
    return {
        "accepted": accepted,
        "code": code,
        "lcd": m.lcd,
        "credit": str(m.credit),
        "valve": "open" if m.valve_open else "closed",
        "valve_reason": m.valve_reason,
    }


def _advance(m: Meter, at: datetime) -> None:
    deadline = m.next_deadline()
    while deadline is not None and deadline <= at:
        m.handle_timer(deadline)
        deadline = m.next_deadline()


def _run_step(
    m: Meter, vendor: _Vendor, step: dict[str, Any], at: datetime, where: str
) -> tuple[bool, str]:
    at = max(at, m.now)  # keys of the step before may have run microseconds past its ``at``
    if "token" in step:
        res = m.enter_token(vendor.digits(step["token"], at, where), at)
        return bool(res.accepted), res.code
    if "keys" in step:
        res = Events()
        for i, key in enumerate(str(step["keys"])):
            if key not in "0123456789*C#O":
                raise ScenarioError(f"{where}: unknown key {key!r} (0-9 * C # O)")
            res = m.press(key, at + timedelta(microseconds=i))
        ok = res.accepted
        return ok is not False, res.code or "ok" if ok is not False else res.code or "query"
    if "flow_m3" in step:
        litres = int(_dec(step["flow_m3"], where) * LITRES_PER_M3)
        if "until" not in step:
            m.flow(litres, at)
            return True, "ok"
        end = parse_time(step["until"], where)
        hours = max(1, int((end - at).total_seconds() // 3600))
        for h in range(hours):
            share = litres * (h + 1) // hours - litres * h // hours
            when = at + timedelta(hours=h)
            _advance(m, when)
            m.flow(share, when)
        return True, "ok"
    if "battery_v" in step:
        m.set_battery(float(step["battery_v"]), at)
    elif "battery_swap" in step:
        m.replace_battery(float(step["battery_swap"]), at)
    elif "magnet" in step:
        m.magnet(bool(step["magnet"]), at)
    elif "power" in step:
        m.power(bool(step["power"]), at)
    elif "open_key" in step:
        m.open_key(at)
    elif "valve_fault" in step:
        vf = step["valve_fault"] or {}
        m.set_valve_fault(bool(vf.get("open")), bool(vf.get("close")), at)
    elif "ir" in step or "ir_raw" in step:
        if "ir_raw" in step:
            frame = bytes.fromhex(str(step["ir_raw"]))
        else:
            payload = str(step["ir"])
            cmd, *rest = payload.split(" ")
            if cmd in ("clock", "clear_tamper", "tariff", "settings"):  # sign: the next counter
                seq = m.lockout.ir_seq + 1
                payload = signed(m.key.value, cmd, seq, *rest)
            frame = encode_frame(payload)
        reply = m.receive_ir(frame, at).reply or b""
        text = reply[1:-5].decode("ascii", "replace")
        return text.startswith("ok"), "ok" if text.startswith("ok") else text[4:] or "ir"
    elif "tick" not in step:
        raise ScenarioError(f"{where}: unknown step kind {sorted(step)}")
    else:
        m.handle_timer(at)
    return True, "ok"


def _restart(m: Meter, settings: MeterSettings, at: datetime) -> Meter:
    """The meter rebuilt from its store at ``at``, as after a processor reset."""
    m.flush()
    try:
        return Meter(settings, store=m.store, now=max(at, m.now))
    except (MeterUsageError, ValueError) as exc:
        raise ScenarioError(f"restart: {exc}") from None


def run_scenario(doc: dict[str, Any]) -> dict[str, Any]:
    """Run one scenario; the report docs/scenarios.md defines. ScenarioError on bad input."""
    if not isinstance(doc, dict) or not isinstance(doc.get("meter"), dict):
        raise ScenarioError("a scenario is an object with 'meter', 'start' and 'steps'")
    try:
        settings = MeterSettings.from_json(doc["meter"])
        vendor = _Vendor(doc["meter"])
    except (SettingsError, StsError) as exc:
        raise ScenarioError(str(exc)) from None
    start = parse_time(doc.get("start"), "start")
    steps = doc.get("steps", [])
    if not isinstance(steps, list):
        raise ScenarioError("steps must be a list")
    try:
        m = Meter(settings, store=MemoryStateStore(), now=start)
    except (MeterUsageError, StsError, ValueError) as exc:
        raise ScenarioError(f"start: {exc}") from None
    out: list[dict[str, Any]] = []
    last = start
    for n, step in enumerate(steps):
        where = f"steps[{n}]"
        if not isinstance(step, dict):
            raise ScenarioError(f"{where}: a step is an object")
        at = parse_time(step.get("at"), f"{where}.at")
        if at < last:
            raise ScenarioError(f"{where}: steps must be in time order (not before {iso(last)})")
        if step.get("restart"):
            m = _restart(m, settings, at)
            last = at
            out.append(_state(m, True, "ok"))
            continue
        try:
            _advance(m, at)
            accepted, code = _run_step(m, vendor, step, at, where)
        except (StsError, KeyError, TypeError, ValueError, ArithmeticError,
                MeterUsageError) as exc:  # fmt: skip
            if isinstance(exc, ScenarioError):
                raise
            raise ScenarioError(f"{where}: {exc}") from None
        last = max(at, m.now.replace(microsecond=0))
        out.append(_state(m, accepted, code))
    return {"steps": out, "final": final_report(m)}


def final_report(m: Meter) -> dict[str, Any]:
    """The ``final`` object: registers, valve, records, events, alarms."""
    r = m.registers

    def m3(litres: int) -> str:
        return str(Decimal(litres) / LITRES_PER_M3)

    return {
        "credit": str(m.credit), "valve": "open" if m.valve_open else "closed",
        "valve_reason": m.valve_reason, "lcd": m.lcd,
        "total_m3": m3(r.total_l), "month_m3": m3(r.month_l),
        "overdraft_used": str(m.fmt(max(0, -r.credit))),
        "recharged": str(m.fmt(r.recharged)), "billed": str(m.fmt(r.billed)),
        "events": [{"type": t, "at": iso(at)} for t, at in m.events()],
        "monthly": [{"month": mo, "m3": m3(v)} for mo, v in m.monthly_records()],
        "hourly": [{"hour": iso(h), "m3": m3(v)} for h, v in m.hourly_records()],
        "alarms": m.alarms(), "tids": list(r.tids),
        "key": {"krn": m.key.krn, "bd": m.key.base_date, "sgc": m.key.sgc, "ti": m.key.ti},
    }  # fmt: skip
