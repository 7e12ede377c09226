"""EA07, the Standard Transfer Algorithm (IEC 62055-41 Annex: STA).

Sixteen rounds of a key-selected nibble substitution followed by a fixed bit
permutation; the round key starts as ``ROR(~DK, 12)`` and rotates left by one
bit per round. Nibble ``i`` uses table S2 when round-key bit ``4i+3`` is set.

STA is a legacy cipher (a 64-bit key, no diffusion of the key into the data):
it is here because EA07 meters need it.

Speed: the substitution of two nibbles and the permutation of their eight bits
are folded into one 256-entry table per (byte position, selector pair), so a
round is eight table look-ups; the per-key choice of tables is computed once
per decoder key and cached.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

from stsgas.sts.errors import DecoderKeyError

__all__ = ["StaCipher", "StaTables", "key_selectors"]

_MASK64: Final = (1 << 64) - 1
_CACHE_LIMIT: Final = 65536

_Round = tuple[Sequence[int], ...]


def _rounds(x: int, rounds: Iterable[Sequence[Sequence[int]]]) -> int:
    """Pass a block through byte-indexed tables, one set of eight a round: each
    byte of ``x`` looks up its table and the images are OR-ed together."""
    for t0, t1, t2, t3, t4, t5, t6, t7 in rounds:
        x = (
            t0[x & 255]
            | t1[x >> 8 & 255]
            | t2[x >> 16 & 255]
            | t3[x >> 24 & 255]
            | t4[x >> 32 & 255]
            | t5[x >> 40 & 255]
            | t6[x >> 48 & 255]
            | t7[x >> 56]
        )
    return x


def _check_perm(values: Sequence[int], size: int, what: str) -> tuple[int, ...]:
    out = tuple(int(v) for v in values)
    if sorted(out) != list(range(size)):
        raise ValueError(f"STA {what} must be a permutation of 0..{size - 1}")
    return out


@dataclass(frozen=True, slots=True)
class StaTables:
    """A set of STA tables: two 4-bit S-boxes and a 64-bit permutation."""

    s1: tuple[int, ...]
    s2: tuple[int, ...]
    p: tuple[int, ...]
    name: str = "custom"

    def __post_init__(self) -> None:
        object.__setattr__(self, "s1", _check_perm(self.s1, 16, "S1"))
        object.__setattr__(self, "s2", _check_perm(self.s2, 16, "S2"))
        object.__setattr__(self, "p", _check_perm(self.p, 64, "permutation"))

    @classmethod
    def from_file(cls, path: str | Path, which: str = "production") -> StaTables:
        """Load tables from a JSON file shaped like ``sta-tables.json``."""
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls._from_doc(doc, which)

    @classmethod
    def _from_doc(cls, doc: dict[str, Any], which: str) -> StaTables:
        part: dict[str, list[int]] = doc.get(which, doc)
        return cls(s1=tuple(part["s1"]), s2=tuple(part["s2"]), p=tuple(part["p"]), name=which)

    @classmethod
    def builtin(cls, which: str = "production") -> StaTables:
        """The production tables real EA07 meters use, or the standard's ``sample`` set."""
        text = resources.files("stsgas.sts").joinpath("data/sta-tables.json").read_text("utf-8")
        return cls._from_doc(json.loads(text), which)


def key_selectors(key: int) -> list[list[int]]:
    """Per round and byte position, which S-box pair (0..3) the round key selects."""
    if not 0 <= key <= _MASK64:
        raise DecoderKeyError("an STA decoder key is 64 bits")
    k = ~key & _MASK64
    k = ((k >> 12) | (k << 52)) & _MASK64
    sels: list[list[int]] = []
    for _ in range(16):
        sels.append([(k >> (8 * b + 3) & 1) | (k >> (8 * b + 7) & 1) << 1 for b in range(8)])
        k = ((k << 1) | (k >> 63)) & _MASK64
    return sels


@dataclass(slots=True)
class StaCipher:
    """STA with a given table set; keys are 64-bit ints in IEC (big-endian) order."""

    tables: StaTables
    _enc: list[list[list[int]]] = field(init=False, repr=False)
    _dec: list[list[list[int]]] = field(init=False, repr=False)
    _pinv: list[list[int]] = field(init=False, repr=False)
    _sinv: list[list[int]] = field(init=False, repr=False)
    _schedules: dict[int, tuple[tuple[_Round, ...], tuple[_Round, ...], _Round]] = field(
        init=False, repr=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        s = (self.tables.s1, self.tables.s2)
        p = self.tables.p
        inv = [[0] * 16, [0] * 16]
        for t in (0, 1):
            for i, v in enumerate(s[t]):
                inv[t][v] = i
        pinv = [0] * 64
        for j, target in enumerate(p):
            pinv[target] = j

        def byte_images(table: Sequence[int]) -> list[list[int]]:
            # Permutation is bitwise, so the image of a byte is the OR of its
            # bits' images; build each 256-entry row from the smaller entries.
            rows = []
            for b in range(8):
                row = [0] * 256
                for v in range(1, 256):
                    low = (v & -v).bit_length() - 1
                    row[v] = row[v & (v - 1)] | 1 << table[8 * b + low]
                rows.append(row)
            return rows

        def sub_byte(v: int, sel: int, boxes: Sequence[Sequence[int]]) -> int:
            return boxes[sel & 1][v & 15] | boxes[sel >> 1][v >> 4] << 4

        fwd, back = byte_images(p), byte_images(pinv)
        self._enc = [
            [[fwd[b][sub_byte(v, sel, s)] for v in range(256)] for sel in range(4)]
            for b in range(8)
        ]
        self._pinv = back
        self._sinv = [[sub_byte(v, sel, inv) for v in range(256)] for sel in range(4)]
        self._dec = [
            [[back[b][self._sinv[sel][v]] for v in range(256)] for sel in range(4)]
            for b in range(8)
        ]

    def _schedule(self, key: int) -> tuple[tuple[_Round, ...], tuple[_Round, ...], _Round]:
        cached = self._schedules.get(key)
        if cached is not None:
            return cached
        sels = key_selectors(key)
        enc = tuple(tuple(self._enc[b][sel[b]] for b in range(8)) for sel in sels)
        dec = tuple(tuple(self._dec[b][sel[b]] for b in range(8)) for sel in reversed(sels[1:]))
        last = tuple(self._sinv[sels[0][b]] for b in range(8))
        if len(self._schedules) >= _CACHE_LIMIT:
            self._schedules.clear()
        result = (enc, dec, last)
        self._schedules[key] = result
        return result

    def combined_tables(self) -> list[list[list[int]]]:
        """The combined substitution+permutation tables, ``[byte][selector][value]``."""
        return self._enc

    def decryption_tables(
        self,
    ) -> tuple[list[list[int]], list[list[list[int]]], list[list[int]]]:
        """What decryption looks up: the inverse permutation's byte images
        ``[byte][value]``, the combined inverse round tables ``[byte][selector][value]``
        and the inverse S-box pairs ``[selector][value]``."""
        return self._pinv, self._dec, self._sinv

    def encrypt(self, key: int, block: int) -> int:
        """Encrypt one 64-bit block."""
        return _rounds(block, self._schedule(key)[0])

    def decrypt(self, key: int, block: int) -> int:
        """Decrypt one 64-bit block."""
        _, dec, last = self._schedule(key)
        x = _rounds(_rounds(block, (self._pinv,)), dec)
        out = 0
        for b in range(8):
            out |= last[b][x >> (8 * b) & 255] << (8 * b)
        return out
