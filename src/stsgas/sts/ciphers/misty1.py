"""EA11, MISTY1 (RFC 2994): a 64-bit block cipher with a 128-bit key.

The decoder key is the 16 bytes in IEC (big-endian) order, and the block is
the 8-byte big-endian token block. Checked against RFC 2994's own vectors and
the STS 531-1-0-04 suite.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Final

from stsgas.sts.errors import DecoderKeyError

__all__ = ["Misty1Cipher"]

_TABLES: Final = json.loads(
    resources.files("stsgas.sts").joinpath("data/misty1-tables.json").read_text("utf-8")
)
_S7: Final[tuple[int, ...]] = tuple(_TABLES["s7"])
_S9: Final[tuple[int, ...]] = tuple(_TABLES["s9"])
_CACHE_LIMIT: Final = 65536
_M32: Final = 0xFFFFFFFF


def _fi(x: int, k: int) -> int:
    d9 = x >> 7
    d7 = x & 0x7F
    d9 = _S9[d9] ^ d7
    d7 = (_S7[d7] ^ d9) & 0x7F
    d7 ^= k >> 9
    d9 ^= k & 0x1FF
    d9 = _S9[d9] ^ d7
    return (d7 << 9) | d9


def _expand(key: int) -> tuple[int, ...]:
    """The 32-word key schedule: K1..K8, K'1..K'8, and K' split 9/7 bits."""
    k = [(key >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
    kp = [_fi(k[i], k[(i + 1) % 8]) for i in range(8)]
    return (*k, *kp, *(v & 0x1FF for v in kp), *(v >> 9 for v in kp))


def _fo(x: int, ek: tuple[int, ...], r: int) -> int:
    t0 = x >> 16
    t1 = x & 0xFFFF
    t0 ^= ek[r]
    t0 = _fi(t0, ek[((r + 5) % 8) + 8])
    t0 ^= t1
    t1 ^= ek[(r + 2) % 8]
    t1 = _fi(t1, ek[((r + 1) % 8) + 8])
    t1 ^= t0
    t0 ^= ek[(r + 7) % 8]
    t0 = _fi(t0, ek[((r + 3) % 8) + 8])
    t0 ^= t1
    t1 ^= ek[(r + 4) % 8]
    return (t1 << 16) | t0


def _fl(x: int, ek: tuple[int, ...], r: int) -> int:
    d0 = x >> 16
    d1 = x & 0xFFFF
    h = r // 2
    if r % 2 == 0:
        d1 ^= d0 & ek[h]
        d0 ^= d1 | ek[(h + 6) % 8 + 8]
    else:
        d1 ^= d0 & ek[(h + 2) % 8 + 8]
        d0 ^= d1 | ek[(h + 4) % 8]
    return (d0 << 16) | d1


def _fl_inv(x: int, ek: tuple[int, ...], r: int) -> int:
    d0 = x >> 16
    d1 = x & 0xFFFF
    h = r // 2
    if r % 2 == 0:
        d0 ^= d1 | ek[(h + 6) % 8 + 8]
        d1 ^= d0 & ek[h]
    else:
        d0 ^= d1 | ek[(h + 4) % 8]
        d1 ^= d0 & ek[(h + 2) % 8 + 8]
    return (d0 << 16) | d1


def _round_keys(ek: tuple[int, ...]) -> tuple[int, ...]:
    """The subkeys in the order :meth:`Misty1Cipher.encrypt` uses them."""
    out: list[int] = []
    for r in (0, 2, 4, 6):
        for fl_r in (r, r + 1):
            h = fl_r // 2
            if fl_r % 2 == 0:
                out += [ek[h], ek[(h + 6) % 8 + 8]]
            else:
                out += [ek[(h + 2) % 8 + 8], ek[(h + 4) % 8]]
        for fo_r in (r, r + 1):
            out += [
                ek[fo_r],
                ek[(fo_r + 5) % 8 + 8],
                ek[(fo_r + 2) % 8],
                ek[(fo_r + 1) % 8 + 8],
                ek[(fo_r + 7) % 8],
                ek[(fo_r + 3) % 8 + 8],
                ek[(fo_r + 4) % 8],
            ]
    for fl_r in (8, 9):
        h = fl_r // 2
        if fl_r % 2 == 0:
            out += [ek[h], ek[(h + 6) % 8 + 8]]
        else:
            out += [ek[(h + 2) % 8 + 8], ek[(h + 4) % 8]]
    return tuple(out)


@dataclass(slots=True)
class Misty1Cipher:
    """MISTY1 over 64-bit ints; keys are 128-bit ints in IEC order."""

    _schedules: dict[int, tuple[int, ...]] = field(default_factory=dict, repr=False)
    _rounds: dict[int, tuple[int, ...]] = field(default_factory=dict, repr=False)

    def _ek(self, key: int) -> tuple[int, ...]:
        ek = self._schedules.get(key)
        if ek is None:
            if not 0 <= key < 1 << 128:
                raise DecoderKeyError("a MISTY1 decoder key is 128 bits")
            if len(self._schedules) >= _CACHE_LIMIT:
                self._schedules.clear()
            ek = self._schedules[key] = _expand(key)
        return ek

    def encrypt(self, key: int, block: int) -> int:
        """Encrypt one 64-bit block (FL/FO inlined over precomputed round keys)."""
        rk = self._rounds.get(key)
        if rk is None:
            rk = _round_keys(self._ek(key))
            if len(self._rounds) >= _CACHE_LIMIT:
                self._rounds.clear()
            self._rounds[key] = rk
        s7, s9 = _S7, _S9
        d0 = block >> 32
        d1 = block & _M32
        for i in (0, 18, 36, 54):
            # FL on both halves
            a, b = d0 >> 16, d0 & 0xFFFF
            b ^= a & rk[i]
            a ^= b | rk[i + 1]
            d0 = (a << 16) | b
            a, b = d1 >> 16, d1 & 0xFFFF
            b ^= a & rk[i + 2]
            a ^= b | rk[i + 3]
            d1 = (a << 16) | b
            # d1 ^= FO(d0): three FI rounds, FI written out (x: FI input, y: after the subkey)
            t0, t1 = d0 >> 16, d0 & 0xFFFF
            x = t0 ^ rk[i + 4]
            d9 = s9[x >> 7] ^ (x & 0x7F)
            y = ((((s7[x & 0x7F] ^ d9) & 0x7F) << 9) | d9) ^ rk[i + 5]
            d7 = y >> 9
            t0 = ((d7 << 9) | (s9[y & 0x1FF] ^ d7)) ^ t1
            x = t1 ^ rk[i + 6]
            d9 = s9[x >> 7] ^ (x & 0x7F)
            y = ((((s7[x & 0x7F] ^ d9) & 0x7F) << 9) | d9) ^ rk[i + 7]
            d7 = y >> 9
            t1 = ((d7 << 9) | (s9[y & 0x1FF] ^ d7)) ^ t0
            x = t0 ^ rk[i + 8]
            d9 = s9[x >> 7] ^ (x & 0x7F)
            y = ((((s7[x & 0x7F] ^ d9) & 0x7F) << 9) | d9) ^ rk[i + 9]
            d7 = y >> 9
            t0 = ((d7 << 9) | (s9[y & 0x1FF] ^ d7)) ^ t1
            d1 ^= ((t1 ^ rk[i + 10]) << 16) | t0
            # d0 ^= FO(d1)
            t0, t1 = d1 >> 16, d1 & 0xFFFF
            x = t0 ^ rk[i + 11]
            d9 = s9[x >> 7] ^ (x & 0x7F)
            y = ((((s7[x & 0x7F] ^ d9) & 0x7F) << 9) | d9) ^ rk[i + 12]
            d7 = y >> 9
            t0 = ((d7 << 9) | (s9[y & 0x1FF] ^ d7)) ^ t1
            x = t1 ^ rk[i + 13]
            d9 = s9[x >> 7] ^ (x & 0x7F)
            y = ((((s7[x & 0x7F] ^ d9) & 0x7F) << 9) | d9) ^ rk[i + 14]
            d7 = y >> 9
            t1 = ((d7 << 9) | (s9[y & 0x1FF] ^ d7)) ^ t0
            x = t0 ^ rk[i + 15]
            d9 = s9[x >> 7] ^ (x & 0x7F)
            y = ((((s7[x & 0x7F] ^ d9) & 0x7F) << 9) | d9) ^ rk[i + 16]
            d7 = y >> 9
            t0 = ((d7 << 9) | (s9[y & 0x1FF] ^ d7)) ^ t1
            d0 ^= ((t1 ^ rk[i + 17]) << 16) | t0
        a, b = d0 >> 16, d0 & 0xFFFF
        b ^= a & rk[72]
        a ^= b | rk[73]
        d0 = (a << 16) | b
        a, b = d1 >> 16, d1 & 0xFFFF
        b ^= a & rk[74]
        a ^= b | rk[75]
        d1 = (a << 16) | b
        return (d1 << 32) | d0

    def decrypt(self, key: int, block: int) -> int:
        """Decrypt one 64-bit block."""
        ek = self._ek(key)
        d1 = block >> 32
        d0 = block & _M32
        d0 = _fl_inv(d0, ek, 8)
        d1 = _fl_inv(d1, ek, 9)
        for r in (6, 4, 2, 0):
            d0 ^= _fo(d1, ek, r + 1)
            d1 ^= _fo(d0, ek, r)
            d0 = _fl_inv(d0, ek, r)
            d1 = _fl_inv(d1, ek, r + 1)
        return (d0 << 32) | d1
