"""Bulk token encoding: arrays of requests in, 20-digit tokens out, vectorised with NumPy.

Bit-identical to :func:`stsgas.sts.encode` (the tests compare them), and built
for a vending system's bulk runs: every step — amount encoding, CRC, block
assembly, the cipher, class transposition and the decimal digits — runs over
whole arrays.

* STA: the per-byte substitution+permutation tables of
  :class:`~stsgas.sts.ciphers.sta.StaCipher` are gathered with per-token
  offsets derived from each token's key schedule (computed once per distinct key).
* MISTY1: FI/FO/FL over ``uint32`` arrays, key schedules per distinct key.
* DEA: one ECB call per distinct key through the ``cryptography`` library.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from stsgas.sts.ciphers.misty1 import _S7, _S9, _expand
from stsgas.sts.ciphers.sta import StaCipher
from stsgas.sts.codec import cipher_for
from stsgas.sts.crc import _TABLE as _CRC_TABLE
from stsgas.sts.errors import DecoderKeyError, RangeError
from stsgas.sts.keys import EA, DecoderKey

__all__ = ["KeyIndex", "digits_of", "encode_amount16_bulk", "encode_bulk", "encode_credit_bulk"]

U64 = npt.NDArray[np.uint64]
_Arr = npt.NDArray[Any]
_CHUNK: Final = 8192
_CRC_T: Final = np.array(_CRC_TABLE, dtype=np.uint32)
_S7A: Final = np.array(_S7, dtype=np.uint32)
_S9A: Final = np.array(_S9, dtype=np.uint32)
_OFF: Final = [(1 << 14) * (10**e - 1) // 9 for e in range(4)]
_MAX: Final = [16383 * 10**e + _OFF[e] for e in range(4)]


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyIndex:
    """Distinct decoder keys and, per token, the position of its key.

    The cheap form for many tokens over few meters: key schedules are built
    once per distinct key, and no per-token Python work is needed to find them.
    """

    keys: Sequence[DecoderKey]
    index: npt.NDArray[np.intp]


def _key_index(keys: Sequence[DecoderKey] | KeyIndex) -> KeyIndex:
    if isinstance(keys, KeyIndex):
        return keys
    seen: dict[DecoderKey, int] = {}
    index = np.fromiter(
        (seen.setdefault(k, len(seen)) for k in keys), dtype=np.intp, count=len(keys)
    )
    return KeyIndex(keys=list(seen), index=index)


def encode_amount16_bulk(units: npt.ArrayLike) -> npt.NDArray[np.uint64]:
    """The 16-bit amount fields (rounded up) of an array of non-negative units."""
    u = np.asarray(units, dtype=np.int64)
    if u.size and (u.min() < 0 or u.max() > _MAX[3]):
        raise RangeError(f"amounts must be 0..{_MAX[3]} units")
    field = np.zeros(u.shape, dtype=np.int64)
    done = np.zeros(u.shape, dtype=bool)
    for e in range(4):
        here = ~done & (u <= _MAX[e])
        m = np.maximum(-((_OFF[e] - u) // 10**e), 0) if e else u
        field = np.where(here, (e << 14) | m, field)
        done |= here
    return field.astype(np.uint64)


def _crc_fields(clear: U64, currency: npt.NDArray[np.bool_]) -> U64:
    raw = clear.view(np.uint8).reshape(-1, 8)
    crc = np.full(clear.shape, 0xFFFF, dtype=np.uint32)
    for byte in (6, 5, 4, 3, 2, 1, 0):
        crc = (crc >> 8) ^ _CRC_T[(crc ^ raw[:, byte]) & 0xFF]
    if currency.any():
        extra = (crc >> 8) ^ _CRC_T[(crc ^ 1) & 0xFF]
        crc = np.where(currency, extra, crc)
    return (((crc & 0xFF) << 8) | (crc >> 8)).astype(np.uint64)


class _StaBulk:
    """Vectorised STA for one table set."""

    def __init__(self, cipher: StaCipher) -> None:
        combined = cipher.combined_tables()
        self.table = np.array(
            [v for b in range(8) for sel in range(4) for v in combined[b][sel]], dtype=np.uint64
        )
        self.cipher = cipher

    @staticmethod
    def key_offsets(keys: U64) -> npt.NDArray[np.int32]:
        """(16, 8, U) table offsets for distinct keys: ``(b*4 + selector) * 256``.

        All rounds and bytes at once: round ``r``'s key is the start key
        rotated left by ``r``, and byte ``b`` reads its bits ``8b+3`` and ``8b+7``.
        """
        mask = np.uint64((1 << 64) - 1)
        k = ~keys & mask
        k = (k >> np.uint64(12)) | (k << np.uint64(52))
        r = np.arange(1, 16, dtype=np.uint64)[:, None]
        kr = np.vstack([k[None, :], (k << r) | (k >> (np.uint64(64) - r))])  # (16, U)
        b = np.arange(8, dtype=np.uint64)[None, :, None]
        low = (kr[:, None, :] >> (np.uint64(8) * b + np.uint64(3))) & np.uint64(1)
        high = (kr[:, None, :] >> (np.uint64(8) * b + np.uint64(6))) & np.uint64(2)
        offsets = (low | high).astype(np.int32) * 256 + np.arange(8, dtype=np.int32)[
            None, :, None
        ] * 1024
        return np.ascontiguousarray(offsets)

    def encrypt(self, uniq: U64, inverse: npt.NDArray[np.intp], blocks: U64) -> U64:
        out = np.empty_like(blocks)
        table = self.table
        per_key = self.key_offsets(uniq)
        for start in range(0, blocks.size, _CHUNK):
            sl = slice(start, start + _CHUNK)
            offs = np.take(per_key, inverse[sl], axis=2)
            x = blocks[sl].copy()
            n = x.size
            idx = np.empty(n, dtype=np.int32)
            tmp = np.empty(n, dtype=np.uint64)
            acc = np.empty(n, dtype=np.uint64)
            for r in range(16):
                xb = x.view(np.uint8).reshape(n, 8)
                np.add(offs[r, 0], xb[:, 0], out=idx)
                np.take(table, idx, out=acc)
                for b in range(1, 8):
                    np.add(offs[r, b], xb[:, b], out=idx)
                    np.take(table, idx, out=tmp)
                    np.bitwise_or(acc, tmp, out=acc)
                x, acc = acc, x
            out[sl] = x
        return out


class _MadeFor(Protocol):
    cipher: StaCipher


_T = TypeVar("_T", bound=_MadeFor)


def _sta_tables(cache: dict[int, _T], build: Callable[[StaCipher], _T]) -> _T:
    """What ``build`` makes from the STA cipher in use, made once per cipher (one that
    replaced it gets its own): the encrypting and the decrypting tables alike."""
    cipher = cipher_for(EA.STA)
    assert isinstance(cipher, StaCipher)
    made = cache.get(id(cipher))
    if made is None or made.cipher is not cipher:
        made = cache[id(cipher)] = build(cipher)
    return made


_STA_CACHE: dict[int, _StaBulk] = {}


def _sta(keys: KeyIndex, blocks: U64) -> U64:
    bulk = _sta_tables(_STA_CACHE, _StaBulk)
    uniq = np.array([k.as_int for k in keys.keys], dtype=np.uint64)
    return bulk.encrypt(uniq, keys.index, blocks)


def _dea(keys: KeyIndex, blocks: U64) -> U64:
    cipher = cipher_for(EA.DEA)
    out = np.empty_like(blocks)
    order = np.argsort(keys.index, kind="stable")
    bounds = np.searchsorted(keys.index[order], np.arange(len(keys.keys) + 1))
    be = blocks.astype(">u8")
    for k, key in enumerate(keys.keys):
        sel = order[bounds[k] : bounds[k + 1]]
        if sel.size:
            raw = cipher.encrypt_many(key.as_int, be[sel].tobytes())  # type: ignore[attr-defined]
            out[sel] = np.frombuffer(raw, dtype=">u8").astype(np.uint64)
    return out


def _fi(x: _Arr, k: _Arr) -> _Arr:
    d9 = _S9A[x >> 7] ^ (x & 0x7F)
    d7 = ((_S7A[x & 0x7F] ^ d9) & 0x7F) ^ (k >> 9)
    d9 = _S9A[d9 ^ (k & 0x1FF)] ^ d7
    out: _Arr = (d7 << 9) | d9
    return out


_MISTY1_SCHEDULES: dict[int, tuple[int, ...]] = {}


def _misty1_schedule(key: int) -> tuple[int, ...]:
    """A key's MISTY1 schedule, cached: batch after batch sees the same meters."""
    ek = _MISTY1_SCHEDULES.get(key)
    if ek is None:
        if len(_MISTY1_SCHEDULES) >= 65536:
            _MISTY1_SCHEDULES.clear()
        ek = _MISTY1_SCHEDULES[key] = _expand(key)
    return ek


