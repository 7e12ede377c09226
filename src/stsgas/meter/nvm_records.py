"""The plaintext of a sealed record set, and a committed set that remembers its encoding.

Format (docs/nvm.md): u16 count, then per record in name order: u8 name length,
UTF-8 name, u32 value length, value.

Why :class:`RecordSet`: the meter commits its whole main set (a few KB, most of
it the event log) every 100 L, while usually only the small ``reg`` record
changed. Keeping each record's encoded piece lets a commit encode just the
records it changes; the bytes are exactly :func:`encode_records`' (a Hypothesis
test holds them equal), so the on-device format does not change.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping
from typing import Final

from stsgas.meter.nvm import NvmTamperError

__all__ = ["RecordSet", "decode_records", "encode_records"]

_COUNT: Final = struct.Struct(">H")
_VLEN: Final = struct.Struct(">I")


def _head(name: object) -> bytes:
    """The name part of a piece (u8 length, UTF-8 name); ValueError for a name too long."""
    raw = name.encode("utf-8") if isinstance(name, str) else b""
    if not 0 < len(raw) < 256:
        raise ValueError(f"record name {name!r} must be 1..255 UTF-8 bytes")
    return bytes((len(raw),)) + raw


def _value(name: str, value: object) -> bytes:
    if type(value) is bytes:
        return value
    if not isinstance(value, bytes | bytearray | memoryview):
        raise TypeError(f"record {name!r} must be bytes, got {type(value).__name__}")
    return bytes(value)


def encode_records(records: Mapping[str, bytes]) -> bytes:
    """Serialise a record set (a :class:`RecordSet` reuses the pieces it kept)."""
    if isinstance(records, RecordSet):
        return records.encode()
    out = [_COUNT.pack(len(records))]
    for name in sorted(records):
        value = records[name]
        raw = name.encode("utf-8")
        out.append(struct.pack(">B", len(raw)))
        out.append(raw)
        out.append(_VLEN.pack(len(value)))
        out.append(value)
    return b"".join(out)


def decode_records(data: bytes) -> dict[str, bytes]:
    """Parse an authenticated record set; any inconsistency means the store is not trusted."""
    try:
        (count,) = _COUNT.unpack_from(data, 0)
        pos = 2
        out: dict[str, bytes] = {}
        last = ""
        for _ in range(count):
            nlen = data[pos]
            name = data[pos + 1 : pos + 1 + nlen].decode("utf-8")
            pos += 1 + nlen
            (vlen,) = _VLEN.unpack_from(data, pos)
            pos += 4
            value = data[pos : pos + vlen]
            if len(value) != vlen or (out and name <= last) or len(name.encode()) != nlen:
                raise ValueError("bad record")
            pos += vlen
            out[name] = value
            last = name
    except (struct.error, IndexError, UnicodeDecodeError, ValueError) as exc:
        raise NvmTamperError("an authenticated record set is inconsistent") from exc
    if pos != len(data):
        raise NvmTamperError("an authenticated record set has trailing bytes")
    return out


class RecordSet(Mapping[str, bytes]):
    """An immutable record set that keeps each record's encoded piece and the name order.

    :meth:`merged` builds the next set, encoding only the changed records; the
    unchanged pieces are shared, not copied byte by byte.
    """

    __slots__ = ("_names", "_pieces", "_values")

    def __init__(self, records: Mapping[str, bytes] | None = None) -> None:
        self._values: dict[str, bytes] = {}
        self._pieces: dict[str, bytes] = {}
        self._names: tuple[str, ...] = ()
        if records:
            self._take(records)

    def _take(self, changes: Mapping[str, bytes]) -> None:
        """Put ``changes`` in (only on a fresh set: a RecordSet is never changed once seen)."""
        values, pieces = self._values, self._pieces
        new_name = False
        for name, value in changes.items():
            old = pieces.get(name)
            if old is None:
                head = _head(name)
                new_name = True
            else:
                head = old[: old[0] + 1]  # a kept name: its head is already encoded
            raw = _value(name, value)
            values[name] = raw
            pieces[name] = head + _VLEN.pack(len(raw)) + raw
        if new_name:
            self._names = tuple(sorted(values))

    def merged(self, changes: Mapping[str, bytes]) -> RecordSet:
        """A new set: this one with ``changes`` put in (ValueError/TypeError for a bad record,
        and then this set is as it was)."""
        out = RecordSet.__new__(RecordSet)
        out._values = dict(self._values)
        out._pieces = dict(self._pieces)
        out._names = self._names
        out._take(changes)
        return out

    def encode(self) -> bytes:
        """The plaintext, exactly as :func:`encode_records` writes it."""
        pieces = self._pieces
        return b"".join([_COUNT.pack(len(pieces)), *[pieces[n] for n in self._names]])

    def __getitem__(self, name: str) -> bytes:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)
