"""Decoder key generation: DKGA02 and DKGA04 (§6.5.2).

* DKGA02: ``X = PANblock XOR ControlBlock``; ``DK = DES(VK, X) XOR X XOR VK``.
* DKGA04: ``DK = HMAC-SHA-256(VK, data)`` truncated to the key length, where
  ``data`` is a sequence of length-prefixed ASCII fields (see :func:`dkga04_input`).

Key revision numbers 10–15 are written as one lowercase hex digit in the
DKGA04 input, as the control block writes them; no public vector covers them.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import TypedDict

from stsgas.sts.ciphers.dea import des_encrypt_block
from stsgas.sts.errors import DecoderKeyError
from stsgas.sts.identity import control_block, pan_block
from stsgas.sts.keys import DKGA, EA, DecoderKey, MeterConfig
from stsgas.sts.tid import BaseDate

__all__ = ["derive", "derive_cached", "dkga02", "dkga04", "dkga04_input"]


def dkga02(vending_key: bytes, *, pan: str, key_type: int, sgc: str, ti: str, krn: int) -> bytes:
    """DKGA02: the 64-bit decoder key from a 64-bit vending key."""
    if len(vending_key) != 8:
        raise DecoderKeyError("a DKGA02 vending key is 8 bytes")
    x = pan_block(pan, key_type) ^ control_block(key_type, sgc, ti, krn)
    vk = int.from_bytes(vending_key, "big")
    e = int.from_bytes(des_encrypt_block(vending_key, x.to_bytes(8, "big")), "big")
    return (e ^ x ^ vk).to_bytes(8, "big")


def _lv(text: str) -> bytes:
    raw = text.encode("ascii")
    return bytes([len(raw)]) + raw


def dkga04_input(
    *, pan: str, key_type: int, sgc: str, ti: str, krn: int, base_date: BaseDate, ea: EA
) -> bytes:
    """The HMAC message of DKGA04."""
    bits = 128 if ea is EA.MISTY1 else 64
    return b"".join(
        (
            b"\x04",
            _lv("04"),
            _lv(f"{int(base_date) % 100:02d}"),
            _lv(f"{int(ea):02d}"),
            _lv(ti),
            b"\x00\x04",
            _lv(sgc),
            _lv(f"{key_type:x}"),
            _lv(f"{krn:x}"),
            _lv(pan),
            bits.to_bytes(4, "big"),
        )
    )


def dkga04(
    vending_key: bytes,
    *,
    pan: str,
    key_type: int,
    sgc: str,
    ti: str,
    krn: int,
    base_date: BaseDate,
    ea: EA,
) -> bytes:
    """DKGA04: the decoder key (8 bytes, or 16 for MISTY1) from a vending key ≥ 160 bits."""
    if len(vending_key) < 20:
        raise DecoderKeyError("a DKGA04 vending key is at least 160 bits (20 bytes)")
    data = dkga04_input(
        pan=pan, key_type=key_type, sgc=sgc, ti=ti, krn=krn, base_date=base_date, ea=ea
    )
    return hmac.digest(vending_key, data, hashlib.sha256)[: ea.key_bytes]


class _Identity(TypedDict):
    """The meter identity both algorithms take (DKGA04 adds base date and EA)."""

    pan: str
    key_type: int
    sgc: str
    ti: str
    krn: int


def derive(meter: MeterConfig) -> DecoderKey:
    """The decoder key of a meter config (its own ``decoder_key`` if it has one)."""
    if meter.decoder_key is not None:
        return DecoderKey(meter.decoder_key, meter.ea)
    assert meter.vending_key is not None  # checked by MeterConfig
    ids: _Identity = {
        "pan": meter.pan,
        "key_type": meter.key_type,
        "sgc": meter.sgc,
        "ti": meter.ti,
        "krn": meter.krn,
    }
    if meter.dkga is DKGA.DKGA02:
        value = dkga02(meter.vending_key, **ids)
    else:
        value = dkga04(meter.vending_key, **ids, base_date=meter.base_date, ea=meter.ea)
    return DecoderKey(value, meter.ea)


@lru_cache(maxsize=65536)
def derive_cached(meter: MeterConfig) -> DecoderKey:
    """:func:`derive`, cached per (hashable, frozen) meter config."""
    return derive(meter)