def _misty1_round_keys(keys: KeyIndex) -> _Arr:
    """Per token, its key's 32 expanded MISTY1 subkeys, as a (32, N) array."""
    schedules = np.array([_misty1_schedule(k.as_int) for k in keys.keys], dtype=np.uint32)
    return np.ascontiguousarray(schedules.T[:, keys.index])


def _fo(x: _Arr, ek: _Arr, r: int) -> _Arr:
    t0, t1 = x >> 16, x & 0xFFFF
    t0 = _fi(t0 ^ ek[r], ek[(r + 5) % 8 + 8]) ^ t1
    t1 = _fi(t1 ^ ek[(r + 2) % 8], ek[(r + 1) % 8 + 8]) ^ t0
    t0 = _fi(t0 ^ ek[(r + 7) % 8], ek[(r + 3) % 8 + 8]) ^ t1
    t1 ^= ek[(r + 4) % 8]
    out: _Arr = (t1 << 16) | t0
    return out


def _fl(x: _Arr, ek: _Arr, r: int) -> _Arr:
    d0, d1 = x >> 16, x & 0xFFFF
    h = r // 2
    if r % 2 == 0:
        d1 = d1 ^ (d0 & ek[h])
        d0 = d0 ^ (d1 | ek[(h + 6) % 8 + 8])
    else:
        d1 = d1 ^ (d0 & ek[(h + 2) % 8 + 8])
        d0 = d0 ^ (d1 | ek[(h + 4) % 8])
    out: _Arr = (d0 << 16) | d1
    return out


