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
from stsgas.sts.batch import Answers, decode_all, nonblank, one_line
from stsgas.sts.bulk import KeyIndex
from stsgas.sts.bulk_decrypt import decode_bulk, parse_digits_bulk
from stsgas.sts.errors import StsError
from stsgas.sts.keys import EA, DecoderKey
from stsgas.sts.tid import TID_MAX, BaseDate
from stsgas.sts.tokens import parse_fields

__all__ = ["decode_lines"]

_CACHE_LIMIT: Final = 100_000
_UNSET: Final = msgspec.UNSET
_EPOCH: Final = np.datetime64("1970-01-01T00:00", "m")


class _Line(msgspec.Struct):
    token: str
    meter: msgspec.Raw | msgspec.UnsetType = _UNSET
    decoder_key: str | msgspec.UnsetType = _UNSET
    ea: str | msgspec.UnsetType = _UNSET
    base_date: int | msgspec.UnsetType = _UNSET


_LINE: Final = msgspec.json.Decoder(_Line)
#: A line's decoder key and base date (None when the line gives none).
_Entry = tuple[DecoderKey, BaseDate | None]
_KEYS: dict[object, _Entry | None] = {}
_AMOUNTS: dict[int, bytes] = {}


def _entry(line: _Line) -> _Entry | None:
    """The decoder key and base date of a line, cached; None sends it line by line."""
    cache_key: object
    if isinstance(line.meter, msgspec.Raw):
        cache_key = bytes(line.meter)
    else:
        cache_key = (line.decoder_key, line.ea, line.base_date)
    if cache_key in _KEYS:
        return _KEYS[cache_key]
    doc: dict[str, object] = {}
    if isinstance(cache_key, bytes):
        doc["meter"] = orjson.loads(cache_key)
    else:
        for name in ("decoder_key", "ea", "base_date"):
            value = getattr(line, name)
            if value is not _UNSET:
                doc[name] = value
    entry: _Entry | None
    try:
        key, base_date = lines.decode_key(doc)
        entry = None if key is None else (key, base_date)
    except (StsError, TypeError, ValueError):
        entry = None
    if len(_KEYS) >= _CACHE_LIMIT:
        _KEYS.clear()
    _KEYS[cache_key] = entry
    return entry


def _amount(v16: int) -> bytes:
    text = _AMOUNTS.get(v16)
    if text is None:
        text = _AMOUNTS[v16] = lines.units_text(decode_amount16(v16)).encode()
    return text


class _Group:
    __slots__ = ("bases", "digits", "key_list", "keys", "kpos", "lines")

    def __init__(self) -> None:
        self.lines: list[int] = []
        self.digits: list[bytes] = []
        self.keys: dict[DecoderKey, int] = {}
        self.key_list: list[DecoderKey] = []
        self.kpos: list[int] = []
        self.bases: list[BaseDate | None] = []


def decode_lines(raw_lines: Sequence[bytes], *, first: int = 1) -> Answers:
    """Answers to JSON token lines (``raw_lines[0]`` is line number ``first``).

    Blank lines get no answer; a bad line gets ``{"error": {"code",
    "message", "line"}}`` and never stops the batch.
    """
    raws, numbers = nonblank(raw_lines, first)
    parsed = decode_all(_LINE.decode, raws)
    out: list[bytes] = [b""] * len(raws)
    slow: list[int] = []
    groups: dict[EA, _Group] = {}
    for i, line in enumerate(parsed):
        digits = line.token if line is not None else ""
        plain = len(digits) == 20 and digits.isdigit() and digits.isascii()
        entry = _entry(line) if plain else None
        if entry is None:
            slow.append(i)
            continue
        key, base_date = entry
        group = groups.get(key.ea)
        if group is None:
            group = groups[key.ea] = _Group()
        pos = group.keys.get(key)
        if pos is None:
            pos = group.keys[key] = len(group.key_list)
            group.key_list.append(key)
        group.lines.append(i)
        group.digits.append(digits.encode())
        group.kpos.append(pos)
        group.bases.append(base_date)
    for ea, g in groups.items():
        slow += _answer_group(ea, g, out)
    failed: list[int] = []
    for i in sorted(slow):
        number = numbers[i] if numbers is not None else first + i
        out[i], ok = one_line(lines.decode_line, raws[i], number)
        if not ok:
            failed.append(number)
    return Answers(out, failed)


def _answer_group(ea: EA, g: _Group, out: list[bytes]) -> list[int]:
    """Write the answers of one algorithm's lines; return the lines left for the slow path."""
    hi, lo = parse_digits_bulk(np.array(g.digits, dtype="S20"))
    valid = hi <= 3
    hi = np.where(valid, hi, 0).astype(np.uint64)
    keys = KeyIndex(keys=g.key_list, index=np.array(g.kpos, dtype=np.intp))
    dec = decode_bulk(keys, hi, lo)
    good = valid & dec.crc_ok
    tids = ((dec.data >> np.uint64(16)) & np.uint64(TID_MAX)).astype(np.int64)
    starts = np.array(
        [0 if b is None else _start_minute(b) for b in g.bases], dtype="datetime64[m]"
    )
    issued = np.datetime_as_string(starts + tids.astype("timedelta64[m]"), unit="m").tolist()
    slow: list[int] = []
    rows = zip(
        g.lines,
        good.tolist(),
        dec.classes.tolist(),
        dec.subclasses.tolist(),
        dec.data.tolist(),
        tids.tolist(),
        issued,
        g.bases,
        strict=True,
    )
    wide = ea is EA.MISTY1
    for i, ok, cls, sub, data, tid, when, base in rows:
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


_STARTS: dict[BaseDate, np.datetime64] = {}


def _start_minute(base: BaseDate) -> np.datetime64:
    start = _STARTS.get(base)
    if start is None:
        start = _STARTS[base] = np.datetime64(base.start.replace(tzinfo=None), "m")
    return start
