"""The meter's non-token inputs: keypad, open key, battery, magnet, power, IR, auto-clean."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from stsgas.meter import _state as S  # noqa: N812 -- the tables read as S.X
from stsgas.meter import _tokens
from stsgas.meter._clock import in_range
from stsgas.meter.events import AlarmChanged, Buzzer, Events, IrReply, QueryAnswered
from stsgas.meter.ir import FrameError, check_mac, decode_frame, encode_frame
from stsgas.meter.query import answer
from stsgas.meter.tariff import Tariff

if TYPE_CHECKING:
    from stsgas.meter.meter import Meter

V = S.ValveInput


def noop(m: Meter, now: datetime, out: Events) -> None:
    """Nothing (a timer-only call)."""


def group(digits: str) -> str:
    """Digits as the LCD groups them: 4-4-4-4-4."""
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def press(m: Meter, key: str, now: datetime, out: Events) -> None:
    """Keypad: digits, ``*`` backspace, ``C`` cancel, ``#`` enter, ``O`` open key."""
    if key not in "0123456789*C#O" or len(key) != 1:
        raise S_usage(f"unknown key {key!r}")
    if not m.r["power"]:
        return
    if key == "O":
        open_key(m, now, out)
        return
    out.append(Buzzer(pattern="key"))
    if key.isdigit():
        if len(m.keybuf) < 20:
            m.keybuf += key
        m.key_at = now
        m.show(group(m.keybuf), out)
    elif key == "*":
        m.keybuf = m.keybuf[:-1]
        m.key_at = now
        m.show(group(m.keybuf) if m.keybuf else m.idle_text(), out)
    elif key == "C":
        m.keybuf = ""
        m.key_at = None
        m.show(m.idle_text(), out)
    else:
        entry, m.keybuf, m.key_at = m.keybuf, "", None
        if len(entry) == 2:
            query(m, entry, out)
        elif len(entry) == 20:
            _tokens.enter_token(m, entry, now, out)
        elif not entry:
            m.show(m.idle_text(), out)
        else:
            _tokens._bad_entry(m, "format", now, out)


def S_usage(msg: str) -> Exception:  # noqa: N802 -- local factory avoids an import cycle
    from stsgas.meter.meter import MeterUsageError

    return MeterUsageError(msg)


def query(m: Meter, code: str, out: Events) -> str | None:
    """Answer a 2-digit query code on the LCD (``Err qq`` for an unknown one)."""
    text = answer(m, code)
    if text is None:
        m.show(f"Err {code}", out)
        return None
    out.append(QueryAnswered(code=code, text=text))
    m.show(f"{code} {text}", out)
    return text


def open_key(m: Meter, now: datetime, out: Events) -> None:
    """The open key: opens the valve when the rules in _state pass."""
    if m.can_open():
        m.move_valve(V.OPEN_KEY, now, out)
        if m.valve_open:
            m.opened_at = now
    m.show(m.idle_text() if m.valve_open else f"{m.idle_text()} OFF", out)


def set_battery(m: Meter, volts: float, now: datetime, out: Events) -> None:
    """Battery levels: 1 closes once, 2 locks; back above level 1 = replacement."""
    r = m.r
    l1, l2 = m.settings.battery_levels_v
    r["bat_v"] = volts
    m._dirty.add("reg")
    if volts <= l2 and r["bat"] < 2:
        r["bat"] = 2
        m.log("battery_low_2", now, out)
        out.append(AlarmChanged(name="battery_low_2", on=True))
        m.move_valve(V.BATTERY_LOW, now, out)
    elif l2 < volts <= l1 and r["bat"] < 1:
        r["bat"] = 1
        m.log("battery_low_1", now, out)
        out.append(AlarmChanged(name="battery_low_1", on=True))
        m.move_valve(V.BATTERY_LOW, now, out)
    elif volts > l1 and r["bat"] > 0:
        r["bat"] = 0
        m.log("battery_replacement", now, out)
        out.append(AlarmChanged(name="battery_low_1", on=False))


def replace_battery(m: Meter, volts: float, now: datetime, out: Events) -> None:
    """A battery swap: the supply drops out and comes back on a new battery at ``volts``.

    Logged as ``battery_replacement`` whatever the old battery's level (the sheet
    lists the event); it clears both battery levels, then the new battery's own
    voltage is judged. The valve closes (reason ``power``: every boot starts
    closed) and a half-typed entry is lost; emergency gas in use is kept, so the
    open key opens the valve again while overdraft is left.
    """
    r = m.r
    if r["power"]:
        m.move_valve(V.POWER_OFF, now, out)
        m.show(m.idle_text(), out)
    m.keybuf, m.key_at = "", None
    m.log("battery_replacement", now, out)
    for level in (1, 2):
        if r["bat"] >= level:
            out.append(AlarmChanged(name=f"battery_low_{level}", on=False))
    r["bat"] = 0
    m._dirty.add("reg")
    set_battery(m, volts, now, out)


def magnet(m: Meter, present: bool, now: datetime, out: Events) -> None:
    """Magnetic interference: close and lock until clear tamper."""
    if present and m.r["power"]:
        m.log("magnetic_interference", now, out)
        m.move_valve(V.MAGNET, now, out)
        m.r["tamper"] = True
        m.r["reason"] = "tamper" if not m.r["valve"] else m.r["reason"]
        m._dirty.add("reg")
        out.append(AlarmChanged(name="tamper", on=True))


