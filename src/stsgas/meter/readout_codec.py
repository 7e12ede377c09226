"""IEC 62056-21 messages and data sets for the meter's readout, both ways (pure codec).

What travels (mode C): the sign-on ``/?!CRLF``, the identification
``/SGs5<ident>CRLF``, the option select ``ACK 0 5 Y CRLF``, command messages
``SOH C T [STX data] ETX BCC`` (P0/P1 password, R1 read, B0 break), and data
blocks ``STX lines ETX BCC``: each line is data sets ``address(value*unit)`` or
bare ``(value)``. BCC is the XOR of every 7-bit character after SOH/STX up to
and including ETX.

Profiles (hourly ``P.01``, monthly ``P.02``, event log ``P.98``) are a header
line ``P.0x(start)(status)(period)(n)(code)(unit)`` followed by one ``(value)``
line per interval; a gap in the intervals starts a new header. Event-log lines
carry their own time: ``(YYMMDDhhmmss)(code)(detail)``. Times are the meter's RTC
in UTC. Free text (a time-zone name, an event's detail) is escaped ``%XX``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Final

from stsgas.irproto import mac_for

__all__ = [
    "ACK",
    "BAUD_CHAR",
    "CRLF",
    "ETX",
    "IDENT",
    "NAK",
    "SIGN_ON",
    "SOH",
    "STX",
    "ReadoutCodecError",
    "answer_message",
    "bcc",
    "challenge",
    "command_message",
    "data_message",
    "data_set",
    "decode_events",
    "decode_hourly",
    "decode_monthly",
    "encode_events",
    "encode_hourly",
    "encode_monthly",
    "escape",
    "parse_block",
    "parse_command",
    "parse_data_sets",
    "password_for",
    "unescape",
]

SOH: Final = b"\x01"
STX: Final = b"\x02"
ETX: Final = b"\x03"
EOT: Final = b"\x04"
ACK: Final = b"\x06"
NAK: Final = b"\x15"
CRLF: Final = b"\r\n"
SIGN_ON: Final = b"/?!\r\n"
#: identification: maker "SGs" (lower-case last letter: 20 ms reaction time), 9600 Bd
IDENT: Final = b"/SGs5STSGAS-G1\r\n"
BAUD_CHAR: Final = "5"
#: characters a data set's value may not carry (they delimit the message)
RESERVED: Final = frozenset("()*!/\r\n\x02\x03")


#: what :func:`escape` writes as ``%XX``: the reserved characters, ``%`` itself, and
#: anything that is not printable ASCII
_ESCAPED: Final = RESERVED | {"%"}


def escape(text: str) -> str:
    """Free text (a time-zone name, an event's detail) as a data-set value: reserved,
    ``%`` and non-ASCII characters as ``%XX`` of their UTF-8 bytes (readable, exact)."""
    out = []
    for ch in text:
        if ch in _ESCAPED or not " " <= ch <= "~":
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out)


def unescape(value: str) -> str:
    """The text :func:`escape` wrote (ReadoutCodecError for a broken escape)."""
    if "%" not in value:
        return value
    raw = bytearray()
    i = 0
    while i < len(value):
        if value[i] == "%":
            pair = value[i + 1 : i + 3]
            if len(pair) != 2 or not all(c in "0123456789abcdefABCDEF" for c in pair):
                raise ReadoutCodecError(f"broken escape in {value!r}")
            raw.append(int(pair, 16))
            i += 3
        else:
            raw += value[i].encode("ascii")
            i += 1
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ReadoutCodecError(f"broken escape in {value!r}") from None


class ReadoutCodecError(ValueError):
    """A 62056-21 message or data set that is malformed or fails its BCC."""


def challenge(meter_number: str, seed: int) -> str:
    """The text whose MAC is the programming-mode password for ``seed``."""
    return f"readout {meter_number} {seed}"


def password_for(key: bytes, meter_number: str, seed: str) -> str:
    """The P1 answer to a P0 seed: the 16-hex MAC the signed IR commands use."""
    return mac_for(key, challenge(meter_number, int(seed)))


def bcc(data: bytes) -> bytes:
    """The block check character: XOR of the 7-bit characters."""
    x = 0
    for b in data:
        x ^= b & 0x7F
    return bytes((x,))


def _ascii(text: str) -> bytes:
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        raise ReadoutCodecError(f"not ASCII: {text!r}") from None


def data_set(address: str | None, value: str, unit: str = "") -> str:
    """``address(value*unit)``; ``(value)`` without an address."""
    for part in (address or "", value, unit):
        if RESERVED & set(part) or not part.isascii():
            raise ReadoutCodecError(f"a data set cannot carry {part!r}")
    return f"{address or ''}({value}{'*' + unit if unit else ''})"


def parse_data_sets(line: str) -> list[tuple[str | None, str, str]]:
    """The data sets of one line as (address or None, value, unit)."""
    out: list[tuple[str | None, str, str]] = []
    rest = line
    while rest:
        open_at, close_at = rest.find("("), rest.find(")")
        if open_at < 0 or close_at < open_at:
            raise ReadoutCodecError(f"not a data set: {rest!r}")
        address = rest[:open_at] or None
        value, _, unit = rest[open_at + 1 : close_at].partition("*")
        out.append((address, value, unit))
        rest = rest[close_at + 1 :]
    return out


def _block(lines: Iterable[str], tail: bytes) -> bytes:
    body = b"".join(_ascii(line) + CRLF for line in lines) + tail + ETX
    return STX + body + bcc(body)


def data_message(lines: Iterable[str]) -> bytes:
    """The readout's data message (mode 0): the block ends ``!CRLF``."""
    return _block(lines, b"!" + CRLF)


def answer_message(lines: Iterable[str]) -> bytes:
    """The answer to a read command (programming mode)."""
    return _block(lines, b"")


def _framed(message: bytes, start: bytes, shortest: int, what: str) -> str:
    """The ASCII text between ``start`` and ``ETX BCC``, the BCC checked: one frame
    check for data blocks and command messages."""
    if len(message) < shortest or message[:1] != start or message[-2:-1] != ETX:
        raise ReadoutCodecError(f"not a {what}")
    if bcc(message[1:-1]) != message[-1:]:
        raise ReadoutCodecError("block check character")
    try:
        return message[1:-2].decode("ascii")
    except UnicodeDecodeError:
        raise ReadoutCodecError(f"non-ASCII {what}") from None


def parse_block(message: bytes) -> list[str]:
    """The lines of a data or answer message (the ``!`` end line dropped)."""
    text = _framed(message, STX, 3, "data block")
    return [line for line in text.split("\r\n") if line and line != "!"]


def command_message(command: str, kind: str, data: str | None = None) -> bytes:
    """``SOH C T STX data ETX BCC`` (no STX part without data)."""
    body = _ascii(command + kind) + (STX + _ascii(data) + ETX if data is not None else ETX)
    return SOH + body + bcc(body)


def parse_command(message: bytes) -> tuple[str, str, str | None]:
    """(command letter, type digit, data or None) of a command message."""
    text = _framed(message, SOH, 5, "command message")
    head, data = text[:2], text[2:]
    if data and not data.startswith("\x02"):
        raise ReadoutCodecError("command data must follow STX")
    return head[:1], head[1:], data[1:] if data else None


# ---- profiles ---------------------------------------------------------------------------
def _runs(records: Sequence[tuple[int, str]], header: Callable[[int], str]) -> list[str]:
    """Header + ``(value)`` lines; a new header wherever the positions skip one."""
    lines: list[str] = []
    last: int | None = None
    for pos, value in records:
        if last is None or pos != last + 1:
            lines.append(header(pos))
        lines.append(data_set(None, value))
        last = pos
    return lines


def _hour_stamp(hour: int) -> str:
    return datetime.fromtimestamp(hour * 3600, UTC).strftime("%y%m%d%H%M")


def _volume(value: Decimal) -> str:
    return f"{value:.3f}"


def encode_hourly(records: Sequence[tuple[datetime, Decimal]]) -> list[str]:
    """Hourly volumes as ``P.01`` runs of 60-minute intervals."""
    if not records:
        return ["P.01()"]
    rows = [(int(at.timestamp()) // 3600, _volume(v)) for at, v in records]
    return _runs(rows, lambda h: f"P.01({_hour_stamp(h)})(00)(60)(1)(7-0:3.0.0)(m3)")


def _month_pos(label: str) -> int:
    year, dash, month = label[:4], label[4:5], label[5:]
    if dash != "-" or not (year + month).isdigit() or len(month) != 2 or not 1 <= int(month) <= 12:
        raise ReadoutCodecError(f"not a YYYY-MM month: {label!r}")
    return int(year) * 12 + int(month) - 1


_P02_TAIL: Final = "(00)(M)(1)(7-0:3.0.0)(m3)"


def encode_monthly(records: Sequence[tuple[str, Decimal]]) -> list[str]:
    """Billing-period volumes as ``P.02`` runs of months (stamp YYMM of the first)."""
    if not records:
        return ["P.02()"]
    rows = [(_month_pos(label), _volume(v)) for label, v in records]
    return _runs(
        rows, lambda p: f"P.02({p // 12 % 100:02d}{p % 12 + 1:02d})(00)(M)(1)(7-0:3.0.0)(m3)"
    )


def encode_events(records: Sequence[tuple[datetime, str, str]]) -> list[str]:
    """The event log as ``P.98``: one header, then ``(YYMMDDhhmmss)(code)(detail)`` per
    entry (the detail escaped, empty for most)."""
    if not records:
        return ["P.98()"]
    first = records[0][0].astimezone(UTC).strftime("%y%m%d%H%M%S")
    lines = [f"P.98({first})(00)()(3)(0-0:1.0.0)()(0-0:96.11.0)()(detail)()"]
    for at, code, detail in records:
        stamp = at.astimezone(UTC).strftime("%y%m%d%H%M%S")
        lines.append(data_set(None, stamp) + data_set(None, code) + data_set(None, escape(detail)))
    return lines


def _profile(lines: Sequence[str], name: str) -> list[tuple[str, list[str]]]:
    """(header start, [values]) runs of a profile answer."""
    runs: list[tuple[str, list[str]]] = []
    for line in lines:
        sets = parse_data_sets(line)
        if sets and sets[0][0] == name:
            if sets[0][1]:
                runs.append((sets[0][1], []))
            continue
        if not runs or any(a is not None for a, _, _ in sets):
            raise ReadoutCodecError(f"{name}: a value line before its header: {line!r}")
        runs[-1][1].extend(v for _, v, _ in sets)
    return runs


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ReadoutCodecError(f"not a decimal: {text!r}") from None
    if not value.is_finite():
        raise ReadoutCodecError(f"not a decimal: {text!r}")
    return value


def _stamp(text: str, fmt: str) -> datetime:
    """A ``YY…`` stamp in 2000..2099 (the meter's calendar; strptime's %y would pivot at 69)."""
    if len(text) != 2 * fmt.count("%") or not text.isdigit():
        raise ReadoutCodecError(f"not a time stamp: {text!r}")
    try:
        return datetime.strptime("20" + text, fmt.replace("%y", "%Y")).replace(tzinfo=UTC)
    except ValueError:
        raise ReadoutCodecError(f"not a time stamp: {text!r}") from None


def decode_hourly(lines: Sequence[str]) -> tuple[tuple[datetime, Decimal], ...]:
    """The hourly records of a ``P.01`` answer."""
    out: list[tuple[datetime, Decimal]] = []
    for start, values in _profile(lines, "P.01"):
        hour = int(_stamp(start, "%y%m%d%H%M").timestamp()) // 3600
        out.extend(
            (datetime.fromtimestamp((hour + i) * 3600, UTC), _decimal(v))
            for i, v in enumerate(values)
        )
    return tuple(out)


def decode_monthly(lines: Sequence[str]) -> tuple[tuple[str, Decimal], ...]:
    """The monthly records of a ``P.02`` answer."""
    out: list[tuple[str, Decimal]] = []
    for start, values in _profile(lines, "P.02"):
        if len(start) != 4 or not start.isdigit() or not 1 <= int(start[2:]) <= 12:
            raise ReadoutCodecError(f"P.02: not a YYMM stamp: {start!r}")
        pos = (2000 + int(start[:2])) * 12 + int(start[2:]) - 1
        for i, v in enumerate(values):
            p = pos + i
            out.append((f"{p // 12:04d}-{p % 12 + 1:02d}", _decimal(v)))
    return tuple(out)


def decode_events(lines: Sequence[str]) -> tuple[tuple[datetime, str, str], ...]:
    """The event-log entries of a ``P.98`` answer."""
    out: list[tuple[datetime, str, str]] = []
    for _, values in _profile(lines, "P.98"):
        if len(values) % 3:
            raise ReadoutCodecError("P.98: an entry without its code or detail")
        for i in range(0, len(values), 3):
            stamp, code, detail = values[i : i + 3]
            out.append((_stamp(stamp, "%y%m%d%H%M%S"), code, unescape(detail)))
    return tuple(out)
