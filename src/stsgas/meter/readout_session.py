"""The optical port's IEC 62056-21 (mode C) side: a sans-IO state machine beside the STX frames.

:class:`OpticalPort` wraps a :class:`~stsgas.meter.meter.Meter` and takes every
message that arrives at the IR window with the time it arrived. Frames that
start with STX are today's IR commands and go to ``meter.receive_ir``; a
62056-21 sign-on starts a readout session:

* ``/?!CRLF`` -> identification ``/SGs5STSGAS-G1CRLF`` (9600 Bd after the switch);
* ``ACK 0 5 0 CRLF`` (data readout) -> the public data message: meter number,
  clock, mode and the registers, no password;
* ``ACK 0 5 1 CRLF`` (programming mode) -> ``P0(seed)``. The seed is the next IR
  command counter; the client answers ``P1(mac)`` with the MAC of
  ``readout <meter number> <seed>`` under the decoder key (as the signed IR
  commands). Right: ACK, and the counter is spent, so a recorded answer cannot
  be played again. Wrong: NAK, the session ends and ``readout_refused`` is logged
  (once for a run of them); three in a row lock logins for ten minutes.
* in programming mode ``R1 address()`` reads one object (a register, a setting,
  ``P.01`` hourly, ``P.02`` monthly, ``P.98`` event log); ``B0`` ends.

A session left idle for :data:`SESSION_TIMEOUT` falls back to waiting for a sign-on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from stsgas.irproto import check_mac
from stsgas.meter._core import MeterCore
from stsgas.meter.events import Events, LogKind
from stsgas.meter.meter import Meter
from stsgas.meter.readout import BY_OBIS, OBJECTS, Readout, object_value, take_readout
from stsgas.meter.readout_codec import (
    ACK,
    BAUD_CHAR,
    CRLF,
    IDENT,
    NAK,
    SOH,
    STX,
    ReadoutCodecError,
    answer_message,
    challenge,
    command_message,
    data_message,
    data_set,
    encode_events,
    encode_hourly,
    encode_monthly,
    parse_command,
    parse_data_sets,
    password_for,
)  # fmt: skip

__all__ = [
    "IDENT",
    "OpticalPort",
    "Phase",
    "SwitchOver",
    "challenge",
    "password_for",
    "public_lines",
]

SESSION_TIMEOUT: Final = timedelta(seconds=120)
#: wrong passwords in a row before programming mode locks, and for how long
MAX_FAILURES: Final = 3
LOCKOUT: Final = timedelta(minutes=10)
#: seconds between the option select and the answer at the new speed: the reader switches
#: its port over first (62056-21 allows the meter 0.2 .. 1.5 s; a reader that reopens its
#: serial port, as pwitab's client does, loses what arrived before it reopened)
SWITCH_OVER_S: Final = 1.2
_MAX_SEQ: Final = 2**31 - 1
PROFILES: Final = {"P.01": "hourly", "P.02": "monthly", "P.98": "events"}


class Phase(StrEnum):
    """Where a readout session is."""

    IDLE = "idle"
    SIGNED_ON = "signed_on"
    PASSWORD = "password"
    PROGRAMMING = "programming"


def public_lines(r: Readout) -> list[str]:
    """The data readout's lines: every public object (no password needed)."""
    lines = []
    for obj in OBJECTS:
        found = object_value(obj, r) if obj.public else None
        if found is not None:
            lines.append(data_set(obj.obis, *found))
    return lines


def object_lines(r: Readout, address: str) -> list[str]:
    """The answer lines to ``R1 address``."""
    if address in PROFILES:
        kind = PROFILES[address]
        if kind == "hourly":
            return encode_hourly(r.hourly)
        return encode_monthly(r.monthly) if kind == "monthly" else encode_events(r.events)
    obj = BY_OBIS.get(address)
    found = None if obj is None else object_value(obj, r)
    if obj is None or found is None:
        return ["(ERROR)"]
    try:
        return [data_set(obj.obis, *found)]
    except ReadoutCodecError:  # a value the meter cannot put in a data set: say so, go on
        return ["(ERROR)"]


@dataclass(frozen=True, slots=True)
class SwitchOver:
    """A reply the IO adapter sends only after ``delay`` seconds (the baud switch-over)."""

    reply: bytes
    delay: float


