"""The IR port's frames and MACs: the protocol lives in :mod:`stsgas.irproto`
(shared with the IR pad and the vending system); the meter re-exports it."""

from __future__ import annotations

from stsgas.irproto import (
    ETX,
    MAX_PAYLOAD,
    SETTING_NAMES,
    STX,
    FrameError,
    check_mac,
    decode_frame,
    encode_frame,
    mac_for,
    parse_settings,
    settings_text,
    signed,
    steps_text,
)

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
