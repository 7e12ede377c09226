"""The batched fast path of ``stsgas token encode``: plain credit lines through the bulk encoder.

A vending run is mostly class 0 unit credits for a few thousand meters, so
per batch this module looks each line's meter up by its raw JSON text (or its
parsed fields), reuses cached TIDs and amounts, and encodes each
(algorithm, subclass) group with one :func:`stsgas.sts.bulk.encode_credit_bulk`
call. Any other line, and any line that is not exactly a well-typed plain
credit, goes through :func:`encode_line` under :func:`safe`, so the output is
the same line for line (``tests/cli`` compares the two paths).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import orjson

from stsgas import sts
from stsgas.cli._token_lines import (
    _TIMES,
    BadJson,
    _amount,
    _tid,
    _units_text,
    encode_line,
    safe,
)
from stsgas.sts import BaseDate, DecoderKey, MeterConfig, StsError
from stsgas.sts.bulk import KeyIndex, encode_credit_bulk
from stsgas.sts.vend import credit_units

#: Token fields a plain credit line may carry (a ``tid`` line takes the slow path).
_FAST_KEYS = frozenset({"class", "subclass", "rnd", "issued", "amount"})
_CACHE_LIMIT = 100_000

_Entry = tuple[DecoderKey, bytes, BaseDate]
_BY_FIELDS: dict[Hashable, _Entry | None] = {}
_BY_TEXT: dict[bytes, _Entry] = {}
_UNITS: dict[str, int] = {}
_UNITS_TEXT: dict[int, bytes] = {}


def _fast_units(raw: str) -> int:
    units = credit_units(_amount({"amount": raw}))
    if len(_UNITS) > _CACHE_LIMIT:
        _UNITS.clear()
    _UNITS[raw] = units
    return units


def _meter_text(raw: bytes) -> bytes | None:
    """The exact text of the meter object of a line shaped ``{"meter": {flat}, …}``, or None.

    Only when the text alone fixes the parsed meter: the line starts with the
    ``meter`` key, has no escapes and names ``"meter"`` once, and the object is
    flat (no ``{`` inside) and closes at the first ``}`` outside any string.
    """
    if raw.startswith(b'{"meter": {'):
        start = 10
    elif raw.startswith(b'{"meter":{'):
        start = 9
    else:
        return None
    end = raw.find(b"}", start)
    if end < 0 or raw.find(b"{", start + 1, end) >= 0 or raw.count(b'"', start, end) % 2:
        return None
    if b"\\" in raw or raw.count(b'"meter"') != 1:
        return None
    return raw[start : end + 1]


def _by_fields(doc: Any) -> _Entry | None:
    """Decoder key, its hex and the base date for a meter object; None if it is not usable."""
    if type(doc) is not dict:
        return None
    try:
        cache_key: Hashable = tuple(doc.items())
        hash(cache_key)
    except TypeError:
        return None
    if cache_key in _BY_FIELDS:
        return _BY_FIELDS[cache_key]
    entry: _Entry | None
    try:
        meter = MeterConfig.from_json(doc)
        key = meter.key()
        entry = (key, key.hex().encode(), meter.base_date)
    except (StsError, TypeError, ValueError):
        entry = None
    if len(_BY_FIELDS) > _CACHE_LIMIT:
        _BY_FIELDS.clear()
    _BY_FIELDS[cache_key] = entry
    return entry


def _entry(doc: dict[str, Any], raw: bytes | None) -> _Entry | None:
    """The meter's entry, first by its text (see :func:`_meter_text`), else by its fields."""
    if raw is not None and raw.startswith(b'{"meter": {'):
        end = raw.find(b"}", 10)
        # A text in _BY_TEXT passed _meter_text, so it is a whole flat object;
        # this line's meter is that object unless a later key overrides it.
        entry = _BY_TEXT.get(raw[10 : end + 1])
        if entry is not None and raw.count(b'"meter"') == 1 and raw.find(b"\\", end) < 0:
            return entry
    text = _meter_text(raw) if raw is not None else None
    entry = _by_fields(doc.get("meter"))
    if text is not None and entry is not None:
        if len(_BY_TEXT) > _CACHE_LIMIT:
            _BY_TEXT.clear()
        _BY_TEXT[text] = entry
    return entry


class _Group:
    """The plain credit lines of one (algorithm, subclass) in a batch."""

    __slots__ = ("hexes", "key_list", "keys", "kpos", "lines", "rnds", "tids", "units")

    def __init__(self) -> None:
        self.lines: list[int] = []
        self.keys: dict[bytes, int] = {}
        self.key_list: list[DecoderKey] = []
        self.kpos: list[int] = []
        self.tids: list[int] = []
        self.units: list[int] = []
        self.rnds: list[int] = []
        self.hexes: list[bytes] = []