class OpticalPort:
    """A meter's IR window speaking both protocols. Only RAM state: a power cut ends a session."""

    def __init__(self, meter: Meter, *, switch_over: float = SWITCH_OVER_S) -> None:
        self.meter = meter
        self.switch_over = switch_over
        self.phase = Phase.IDLE
        self.seed = 0
        self.last: datetime | None = None
        #: the last message sent (a NAK from the client asks for it again)
        self.sent: bytes | None = None
        #: wrong passwords in a row, and until when logins are refused (RAM only)
        self.failures = 0
        self.locked_until: datetime | None = None

    # ---- what MeterIrServer needs (stsgas.irlink.server.IrMeter) ----
    def receive_ir(self, data: bytes, now: datetime) -> Events | SwitchOver | bytes | None:
        """One message from the port; the reply (an IR frame's events, or 62056-21 bytes)."""
        first = data[:1]
        if first == STX:
            return self.meter.receive_ir(data, now)
        if not data.strip(b"\x00"):
            return None  # wake-up NULs of a battery-meter client
        if first not in (b"/", ACK, SOH, NAK):
            return self.meter.receive_ir(data, now)  # noise: the IR side answers "err frame"
        replies: list[bytes | None] = []
        self.meter.apply(self._step, now, data, replies)
        reply = replies[0] if replies else None
        if reply is not None and reply != NAK:
            self.sent = reply
        if reply is not None and data[:1] == ACK and self.switch_over > 0:
            return SwitchOver(reply, self.switch_over)
        return reply

    def next_deadline(self) -> datetime | None:
        """The meter's own timers."""
        return self.meter.next_deadline()

    def handle_timer(self, now: datetime) -> Events:
        """Run the meter's due timers."""
        return self.meter.handle_timer(now)

    # ---- the session -------------------------------------------------------------------
    def _step(
        self, m: MeterCore, data: bytes, replies: list[bytes | None], now: datetime, out: Events
    ) -> None:
        if self.last is not None and now - self.last > SESSION_TIMEOUT:
            self.phase = Phase.IDLE
        self.last = now
        replies.append(self._answer(m, data, now, out))

    def _answer(self, m: MeterCore, data: bytes, now: datetime, out: Events) -> bytes | None:
        first = data[:1]
        if first == b"/":
            return self._sign_on(m, data)
        if first == NAK:
            return self.sent if self.phase is not Phase.IDLE else None
        if first == ACK:
            return self._option(m, data, now)
        try:
            command, kind, body = parse_command(data)
        except ReadoutCodecError:
            return NAK if self.phase is not Phase.IDLE else None
        if command == "B":
            self.phase = Phase.IDLE
            return None
        if self.phase is Phase.PASSWORD and (command, kind) == ("P", "1"):
            return self._password(m, body, now, out)
        if self.phase is Phase.PROGRAMMING and command == "R" and kind in ("1", "5"):
            try:
                address = parse_data_sets(body or "")[0][0] or ""
            except (ReadoutCodecError, IndexError):
                return answer_message(["(ERROR)"])
            return answer_message(object_lines(take_readout(m, now), address))
        if self.phase is Phase.IDLE:
            return None
        return answer_message(["(ERROR)"])

    def _sign_on(self, m: MeterCore, data: bytes) -> bytes | None:
        """``/?[address]!CRLF``: answer when the address is empty or this meter's number."""
        if not (data.startswith(b"/?") and data.endswith(b"!" + CRLF)):
            return None
        address = data[2:-3].decode("ascii", "replace")
        if address and address.lstrip("0") != m.key.pan.lstrip("0"):
            self.phase = Phase.IDLE
            return None
        self.phase = Phase.SIGNED_ON
        return IDENT

    def _option(self, m: MeterCore, data: bytes, now: datetime) -> bytes | None:
        """``ACK 0 Z Y CRLF``: Y 0 = data readout, 1 = programming mode."""
        if self.phase is not Phase.SIGNED_ON or len(data) != 6 or data[4:] != CRLF:
            self.phase = Phase.IDLE
            return None
        mode = data[3:4]
        if data[1:2] != b"0" or data[2:3] != BAUD_CHAR.encode() or mode not in (b"0", b"1"):
            self.phase = Phase.IDLE
            return None
        if mode == b"0":
            self.phase = Phase.IDLE  # the data readout ends the session
            return data_message(public_lines(take_readout(m, now)))
        self.seed = m.lockout.ir_seq + 1
        self.phase = Phase.PASSWORD
        return command_message("P", "0", f"({self.seed})")  # P0: the seed to answer

    def _password(self, m: MeterCore, body: str | None, now: datetime, out: Events) -> bytes:
        """P1: the MAC of the challenge, once; the counter is spent by the login.

        A wrong one is logged, but a run of them is one ``readout_refused`` entry (so
        guessing cannot push older events out of the 200-entry log), and after
        :data:`MAX_FAILURES` in a row every login is refused for :data:`LOCKOUT`.
        """
        try:
            answer = parse_data_sets(body or "")[0][1]
        except (ReadoutCodecError, IndexError):
            answer = ""
        seed = self.seed
        fresh = m.lockout.ir_seq < seed <= _MAX_SEQ  # no signed command took the counter since
        locked = self.locked_until is not None and now < self.locked_until
        self.phase = Phase.IDLE
        if locked:
            return NAK
        if fresh and answer and check_mac(m.key.value, challenge(m.key.pan, seed), answer):
            m.put(replace(m.lockout, ir_seq=seed))
            self.phase = Phase.PROGRAMMING
            self.failures = 0
            return ACK
        self.failures += 1
        if self.failures >= MAX_FAILURES:
            self.failures, self.locked_until = 0, now + LOCKOUT
        log = m.event_log.entries
        if not log or log[-1].kind is not LogKind.READOUT_REFUSED:
            m.log(LogKind.READOUT_REFUSED, now, out)
        return NAK
