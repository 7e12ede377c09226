"""The meter's non-token inputs: keypad, open key, battery, magnet, power, IR, auto-clean."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from stsgas.irproto import FrameError, check_mac, decode_frame, encode_frame
from stsgas.meter import _field, _safety, _tokens, _valve
from stsgas.meter import _state as S  # noqa: N812 -- the tables read as S.X
from stsgas.meter._clock import in_range
from stsgas.meter._core import MeterCore
from stsgas.meter.events import (
    Alarm,
    AlarmChanged,
    Beep,
    Buzzer,
    CloseReason,
    Events,
    IrReply,
    LogKind,
    QueryAnswered,
    Rejection,
)  # fmt: skip
from stsgas.meter.query import answer
from stsgas.meter.state import PendingTariff
from stsgas.meter.tariff import Tariff

V = S.ValveInput
#: the alarm and log entry of each battery level
_BATTERY_LEVEL = {
    1: (Alarm.BATTERY_LOW_1, LogKind.BATTERY_LOW_1),
    2: (Alarm.BATTERY_LOW_2, LogKind.BATTERY_LOW_2),
}


def noop(m: MeterCore, now: datetime, out: Events) -> None:
    """Nothing (a timer-only call)."""


def group(digits: str) -> str:
    """Digits as the LCD groups them: 4-4-4-4-4."""
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def press(m: MeterCore, key: str, now: datetime, out: Events) -> None:
    """Keypad: each key does what ``_state.KEYPAD`` says; Enter what ``ENTRY_BY_LENGTH`` says."""
    if not m.supply.power:
        return
    action = S.KEYPAD[key]
    if action is S.Key.OPEN:
        open_key(m, now, out)
        return
    out.append(Buzzer(pattern=Beep.KEY))
    if action is S.Key.DIGIT:
        if len(m.keybuf) < S.MAX_DIGITS:
            m.keybuf += key
        m.key_at = now
        m.show(group(m.keybuf), out)
    elif action is S.Key.BACK:
        m.keybuf = m.keybuf[:-1]
        m.key_at = now
        m.show(group(m.keybuf) if m.keybuf else m.idle_text(), out)
    elif action is S.Key.CANCEL:
        m.keybuf = ""
        m.key_at = None
        m.show(m.idle_text(), out)
    else:
        entry, m.keybuf, m.key_at = m.keybuf, "", None
        kind = S.ENTRY_BY_LENGTH.get(len(entry), S.Entry.FORMAT)
        if kind is S.Entry.QUERY:
            query(m, entry, out)
        elif kind is S.Entry.TOKEN:
            _tokens.enter_token(m, entry, now, out)
        elif kind is S.Entry.IDLE:
            m.show(m.idle_text(), out)
        else:
            _tokens.bad_entry(m, Rejection.FORMAT, now, out)


def query(m: MeterCore, code: str, out: Events) -> str | None:
    """Answer a 2-digit query code on the LCD (``Err qq`` for an unknown one)."""
    text = answer(m, code)
    if text is None:
        m.show(f"Err {code}", out)
        return None
    out.append(QueryAnswered(code=code, text=text))
    m.show(f"{code} {text}", out)
    return text


def open_key(m: MeterCore, now: datetime, out: Events) -> None:
    """The open key: opens the valve when the rules in _state pass."""
    if _valve.can_open(m):
        _valve.move_valve(m, V.OPEN_KEY, now, out)
        if m.valve.open:
            m.opened_at = now
            _safety.arm(m, now)
    m.show(m.idle_text() if m.valve.open else f"{m.idle_text()} OFF", out)


def set_battery(m: MeterCore, volts: float, now: datetime, out: Events) -> None:
    """Battery levels: 1 closes once, 2 locks; back above level 1 = replacement."""
    l1, l2 = m.settings.battery_levels_v
    bat = m.supply.bat
    level = 2 if volts <= l2 else 1 if volts <= l1 else 0
    m.put(replace(m.supply, bat_v=volts, bat=max(level, bat) if level else 0))
    if level > bat:
        alarm, kind = _BATTERY_LEVEL[level]
        m.log(kind, now, out)
        out.append(AlarmChanged(name=alarm, on=True))
        _valve.move_valve(m, V.BATTERY_LOW, now, out)
    elif level == 0 and bat > 0:
        m.log(LogKind.BATTERY_REPLACEMENT, now, out)
        out.append(AlarmChanged(name=Alarm.BATTERY_LOW_1, on=False))


def replace_battery(m: MeterCore, volts: float, now: datetime, out: Events) -> None:
    """A battery swap: the supply drops out and comes back on a new battery at ``volts``.

    Logged as ``battery_replacement`` whatever the old battery's level (the sheet
    lists the event); it clears both battery levels, then the new battery's own
    voltage is judged. The valve closes (reason ``power``: every boot starts
    closed) and a half-typed entry is lost; emergency gas in use is kept, so the
    open key opens the valve again while overdraft is left.
    """
    if m.supply.power:
        _valve.move_valve(m, V.POWER_OFF, now, out)
        m.show(m.idle_text(), out)
    m.keybuf, m.key_at = "", None
    m.log(LogKind.BATTERY_REPLACEMENT, now, out)
    for level in (1, 2):
        if m.supply.bat >= level:
            out.append(AlarmChanged(name=_BATTERY_LEVEL[level][0], on=False))
    m.put(replace(m.supply, bat=0))
    set_battery(m, volts, now, out)


def magnet(m: MeterCore, present: bool, now: datetime, out: Events) -> None:
    """Magnetic interference: close and lock until clear tamper."""
    if present and m.supply.power:
        m.log(LogKind.MAGNETIC_INTERFERENCE, now, out)
        _valve.move_valve(m, V.MAGNET, now, out)
        m.put(replace(m.supply, tamper=True))
        if not m.valve.open:
            m.put(replace(m.valve, reason=CloseReason.TAMPER))
        out.append(AlarmChanged(name=Alarm.TAMPER, on=True))


def power(m: MeterCore, on: bool, now: datetime, out: Events) -> None:
    """Power off closes the valve; power on leaves it closed until the open key."""
    if on == m.supply.power:
        return
    if not on:
        _valve.move_valve(m, V.POWER_OFF, now, out)
        m.log(LogKind.POWER_DOWN, now, out)
        m.put(replace(m.supply, power=False))
        m.keybuf, m.key_at = "", None
        m.show("", out)  # no supply, no display
    else:
        m.put(replace(m.supply, power=True))
        m.log(LogKind.POWER_UP, now, out)
        m.show(m.idle_text(), out)


def clean_valve(m: MeterCore, now: datetime, out: Events) -> None:
    """Auto-clean: cycle the valve once and check its position switch each way."""
    if not m.supply.power or m.supply.bat >= 2:
        return  # no valve moves below the battery threshold (M6)
    first, second = ("close", "open") if m.valve.open else ("open", "close")
    for direction in (first, second):
        v = m.valve
        m.put(replace(v, moves=v.moves + 1))  # every attempt wears the actuator (M6)
        if direction in m.valve_fault:
            v = m.valve
            m.put(replace(v, faults=v.faults + 1))
            m.log(LogKind(f"valve_{direction}_failure"), now, out)
            out.append(AlarmChanged(name=Alarm.VALVE_FAILURE, on=True))
            if direction == "open":
                m.put(replace(m.valve, open=False, reason=CloseReason.CLEAN))
            return
    m.log(LogKind.VALVE_CLEANED, now, out)


def receive_ir(m: MeterCore, data: bytes, now: datetime, out: Events) -> None:
    """One IR frame: token, query, the command counter, or an authenticated
    clock set, clear tamper or step-tariff load."""
    try:
        payload = decode_frame(data)
    except FrameError as exc:
        out.append(IrReply(data=encode_frame(f"err frame {exc}")))
        return
    words = payload.split(" ")
    cmd, args = words[0], words[1:]
    key = m.key.value
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
        reply = f"ok seq {m.lockout.ir_seq}"
    elif cmd in _SIGNED and len(args) == _SIGNED[cmd]:
        reply = _signed_command(m, key, payload, cmd, args, now, out)
    else:
        reply = "err command"
    out.append(IrReply(data=encode_frame(reply)))


#: authenticated commands and their word counts: ``<seq> [args…] <mac>``
_SIGNED = {"clock": 3, "clear_tamper": 2, "tariff": 4, "settings": 3}
_MAX_SEQ = 2**31 - 1


def _signed_command(
    m: MeterCore, key: bytes, payload: str, cmd: str, args: list[str], now: datetime, out: Events
) -> str:
    """An authenticated command: MAC over everything before it, then a counter that
    must exceed the last one accepted, so a recorded frame cannot be played again."""
    if not check_mac(key, payload.rsplit(" ", 1)[0], args[-1]):
        return "err auth"
    if not args[0].isdigit() or not 0 < int(args[0]) <= _MAX_SEQ:
        return "err format"
    seq, last = int(args[0]), m.lockout.ir_seq
    if seq <= last:
        m.log(LogKind.IR_REPLAY, now, out)
        return f"err replay {last}"
    if cmd == "settings":
        reply = _field.apply_settings(m, args[1], seq, now, out)
        if reply.startswith("ok"):
            _rejudge_battery(m, now, out)
        return reply
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
            m.put(replace(m.lockout, ir_seq=seq))
            set_clock(m, when, now, out)
            return "ok clock"
        try:
            tariff = parse_steps(args[2])
        except (ValueError, ArithmeticError):
            return "err format"
        m.put(
            replace(m.lockout, ir_seq=seq),
            replace(m.config, pending=PendingTariff(tariff, int(when.timestamp()))),
        )
        m.log(LogKind.TARIFF_LOADED, now, out)
        return f"ok tariff {len(tariff.steps)} steps"
    m.put(replace(m.lockout, ir_seq=seq), replace(m.supply, tamper=False, leak_run=0))
    gas = _safety.clear(m, out)  # someone is at the meter with the key: the safety latch too
    m.log(LogKind.TAMPER_CLEARED, now, out, "" if gas is None else f"gas {gas}")
    return "ok tamper"


def _rejudge_battery(m: MeterCore, now: datetime, out: Events) -> None:
    """New battery levels act at once: a battery now at or below a level is treated
    as a reading at that level (a lowered level waits for the next reading)."""
    l1, l2 = m.settings.battery_levels_v
    volts = m.supply.bat_v
    if (2 if volts <= l2 else 1 if volts <= l1 else 0) > m.supply.bat:
        set_battery(m, volts, now, out)


def parse_steps(text: str) -> Tariff:
    """``10:2.50,20:3.00,-:3.50`` (up to m³ : price per m³, ``-`` = no top) as a Tariff."""
    steps = []
    for part in text.split(","):
        top, sep, price = part.partition(":")
        if not sep:
            raise ValueError(f"tariff step {part!r} is not top:price")
        steps.append({"up_to_m3": None if top == "-" else top, "price": price})
    return Tariff.from_json(steps)


def set_clock(m: MeterCore, new: datetime, now: datetime, out: Events) -> None:
    """Set the RTC (authenticated by the caller): it reads ``new`` at true time ``now``."""
    m.put(replace(m.timers, rtc_anchor=int(now.timestamp()), rtc_off=(new - now).total_seconds()))
    m.log(LogKind.CLOCK_SET, now, out)
