"""The IR pad's side of the optical readout (IEC 62056-21 mode C), and the stream splitters.

One pty or IR dongle carries both protocols: today's STX frames and the
62056-21 messages. :func:`split_to_meter` finds message ends for the meter's
side, :func:`split_from_meter` for the reader's. :class:`OpticalReader` runs
the two sessions a full readout needs: the public data readout (registers, no
password), then programming mode with the P0/P1 login for the settings and the
monthly, hourly and event profiles.
"""

from __future__ import annotations

from dataclasses import dataclass

from stsgas.irlink.client import IrPadError, IrTimeout, split_frame
from stsgas.irlink.links import IrLink
from stsgas.meter.readout import BY_OBIS, OBJECTS, Readout, parse_object
from stsgas.meter.readout_codec import (
    ACK,
    BAUD_CHAR,
    CRLF,
    EOT,
    ETX,
    NAK,
    SIGN_ON,
    SOH,
    STX,
    ReadoutCodecError,
    command_message,
    decode_events,
    decode_hourly,
    decode_monthly,
    parse_block,
    parse_command,
    parse_data_sets,
    password_for,
)  # fmt: skip

__all__ = ["OpticalReader", "ReadoutRefused", "WireCount", "split_from_meter", "split_to_meter"]

_STARTS = (STX, SOH, ACK, NAK, b"/")
#: the longest a meter may take to answer after the baud switch-over (62056-21: 1.5 s)
MAX_REACTION_S = 1.5


def _noise(buffer: bytes) -> int:
    """Bytes before the next message start come out on their own (0: wait for more)."""
    starts = [i for i in (buffer.find(s, 1) for s in _STARTS) if i > 0]
    return min(starts) if starts else 0


def _through(buffer: bytes, end: bytes, extra: int) -> int:
    at = buffer.find(end, 1)
    return at + 1 + extra if at >= 0 and len(buffer) >= at + 1 + extra else 0


def _block_end(buffer: bytes) -> int:
    ends = [i for i in (buffer.find(ETX, 1), buffer.find(EOT, 1)) if i >= 0]
    return min(ends) + 2 if ends and len(buffer) >= min(ends) + 2 else 0


def split_to_meter(buffer: bytes) -> int:
    """The first message a meter's IR window got: an STX frame or a 62056-21 message."""
    first = buffer[:1]
    if first == STX:
        return split_frame(buffer)
    if first in (b"/", ACK):
        return _through(buffer, b"\n", 0)
    if first == SOH:
        return _block_end(buffer)
    if first == NAK:
        return 1
    if first == b"\x00":
        return len(buffer) - len(buffer.lstrip(b"\x00"))
    return _noise(buffer)


def split_from_meter(buffer: bytes) -> int:
    """The first 62056-21 message a reader got (identification, block, ACK or NAK)."""
    first = buffer[:1]
    if first == b"/":
        return _through(buffer, b"\n", 0)
    if first in (STX, SOH):
        return _block_end(buffer)
    if first in (ACK, NAK):
        return 1
    return _noise(buffer)


class ReadoutRefused(IrPadError):
    """The meter refused the password (a wrong key) or the session."""


@dataclass
class WireCount:
    """Bytes both ways: at 300 Bd before the switch-over, at 9600 Bd after it."""

    slow: int = 0
    fast: int = 0

    def seconds(self, baud: int = 9600, sign_on_baud: int = 300) -> float:
        """Time on the wire at 10 bits a character (7E1 + start bit)."""
        return self.slow * 10 / sign_on_baud + self.fast * 10 / baud