def _misty1(keys: KeyIndex, blocks: U64) -> U64:
    ek = _misty1_round_keys(keys)
    d0: _Arr = (blocks >> np.uint64(32)).astype(np.uint32)
    d1: _Arr = (blocks & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    for r in (0, 2, 4, 6):
        d0 = _fl(d0, ek, r)
        d1 = _fl(d1, ek, r + 1) ^ _fo(d0, ek, r)
        d0 = d0 ^ _fo(d1, ek, r + 1)
    d0, d1 = _fl(d0, ek, 8), _fl(d1, ek, 9)
    return (d1.astype(np.uint64) << np.uint64(32)) | d0.astype(np.uint64)


def _lut5() -> npt.NDArray[np.uint8]:
    """ASCII digits of 0..99,999, five per row."""
    v = np.arange(100_000)
    return (v[:, None] // 10 ** np.arange(4, -1, -1) % 10 + ord("0")).astype(np.uint8)


_LUT5: Final = _lut5()


def digits_of(hi: npt.NDArray[np.uint64], lo: U64) -> npt.NDArray[np.bytes_]:
    """Twenty ASCII digits of ``hi * 2**64 + lo`` (``hi`` is 0..3), as an ``S20`` array."""
    ten10 = np.uint64(10**10)
    q, r = np.divmod(lo, ten10)
    low = r + hi * np.uint64(3709551616)
    carry, low = np.divmod(low, ten10)
    high = q + hi * np.uint64(1844674407) + carry
    parts = []
    for value in (high, low):
        a, b = np.divmod(value, np.uint64(100_000))
        parts += [_LUT5[a], _LUT5[b]]
    return np.ascontiguousarray(np.hstack(parts)).view("S20").ravel()


_ENCRYPT = {EA.STA: _sta, EA.DEA: _dea, EA.MISTY1: _misty1}


def encode_bulk(
    keys: Sequence[DecoderKey] | KeyIndex,
    classes: npt.ArrayLike,
    subclasses: npt.ArrayLike,
    data44: npt.ArrayLike,
) -> npt.NDArray[np.bytes_]:
    """Tokens for arrays of raw fields; all keys must share one algorithm.

    ``keys`` is one key per token, or a :class:`KeyIndex`.

    Returns:
        An ``S20`` array; ``.astype(str)`` gives Python strings.
    """
    kidx = _key_index(keys)
    n = kidx.index.size
    if n == 0:
        return np.empty(0, dtype="S20")
    ea = kidx.keys[0].ea
    if any(k.ea is not ea for k in kidx.keys):
        raise DecoderKeyError("one bulk call takes keys of one algorithm")
    cls = np.broadcast_to(np.asarray(classes, dtype=np.uint64), (n,))
    sub = np.broadcast_to(np.asarray(subclasses, dtype=np.uint64), (n,))
    data = np.asarray(data44, dtype=np.uint64)
    clear = (cls << np.uint64(48)) | (sub << np.uint64(44)) | data
    currency = (cls == 0) & (sub >= 4) & (sub <= 7)
    block = (sub << np.uint64(60)) | (data << np.uint64(16)) | _crc_fields(clear, currency)
    encrypted = np.where(cls == 1, block, _ENCRYPT[ea](kidx, block))
    mid = np.uint64(3 << 27)
    hi = (encrypted >> np.uint64(27)) & np.uint64(3)
    lo = (encrypted & ~mid) | (cls << np.uint64(27))
    return digits_of(hi, lo)


def encode_credit_bulk(
    keys: Sequence[DecoderKey] | KeyIndex,
    tids: npt.ArrayLike,
    units: npt.ArrayLike,
    rnds: npt.ArrayLike = 0,
    subclass: int = 2,
) -> npt.NDArray[np.bytes_]:
    """Class 0 credit tokens (subclasses 0–3, amounts in 0.1 units, rounded up) in bulk."""
    n = keys.index.size if isinstance(keys, KeyIndex) else len(keys)
    tid = np.asarray(tids, dtype=np.uint64)
    if tid.size and int(tid.max()) >= 1 << 24:
        raise RangeError("a TID is 24 bits")
    rnd = np.broadcast_to(np.asarray(rnds, dtype=np.uint64), (n,))
    field = encode_amount16_bulk(units)
    data = (rnd << np.uint64(40)) | (tid << np.uint64(16)) | field
    return encode_bulk(keys, 0, subclass, data)
