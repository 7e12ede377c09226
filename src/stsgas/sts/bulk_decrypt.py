"""Bulk token decoding: 20-digit tokens in, checked ``(class, subclass, data44)`` arrays out.

The inverse of :mod:`stsgas.sts.bulk`, for the decoding half of a batch:
digits to the 66-bit value, class transposition, the cipher run backwards
over whole arrays (STA with its inverse tables, MISTY1 with FL⁻¹, DEA one
ECB call per distinct key) and the CRC check. Bit-identical to
:func:`stsgas.sts.decode_fields` (the tests compare them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from stsgas.sts.bulk import (
    U64,
    KeyIndex,
    _Arr,
    _crc_fields,
    _fo,
    _misty1_round_keys,
    _sta_tables,
)
from stsgas.sts.ciphers.sta import StaCipher
from stsgas.sts.codec import cipher_for
from stsgas.sts.errors import DecoderKeyError
from stsgas.sts.keys import EA

__all__ = ["Decoded", "decode_bulk", "parse_digits_bulk"]

_CHUNK: Final = 8192
_M64: Final = np.uint64((1 << 64) - 1)
_KEEP: Final = _M64 & ~np.uint64(3 << 27)


@dataclass(frozen=True, slots=True, kw_only=True)
class Decoded:
    """Per token: class, subclass, the 44 data bits, and whether the CRC matched."""

    classes: npt.NDArray[np.uint64]
    subclasses: npt.NDArray[np.uint64]
    data: npt.NDArray[np.uint64]
    crc_ok: npt.NDArray[np.bool_]


def parse_digits_bulk(digits: npt.NDArray[np.bytes_]) -> tuple[U64, U64]:
    """``(hi, lo)`` of 20-digit ASCII tokens (an ``S20`` array of digits only).

    ``hi`` is the value's bits 64 and up: a token is valid only where it is 0..3.
    """
    d = digits.view(np.uint8).reshape(-1, 20).astype(np.uint64) - np.uint64(ord("0"))
    powers = np.uint64(10) ** np.arange(9, -1, -1, dtype=np.uint64)
    high = d[:, :10] @ powers  # < 10**10
    low = d[:, 10:] @ powers
    # high * 10**10 = (high * 5**10) << 10, and high * 5**10 < 2**58 fits.
    scaled = high * np.uint64(5**10)
    lo = (scaled << np.uint64(10)) + low  # wraps modulo 2**64
    carry = (lo < low).astype(np.uint64)
    hi = (scaled >> np.uint64(54)) + carry
    return hi, lo


class _StaInverse:
    """Vectorised STA decryption for one table set."""

    def __init__(self, cipher: StaCipher) -> None:
        pinv, dec, sinv = cipher.decryption_tables()
        self.cipher = cipher
        self.pinv = np.array([v for b in range(8) for v in pinv[b]], dtype=np.uint64)
        self.dec = np.array(
            [v for b in range(8) for sel in range(4) for v in dec[b][sel]], dtype=np.uint64
        )
        self.last = np.array(
            [v << (8 * b) for b in range(8) for sel in range(4) for v in sinv[sel]],
            dtype=np.uint64,
        )

    def decrypt(self, keys: KeyIndex, blocks: U64) -> U64:
        from stsgas.sts.bulk import _StaBulk

        uniq = np.array([k.as_int for k in keys.keys], dtype=np.uint64)
        per_key = _StaBulk.key_offsets(uniq)
        out = np.empty_like(blocks)
        for start in range(0, blocks.size, _CHUNK):
            sl = slice(start, start + _CHUNK)
            offs = np.take(per_key, keys.index[sl], axis=2)
            x = blocks[sl].copy()
            n = x.size
            xb = x.view(np.uint8).reshape(n, 8)
            acc = np.zeros(n, dtype=np.uint64)
            for b in range(8):
                acc |= self.pinv[xb[:, b].astype(np.intp) + 256 * b]
            x = acc
            for r in range(15, -1, -1):
                table = self.dec if r else self.last
                xb = x.view(np.uint8).reshape(n, 8)
                acc = np.zeros(n, dtype=np.uint64)
                for b in range(8):
                    acc |= table[offs[r, b] + xb[:, b]]
                x = acc
            out[sl] = x
        return out


_STA: dict[int, _StaInverse] = {}


def _sta(keys: KeyIndex, blocks: U64) -> U64:
    return _sta_tables(_STA, _StaInverse).decrypt(keys, blocks)


def _fl_inv(x: _Arr, ek: _Arr, r: int) -> _Arr:
    d0, d1 = x >> 16, x & 0xFFFF
    h = r // 2
    if r % 2 == 0:
        d0 = d0 ^ (d1 | ek[(h + 6) % 8 + 8])
        d1 = d1 ^ (d0 & ek[h])
    else:
        d0 = d0 ^ (d1 | ek[(h + 4) % 8])
        d1 = d1 ^ (d0 & ek[(h + 2) % 8 + 8])
    out: _Arr = (d0 << 16) | d1
    return out


def _misty1(keys: KeyIndex, blocks: U64) -> U64:
    ek = _misty1_round_keys(keys)
    d1: _Arr = (blocks >> np.uint64(32)).astype(np.uint32)
    d0: _Arr = (blocks & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    d0, d1 = _fl_inv(d0, ek, 8), _fl_inv(d1, ek, 9)
    for r in (6, 4, 2, 0):
        d0 = d0 ^ _fo(d1, ek, r + 1)
        d1 = d1 ^ _fo(d0, ek, r)
        d0, d1 = _fl_inv(d0, ek, r), _fl_inv(d1, ek, r + 1)
    return (d0.astype(np.uint64) << np.uint64(32)) | d1.astype(np.uint64)


def _dea(keys: KeyIndex, blocks: U64) -> U64:
    cipher = cipher_for(EA.DEA)
    out = np.empty_like(blocks)
    be = blocks.astype(">u8")
    for k, key in enumerate(keys.keys):
        sel = np.flatnonzero(keys.index == k)
        raw = cipher.decrypt_many(key.as_int, be[sel].tobytes())  # type: ignore[attr-defined]
        out[sel] = np.frombuffer(raw, dtype=">u8").astype(np.uint64)
    return out


_DECRYPT = {EA.STA: _sta, EA.DEA: _dea, EA.MISTY1: _misty1}


def decode_bulk(keys: KeyIndex, hi: U64, lo: U64) -> Decoded:
    """Decrypt and check tokens (``hi`` 0..3, see :func:`parse_digits_bulk`) of one algorithm.

    Class 1 tokens are not encrypted and need no key; their key is ignored.
    """
    n = lo.size
    if n and any(k.ea is not keys.keys[0].ea for k in keys.keys):
        raise DecoderKeyError("one bulk call takes keys of one algorithm")
    cls = (lo >> np.uint64(27)) & np.uint64(3)
    block = (lo & _KEEP) | (hi << np.uint64(27))
    if n and keys.keys:
        block = np.where(cls == 1, block, _DECRYPT[keys.keys[0].ea](keys, block))
    sub = block >> np.uint64(60)
    data = (block >> np.uint64(16)) & np.uint64((1 << 44) - 1)
    clear = (cls << np.uint64(48)) | (sub << np.uint64(44)) | data
    currency = (cls == 0) & (sub >= 4) & (sub <= 7)
    crc_ok = _crc_fields(clear, currency) == (block & np.uint64(0xFFFF))
    return Decoded(classes=cls, subclasses=sub, data=data, crc_ok=crc_ok)