class OpticalReader:
    """Reads a meter's optical port over any :class:`IrLink`."""

    def __init__(self, link: IrLink, *, timeout: float = 5.0) -> None:
        self.link = link
        self.timeout = timeout
        self.wire = WireCount()

    def _send(self, data: bytes, *, slow: bool = False) -> None:
        if slow:
            self.wire.slow += len(data)
        else:
            self.wire.fast += len(data)
        self.link.send(data)

    def _receive(self, *, slow: bool = False, extra: float = 0.0) -> bytes:
        message = self.link.receive(self.timeout + extra)
        if message is None:
            raise IrTimeout(f"no reply within {self.timeout:g} s")
        # a long answer on a slow line outlasts one timeout: the link hands over what
        # came so far; go on while it keeps coming (a parser error names a cut answer)
        while split_from_meter(message) != len(message):
            more = self.link.receive(self.timeout)
            if more is None:
                break
            message += more
        if slow:
            self.wire.slow += len(message)
        else:
            self.wire.fast += len(message)
        return message

    def sign_on(self, mode: str) -> bytes:
        """``/?!``, the identification, then ``ACK 0 5 mode``; the meter's first answer."""
        self._send(SIGN_ON, slow=True)
        ident = self._receive(slow=True)
        if not ident.startswith(b"/") or len(ident) < 7 or ident[4:5] != BAUD_CHAR.encode():
            raise IrPadError(f"not a 62056-21 identification at 9600 Bd: {ident!r}")
        self._send(ACK + b"0" + BAUD_CHAR.encode() + mode.encode() + CRLF, slow=True)
        return self._receive(extra=MAX_REACTION_S)  # the meter may pause for the switch-over

    def public(self) -> dict[str, str]:
        """The data readout (no password): public object name -> value text."""
        lines = self._block(self.sign_on("0"))
        return self._named(lines)

    def _block(self, message: bytes) -> list[str]:
        try:
            return parse_block(message)
        except ReadoutCodecError as exc:
            raise IrPadError(f"bad data block ({exc}): {message[:40]!r}") from None

    @staticmethod
    def _named(lines: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for line in lines:
            for address, value, _unit in parse_data_sets(line):
                obj = BY_OBIS.get(address or "")
                if obj is not None:
                    out[obj.name] = value
        return out

    def login(self, key: bytes, meter_number: str) -> None:
        """Programming mode: answer the P0 seed with its MAC (ReadoutRefused on NAK)."""
        request = self.sign_on("1")
        try:
            command, kind, data = parse_command(request)
            seed = parse_data_sets(data or "")[0][1]
        except (ReadoutCodecError, IndexError):
            raise IrPadError(f"not a password request: {request!r}") from None
        if (command, kind) != ("P", "0") or not seed.isdigit():
            raise IrPadError(f"not a password request: {request!r}")
        self._send(command_message("P", "1", f"({password_for(key, meter_number, seed)})"))
        answer = self._receive()
        if answer != ACK:
            raise ReadoutRefused("the meter refused the password (is it this meter's key?)")

    def read(self, address: str) -> list[str]:
        """``R1 address()`` in programming mode: the answer's lines."""
        self._send(command_message("R", "1", f"{address}()"))
        return self._block(self._receive())

    def end(self) -> None:
        """``B0``: end the session (no answer)."""
        self._send(command_message("B", "0"))

    def read_all(self, key: bytes) -> Readout:
        """Both sessions: everything the meter gives, as a :class:`Readout`."""
        public = self.public()
        try:
            number, mode, at = public["meter_number"], public["mode"], public["read_at"]
        except KeyError as exc:
            raise IrPadError(f"the data readout lacks {exc}") from None
        self.login(key, number)
        try:
            settings: list[tuple[str, str | int]] = []
            for obj in OBJECTS:
                if obj.kind != "setting":
                    continue
                got = self._named(self.read(obj.obis))
                if obj.name in got:
                    settings.append((obj.name, parse_object(obj, got[obj.name])))
            monthly = decode_monthly(self.read("P.02"))
            hourly = decode_hourly(self.read("P.01"))
            events = decode_events(self.read("P.98"))
        except ReadoutCodecError as exc:
            raise IrPadError(f"bad readout data: {exc}") from None
        finally:
            self.end()
        doc = {
            "format": "stsgas-readout/1",
            "meter_number": number,
            "read_at": at,
            "mode": mode,
            "registers": {
                o.name: public[o.name] for o in OBJECTS if o.kind == "register" and o.name in public
            },
            "settings": dict(settings),
            "monthly": [],
            "hourly": [],
            "events": [],
        }
        base = Readout.from_json(doc)
        return Readout(
            base.meter_number, base.read_at, base.mode, base.registers, base.settings,
            monthly, hourly, events,
        )  # fmt: skip