def power(m: Meter, on: bool, now: datetime, out: Events) -> None:
    """Power off closes the valve; power on leaves it closed until the open key."""
    r = m.r
    if on == r["power"]:
        return
    if not on:
        m.move_valve(V.POWER_OFF, now, out)
        m.log("power_down", now, out)
        r["power"] = False
        m.keybuf, m.key_at = "", None
        m.show("", out)  # no supply, no display
    else:
        r["power"] = True
        m.log("power_up", now, out)
        m.show(m.idle_text(), out)
    m._dirty.add("reg")


def clean_valve(m: Meter, now: datetime, out: Events) -> None:
    """Auto-clean: cycle the valve once and check its position switch each way."""
    r = m.r
    if not r["power"] or r["bat"] >= 2:
        return  # no valve moves below the battery threshold (M6)
    first, second = ("close", "open") if r["valve"] else ("open", "close")
    for direction in (first, second):
        r["moves"] = r.get("moves", 0) + 1  # every attempt wears the actuator (M6)
        m._dirty.add("reg")
        if direction in m.valve_fault:
            r["faults"] += 1
            m.log(f"valve_{direction}_failure", now, out)
            out.append(AlarmChanged(name="valve_failure", on=True))
            if direction == "open":
                r["valve"], r["reason"] = False, "clean"
            m._dirty.add("reg")
            return
    m.log("valve_cleaned", now, out)


def receive_ir(m: Meter, data: bytes, now: datetime, out: Events) -> None:
    """One IR frame: token, query, the command counter, or an authenticated
    clock set, clear tamper or step-tariff load."""
    try:
        payload = decode_frame(data)
    except FrameError as exc:
        out.append(IrReply(data=encode_frame(f"err frame {exc}")))
        return
    words = payload.split(" ")
    cmd, args = words[0], words[1:]
    key = bytes.fromhex(m.key["key"])
    reply: str
    if cmd == "token" and len(args) == 1:
        mark = len(out)
        _tokens.enter_token(m, args[0], now, out)
        code = Events(out[mark:]).code or "power"
        reply = "ok accept" if code == "ok" else f"err {code}"
    elif cmd == "query" and len(args) == 1:
        text = query(m, args[0], out)
        reply = f"ok {text}" if text is not None else "err query"
    elif cmd == "seq" and not args:
        reply = f"ok seq {m.r.get('ir_seq', 0)}"
    elif cmd in _SIGNED and len(args) == _SIGNED[cmd]:
        reply = _signed_command(m, key, payload, cmd, args, now, out)
    else:
        reply = "err command"
    out.append(IrReply(data=encode_frame(reply)))


#: authenticated commands and their word counts: ``<seq> [args…] <mac>``
_SIGNED = {"clock": 3, "clear_tamper": 2, "tariff": 4}
_MAX_SEQ = 2**31 - 1


def _signed_command(
    m: Meter, key: bytes, payload: str, cmd: str, args: list[str], now: datetime, out: Events
) -> str:
    """An authenticated command: MAC over everything before it, then a counter that
    must exceed the last one accepted, so a recorded frame cannot be played again."""
    if not check_mac(key, payload.rsplit(" ", 1)[0], args[-1]):
        return "err auth"
    if not args[0].isdigit() or not 0 < int(args[0]) <= _MAX_SEQ:
        return "err format"
    seq, last = int(args[0]), int(m.r.get("ir_seq", 0))
    if seq <= last:
        m.log("ir_replay", now, out)
        return f"err replay {last}"
    if cmd in ("clock", "tariff"):
        try:
            when = datetime.fromisoformat(args[1].replace("Z", "+00:00"))
        except ValueError:
            return "err format"
        if when.tzinfo is None:
            return "err format"
        if not in_range(when):
            return "err range"  # a clock or activation time the meter's calendar cannot hold
        if cmd == "clock":
            m.r["ir_seq"] = seq
            set_clock(m, when, now, out)
            return "ok clock"
        try:
            tariff = parse_steps(args[2])
        except (ValueError, ArithmeticError):
            return "err format"
        m.r["ir_seq"] = seq
        m._dirty.add("reg")
        m.cfg["pending"] = [tariff.to_json(), int(when.timestamp())]
        m._dirty.add("cfg")
        m.log("tariff_loaded", now, out)
        return f"ok tariff {len(tariff.steps)} steps"
    m.r["ir_seq"] = seq
    m.r["tamper"] = False
    m._dirty.add("reg")
    m.log("tamper_cleared", now, out)
    return "ok tamper"


def parse_steps(text: str) -> Tariff:
    """``10:2.50,20:3.00,-:3.50`` (up to m³ : price per m³, ``-`` = no top) as a Tariff."""
    steps = []
    for part in text.split(","):
        top, sep, price = part.partition(":")
        if not sep:
            raise ValueError(f"tariff step {part!r} is not top:price")
        steps.append({"up_to_m3": None if top == "-" else top, "price": price})
    return Tariff.from_json(steps)


def set_clock(m: Meter, new: datetime, now: datetime, out: Events) -> None:
    """Set the RTC (authenticated by the caller): it reads ``new`` at true time ``now``."""
    r = m.r
    r["rtc_anchor"] = int(now.timestamp())
    r["rtc_off"] = (new - now).total_seconds()
    m._dirty.add("reg")
    m.log("clock_set", now, out)