def parse_lines(raws: Sequence[bytes]) -> tuple[list[Any], list[_Entry | None]]:
    """Parse lines; a line whose meter text is already known is parsed without its meter.

    Returns the parsed lines (:class:`BadJson` for a line that is not JSON) and,
    per line, the known meter's entry or None. Where an entry is given, the
    parsed line has ``"meter": 0`` in place of the meter: the line is valid
    JSON exactly when that shortened form is, since the known text is a
    complete JSON object.
    """
    loads, decode_error, by_text = orjson.loads, orjson.JSONDecodeError, _BY_TEXT
    docs: list[Any] = []
    known: list[_Entry | None] = []
    for raw in raws:
        if raw.startswith(b'{"meter": {'):
            end = raw.find(b"}", 10)
            entry = by_text.get(raw[10 : end + 1])
            if entry is not None and raw.count(b'"meter"') == 1 and raw.find(b"\\", end) < 0:
                try:
                    docs.append(loads(b'{"meter":0' + raw[end + 1 :]))
                    known.append(entry)
                    continue
                except decode_error:
                    pass  # parse it whole below, for the exact error message
        try:
            docs.append(loads(raw))
        except decode_error as exc:
            docs.append(BadJson(str(exc)))
        known.append(None)
    return docs, known


def encode_batch(
    docs: Sequence[Any],
    raws: Sequence[bytes] | None = None,
    known: Sequence[_Entry | None] | None = None,
) -> list[tuple[bytes, bool]]:
    """Serialised output lines and ok flags for parsed request lines, in order.

    ``raws`` (the lines' bytes, same order) lets meters be found by their
    text; ``known`` are the entries :func:`parse_lines` found (those lines
    were parsed without their meter, and are parsed whole again if they need
    the line-by-line path).
    """
    results: list[tuple[bytes, bool] | None] = [None] * len(docs)
    groups: dict[tuple[sts.EA, int], _Group] = {}
    times, units_cache, fast_keys = _TIMES, _UNITS, _FAST_KEYS
    for i, doc in enumerate(docs):
        entry = known[i] if known is not None else None
        plain = False
        tok: Any = doc.get("token") if type(doc) is dict else None
        issued: Any = None
        amount: Any = None
        if type(tok) is dict and fast_keys.issuperset(tok):
            cls = tok.get("class", 0)
            sub = tok.get("subclass", 2)
            issued = tok.get("issued")
            amount = tok.get("amount")
            rnd = tok.get("rnd", 0)
            plain = (
                type(cls) is int
                and cls == 0
                and type(sub) is int
                and 0 <= sub <= 3
                and type(issued) is str
                and type(amount) is str
                and type(rnd) is int
                and 0 <= rnd <= 15
            )
            if plain and entry is None:
                entry = _entry(doc, raws[i] if raws is not None else None)
        if not plain or entry is None:
            results[i] = _slow(doc, raws, known, i)
            continue
        key, hexkey, base_date = entry
        tid = times.get((issued, base_date))
        units = units_cache.get(amount)
        if tid is None or units is None:
            try:
                tid = _tid(tok, base_date)
                units = _fast_units(amount)
            except Exception:  # any problem: the line-by-line path words the error
                results[i] = _slow(doc, raws, known, i)
                continue
        group = groups.get((key.ea, sub))
        if group is None:
            group = groups[(key.ea, sub)] = _Group()
        group.lines.append(i)
        pos = group.keys.get(hexkey)
        if pos is None:
            pos = group.keys[hexkey] = len(group.key_list)
            group.key_list.append(key)
        group.kpos.append(pos)
        group.tids.append(tid)
        group.units.append(units)
        group.rnds.append(rnd)
        group.hexes.append(hexkey)
    for (_, subclass), g in groups.items():
        keys = KeyIndex(keys=g.key_list, index=np.array(g.kpos, dtype=np.intp))
        digits = encode_credit_bulk(keys, g.tids, g.units, g.rnds, subclass=subclass).tolist()
        texts = _UNITS_TEXT
        for i, d, hexkey, tid, units in zip(g.lines, digits, g.hexes, g.tids, g.units, strict=True):
            text = texts.get(units)
            if text is None:
                text = texts[units] = _units_text(units).encode()
            results[i] = (
                b'{"token":"%s","decoder_key":"%s","tid":%d,"amount":"%s"}'
                % (d, hexkey, tid, text),
                True,
            )
    return [r for r in results if r is not None]


def _slow(
    doc: Any, raws: Sequence[bytes] | None, known: Sequence[_Entry | None] | None, i: int
) -> tuple[bytes, bool]:
    """One line through :func:`encode_line`, parsed whole if it was parsed without its meter."""
    if known is not None and known[i] is not None and raws is not None:
        doc = orjson.loads(raws[i])
    return _dumped(safe(encode_line, doc))


def _dumped(result: tuple[dict[str, Any], bool]) -> tuple[bytes, bool]:
    return orjson.dumps(result[0]), result[1]
