"""Batch decoding: JSON token lines in, one serialised JSON answer per line out.

The decoding half of the batch API (``stsgas token decode``, docs/cli.md):
every line is parsed by one typed JSON decoder, its decoder key found once
per distinct meter (or key, algorithm and base date), and the tokens of each
algorithm decrypted and CRC-checked together by
:func:`stsgas.sts.bulk_decrypt.decode_bulk`. A credit token's answer is
written directly; other classes go through
:func:`stsgas.sts.lines.describe`; any line the fast path cannot vouch for
(separators in the digits, a failed CRC, a malformed line) is answered by
:func:`stsgas.sts.lines.decode_line`, which words the error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import msgspec
import numpy as np
import orjson

from stsgas.sts import lines
from stsgas.sts.amount import decode_amount16
from stsgas.sts.batch import (
    Answers,
    Registry,
    RegistrySlot,
    decode_all,
    nonblank,
    slow_lines,
)
from stsgas.sts.bulk import KeyIndex
from stsgas.sts.bulk_decrypt import decode_bulk, parse_digits_bulk
from stsgas.sts.errors import StsError
from stsgas.sts.keys import EA
from stsgas.sts.layout import parse_fields
from stsgas.sts.tid import TID_MAX, BaseDate

__all__ = ["decode_lines"]

_UNSET: Final = msgspec.UNSET


class _Line(msgspec.Struct):
    token: str
    meter: msgspec.Raw | msgspec.UnsetType = _UNSET
    decoder_key: str | msgspec.UnsetType = _UNSET
    ea: str | msgspec.UnsetType = _UNSET
    base_date: int | msgspec.UnsetType = _UNSET


_LINE: Final = msgspec.json.Decoder(_Line)
#: Per meter text, or per (decoder_key, ea, base_date): the key's id in the registry,
#: its algorithm, the base date (or None) and its first minute (-1 without one).
_Entry = tuple[int, EA, BaseDate | None, int]
_KEYS: Final = RegistrySlot()
_MISSING: Final[_Entry] = (-1, EA.STA, None, -1)
_AMOUNTS: dict[int, bytes] = {}
#: A line answered in bulk: position, key id, digits, base date, its first minute.
_Row = tuple[int, int, str, BaseDate | None, int]


def _entry(registry: Registry, line: _Line, cache_key: object) -> _Entry | None:
    """The decoder key and base date of a line, cached; None sends it line by line."""
    doc: dict[str, object] = {}
    if isinstance(cache_key, bytes):
        doc["meter"] = orjson.loads(cache_key)
    else:
        for name in ("decoder_key", "ea", "base_date"):
            value = getattr(line, name)
            if value is not _UNSET:
                doc[name] = value
    entry: _Entry | None = None
    try:
        key, base = lines.decode_key(doc)
        if key is not None:
            start = -1 if base is None else _minute(base)
            entry = (registry.add(key), key.ea, base, start)
    except (StsError, TypeError, ValueError):
        pass
    registry.entries[cache_key] = entry
    return entry


def _minute(base: BaseDate) -> int:
    """The first minute of a base date, in minutes since 1970."""
    return int(np.datetime64(base.start.replace(tzinfo=None), "m").astype(np.int64))


def _amount(v16: int) -> bytes:
    text = _AMOUNTS.get(v16)
    if text is None:
        text = _AMOUNTS[v16] = lines.units_text(decode_amount16(v16)).encode()
    return text


def decode_lines(raw_lines: Sequence[bytes], *, first: int = 1) -> Answers:
    """Answers to JSON token lines (``raw_lines[0]`` is line number ``first``).

    Blank lines get no answer; a bad line gets ``{"error": {"code",
    "message", "line"}}`` and never stops the batch.
    """
    registry = _KEYS.current()
    raws, numbers = nonblank(raw_lines, first)
    parsed = decode_all(_LINE.decode, raws)
    out: list[bytes] = [b""] * len(raws)
    slow: list[int] = []
    groups: dict[EA, list[_Row]] = {}
    cache = registry.entries
    for i, line in enumerate(parsed):
        if line is not None:
            digits = line.token
            if len(digits) == 20 and digits.isdigit() and digits.isascii():
                meter = line.meter
                cache_key = (
                    bytes(meter)
                    if isinstance(meter, msgspec.Raw)
                    else (line.decoder_key, line.ea, line.base_date)
                )
                entry = cache.get(cache_key, _MISSING)
                if entry is _MISSING:
                    entry = _entry(registry, line, cache_key)
                if entry is not None:
                    row = (i, entry[0], digits, entry[2], entry[3])
                    rows = groups.get(entry[1])
                    if rows is None:
                        groups[entry[1]] = [row]
                    else:
                        rows.append(row)
                    continue
        slow.append(i)
    for ea, rows in groups.items():
        slow += _answer_group(registry, ea, rows, out)
    return Answers(out, slow_lines(lines.decode_line, raws, numbers, first, slow, out))


def _answer_group(registry: Registry, ea: EA, rows: list[_Row], out: list[bytes]) -> list[int]:
    """Write the answers of one algorithm's lines; return the lines left for the slow path."""
    at, key_ids, digits, bases, starts = zip(*rows, strict=True)
    hi, lo = parse_digits_bulk(np.array(digits, dtype="S20"))
    valid = hi <= 3
    hi = np.where(valid, hi, 0).astype(np.uint64)
    uniq, index = np.unique(np.array(key_ids, dtype=np.intp), return_inverse=True)
    keys = KeyIndex(keys=[registry.keys[k] for k in uniq.tolist()], index=index)
    dec = decode_bulk(keys, hi, lo)
    good = valid & dec.crc_ok
    tids = ((dec.data >> np.uint64(16)) & np.uint64(TID_MAX)).astype(np.int64)
    minutes = np.maximum(np.array(starts, dtype=np.int64), 0) + tids
    issued = np.datetime_as_string(minutes.astype("datetime64[m]"), unit="m").tolist()
    slow: list[int] = []
    wide = ea is EA.MISTY1
    columns = (
        good.tolist(),
        dec.classes.tolist(),
        dec.subclasses.tolist(),
        dec.data.tolist(),
        tids.tolist(),
        issued,
        bases,
    )
    for i, ok, cls, sub, data, tid, when, base in zip(at, *columns, strict=True):
        if not ok:
            slow.append(i)
        elif cls == 0 and sub <= 3:
            amount = _amount(data & 0xFFFF)
            if base is None:
                out[i] = b'{"class":0,"subclass":%d,"tid":%d,"rnd":%d,"amount":"%s"}' % (
                    sub,
                    tid,
                    data >> 40,
                    amount,
                )
            else:
                out[i] = (
                    b'{"class":0,"subclass":%d,"tid":%d,"issued":"%sZ","rnd":%d,"amount":"%s"}'
                    % (sub, tid, when.encode(), data >> 40, amount)
                )
        else:
            try:
                token = parse_fields(cls, sub, data, wide_key=wide)
                out[i] = orjson.dumps(lines.describe(token, base))
            except (StsError, ValueError):
                slow.append(i)
    return slow
