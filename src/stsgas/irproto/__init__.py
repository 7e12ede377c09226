"""The meter's IR protocol, shared by the meter, the IR pad and the vending system.

Frames are ``STX payload ETX CRC`` with CRC-16/CCITT as 4 hex digits.
Payloads are ASCII commands: ``token <20 digits>``, ``query <NN>``, ``seq``,
and the authenticated ``clock <n> <ISO time> <mac>``, ``clear_tamper <n> <mac>``
``tariff <n> <ISO time> <steps> <mac>`` and
``settings <n> <name>=<value>[,<name>=<value>...] <mac>``. ``mac`` is the first 8 bytes
(16 hex) of HMAC-SHA256 keyed with the meter's decoder key over the payload
before it; ``n`` must exceed the last counter the meter accepted (no replay).
Replies use the same frame: ``ok <text>`` or ``err <code>``.

This package is pure codec: it imports nothing else of stsgas, so the
vending system can sign a command for a meter without importing the meter.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
from collections.abc import Sequence

__all__ = [
    "ETX",
    "MAX_PAYLOAD",
    "SETTING_NAMES",
    "STX",
    "FrameError",
    "check_mac",
    "decode_frame",
    "encode_frame",
    "mac_for",
    "parse_settings",
    "settings_text",
    "signed",
    "steps_text",
]

STX = b"\x02"
ETX = b"\x03"
MAX_PAYLOAD = 200


class FrameError(ValueError):
    """A frame that is malformed or fails its checksum."""


def encode_frame(payload: str) -> bytes:
    """Frame an ASCII payload."""
    body = payload.encode("ascii")
    return STX + body + ETX + b"%04X" % binascii.crc_hqx(body, 0xFFFF)


def decode_frame(data: bytes) -> str:
    """The payload of a well-formed frame; FrameError otherwise."""
    if len(data) < 6 or data[:1] != STX or data[-5:-4] != ETX:
        raise FrameError("not a frame")
    body = data[1:-5]
    if len(body) > MAX_PAYLOAD:
        raise FrameError("frame too long")
    try:
        crc = int(data[-4:].decode("ascii"), 16)
        text = body.decode("ascii")
    except (UnicodeDecodeError, ValueError):
        raise FrameError("bad frame characters") from None
    if crc != binascii.crc_hqx(body, 0xFFFF):
        raise FrameError("checksum")
    return text


def mac_for(key: bytes, payload: str) -> str:
    """The 16-hex MAC an authenticated command appends."""
    return hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()[:8].hex()


def check_mac(key: bytes, payload: str, mac: str) -> bool:
    """Constant-time MAC check."""
    return hmac.compare_digest(mac_for(key, payload), mac.lower())


def signed(key: bytes, command: str, seq: int, *args: str) -> str:
    """An authenticated payload: ``command seq args… mac``."""
    payload = " ".join([command, str(seq), *args])
    return f"{payload} {mac_for(key, payload)}"


def steps_text(steps: list[tuple[str | None, str]]) -> str:
    """A step tariff as the ``tariff`` command carries it: ``10:2.50,20:3.00,-:3.50``
    from ``(up_to_m3 or None, price per m3)`` pairs of decimal strings."""
    return ",".join(f"{'-' if top is None else top}:{price}" for top, price in steps)


SETTING_NAMES: tuple[str, ...] = (
    "overdraft",
    "recharge_limit",
    "low_credit_alarm",
    "battery_low_1_v",
    "battery_low_2_v",
    "auto_clean_days",
    "timezone",
    "billing_day",
    "excess_flow_m3h",
    "excess_flow_s",
    "leak_flow_m3h",
    "leak_s",
)
"""The field settings the ``settings`` command may carry (units fixed per name)."""

_VALUE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-+/")


def _check_pair(name: str, value: str, seen: set[str]) -> None:
    if name not in SETTING_NAMES:
        raise FrameError(f"unknown setting {name!r}")
    if name in seen:
        raise FrameError(f"setting {name} given twice")
    if not value or not set(value) <= _VALUE_CHARS:
        raise FrameError(f"bad value for {name}")
    seen.add(name)


def settings_text(pairs: Sequence[tuple[str, str]]) -> str:
    """Field settings as the ``settings`` command carries them: ``name=value,...``.

    Refuses (FrameError) what the meter could not parse back: an unknown or
    repeated name, an empty value or one with a space, comma or ``=``.
    """
    if not pairs:
        raise FrameError("no settings")
    seen: set[str] = set()
    for name, value in pairs:
        _check_pair(name, value, seen)
    return ",".join(f"{name}={value}" for name, value in pairs)


def parse_settings(text: str) -> tuple[tuple[str, str], ...]:
    """The ``(name, value)`` pairs of a ``settings`` command's middle field, in
    order; FrameError for anything :func:`settings_text` would not produce."""
    if not text:
        raise FrameError("no settings")
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in text.split(","):
        name, eq, value = item.partition("=")
        if not eq:
            raise FrameError(f"setting without '=': {item!r}")
        _check_pair(name, value, seen)
        pairs.append((name, value))
    return tuple(pairs)
