"""Batch vending: many credit requests in, tokens out, through the bulk encoder.

Two forms over one core:

* :func:`credit_tokens` — typed :class:`CreditRequest` values in, one
  :class:`~stsgas.sts.IssuedToken` each out, exactly what
  :func:`~stsgas.sts.credit_token_at_tid` gives one at a time.
* :func:`encode_lines` — JSON request lines (the ``stsgas token encode``
  contract, docs/cli.md) in, one serialised JSON answer per line out.

Every line is parsed by one typed JSON decoder; a plain credit line (class
0, subclass 0–3, by ``issued`` or by ``tid``, any meter shape) goes to the
bulk encoder, grouped per (algorithm, subclass). Everything else — other
token classes, currency, and any line the typed decoder refuses — goes
through :func:`stsgas.sts.lines.encode_line`, which words the errors. The
meter's decoder key is cached by the meter's JSON text as the parser
delimits it: equal text is an equal meter.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

import msgspec
import numpy as np
import orjson

from stsgas.sts import lines
from stsgas.sts.amount import GAS_UNIT
from stsgas.sts.bulk import KeyIndex, encode_credit_bulk
from stsgas.sts.errors import StsError
from stsgas.sts.keys import EA, DecoderKey, MeterConfig
from stsgas.sts.tid import TID_MAX, BaseDate
from stsgas.sts.tokens import CreditToken
from stsgas.sts.vend import IssuedToken, credit_token_at_tid, credit_units, to_decimal

__all__ = ["Answers", "CreditRequest", "credit_tokens", "encode_lines"]

_CACHE_LIMIT: Final = 100_000
_UNSET: Final = msgspec.UNSET


@dataclass(frozen=True, slots=True)
class Answers:
    """The answers to a batch of lines.

    ``lines`` holds one serialised JSON object per non-blank input line, in
    order, without newlines; ``failed`` the input line numbers of the lines
    whose answer is an ``{"error": …}`` object.
    """

    lines: list[bytes]
    failed: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditRequest:
    """One credit to vend: the meter, the amount (see :func:`credit_token`), the TID."""

    meter: MeterConfig
    amount: Decimal | str | int
    tid: int
    rnd: int = 0
    subclass: int = 2


def credit_tokens(requests: Sequence[CreditRequest]) -> list[IssuedToken]:
    """Credit tokens for many requests, in order; gas subclasses 0–3 in bulk.

    Raises, as :func:`credit_token_at_tid` would for the first bad request,
    before any token is made: a batch is all or nothing.
    """
    units: list[int] = []
    for req in requests:
        if not 0 <= req.subclass <= 3:
            units.append(-1)
            continue
        if not 0 <= req.tid <= TID_MAX or not 0 <= req.rnd <= 15:
            CreditToken(subclass=req.subclass, tid=req.tid, units=0, rnd=req.rnd)  # raises
        units.append(credit_units(to_decimal(req.amount)))
    out: list[IssuedToken | None] = [None] * len(requests)
    for i, req in enumerate(requests):
        if units[i] < 0:  # currency (or an unknown subclass, which raises here)
            out[i] = credit_token_at_tid(
                req.meter, req.amount, tid=req.tid, rnd=req.rnd, subclass=req.subclass
            )
    groups: dict[tuple[EA, int], list[int]] = {}
    keys = [r.meter.key() if units[i] >= 0 else None for i, r in enumerate(requests)]
    for i, key in enumerate(keys):
        if key is not None:
            groups.setdefault((key.ea, requests[i].subclass), []).append(i)
    for (_, subclass), members in groups.items():
        digits = encode_credit_bulk(
            [k for i in members if (k := keys[i]) is not None],
            [requests[i].tid for i in members],
            [units[i] for i in members],
            [requests[i].rnd for i in members],
            subclass=subclass,
        ).tolist()
        for i, d in zip(members, digits, strict=True):
            req = requests[i]
            tok = CreditToken(subclass=subclass, tid=req.tid, units=units[i], rnd=req.rnd)
            out[i] = IssuedToken(
                digits=d.decode(), tid=req.tid, amount=units[i] * GAS_UNIT, token=tok
            )
    return [t for t in out if t is not None]


class _Token(msgspec.Struct, gc=False):
    """A plain credit request: the decoder refuses any other token (it then goes line by line)."""

    cls: Literal[0] = msgspec.field(default=0, name="class")
    subclass: Annotated[int, msgspec.Meta(ge=0, le=3)] = 2
    rnd: Annotated[int, msgspec.Meta(ge=0, le=15)] = 0
    issued: str | msgspec.UnsetType = _UNSET
    tid: Annotated[int, msgspec.Meta(ge=0, le=TID_MAX)] | msgspec.UnsetType = _UNSET
    amount: str = ""


class _Request(msgspec.Struct, gc=False):
    meter: msgspec.Raw
    token: _Token


_REQUEST: Final = msgspec.json.Decoder(_Request)
#: Per meter JSON text: its decoder key's id in the registry, the key's hex (as output),
#: its base date, its algorithm's group number (a multiple of 4, plus the subclass
#: makes a group) and the TIDs of issue times already seen for that base date.
_Entry = tuple[int, bytes, BaseDate, int, dict[str, int]]
_GROUP: Final = {EA.STA: 0, EA.DEA: 4, EA.MISTY1: 8}
_MISSING: Final[_Entry] = (-1, b"", BaseDate.BD1993, -1, {})
#: A plain credit line: position, key id, TID, units, RND, key hex, amount text.
_Row = tuple[int, int, int, int, int, bytes, bytes]


class Registry:
    """Cached entries per caller's key, and the decoder keys they name by id.

    Ids index ``keys``; a full registry is replaced, never cleared, so a batch
    running in another thread keeps the one it started with, and ids are
    handed out under a lock.
    """

    __slots__ = ("entries", "keys")

    def __init__(self) -> None:
        self.entries: dict[Any, Any] = {}
        self.keys: list[DecoderKey] = []

    def add(self, key: DecoderKey) -> int:
        """A new id for ``key``."""
        with _LOCK:
            self.keys.append(key)
            return len(self.keys) - 1


class RegistrySlot:
    """The registry one kind of batch shares across calls: handed out as it is, or a
    fresh one in its place once it holds ``_CACHE_LIMIT`` entries (encode and decode
    batches keep one slot each)."""

    __slots__ = ("_registry",)

    def __init__(self) -> None:
        self._registry = Registry()

    def current(self) -> Registry:
        """The registry for the batch about to run."""
        registry = self._registry
        if len(registry.entries) >= _CACHE_LIMIT:
            registry = self._registry = Registry()
        return registry


_LOCK: Final = threading.Lock()
_METERS: Final = RegistrySlot()
_UNITS: dict[str, tuple[int, bytes]] = {}
_TIMES: dict[BaseDate, dict[str, int]] = {}


def nonblank(raw: Sequence[bytes], first: int) -> tuple[list[bytes], list[int] | None]:
    """The non-blank lines and, if any line was blank, their line numbers."""
    kept = [r for r in raw if r and not r.isspace()]
    if len(kept) == len(raw):
        return kept, None
    return kept, [first + i for i, r in enumerate(raw) if r and not r.isspace()]


def decode_all(decode: Callable[[bytes], Any], raws: Sequence[bytes]) -> list[Any]:
    """Each line decoded, or None where the typed decoder refuses it."""
    try:
        return list(map(decode, raws))
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass
    out: list[Any] = []
    for raw in raws:
        try:
            out.append(decode(raw))
        except (msgspec.DecodeError, msgspec.ValidationError):
            out.append(None)
    return out


def one_line(fn: Callable[[Any], lines.Json], raw: bytes, number: int) -> tuple[bytes, bool]:
    """One line through the line-by-line path; an error names its line number."""
    try:
        doc: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        doc = lines.BadJson(str(exc))
    answer, ok = lines.safe(fn, doc)
    if not ok:
        answer["error"]["line"] = number
    return orjson.dumps(answer), ok


def slow_lines(
    fn: Callable[[Any], lines.Json],
    raws: Sequence[bytes],
    numbers: list[int] | None,
    first: int,
    slow: list[int],
    out: list[bytes],
) -> list[int]:
    """The lines at ``slow`` answered one by one into ``out`` (the encode and the decode
    batch alike); the line numbers of those that failed."""
    failed: list[int] = []
    for i in sorted(slow):
        number = numbers[i] if numbers is not None else first + i
        out[i], ok = one_line(fn, raws[i], number)
        if not ok:
            failed.append(number)
    return failed


def _meter_entry(registry: Registry, raw: bytes) -> _Entry | None:
    entry: _Entry | None
    try:
        meter = lines.meter_of(orjson.loads(raw))
        key = meter.key()
        times = _TIMES.setdefault(meter.base_date, {})
        kid = registry.add(key)
        entry = (kid, key.hex().encode(), meter.base_date, _GROUP[key.ea], times)
    except (StsError, TypeError, ValueError):
        entry = None
    registry.entries[raw] = entry
    return entry


def _units(amount: str) -> tuple[int, bytes] | None:
    try:
        units = credit_units(to_decimal(amount))
    except (StsError, ValueError):
        return None
    if len(_UNITS) >= _CACHE_LIMIT:
        _UNITS.clear()
    found = _UNITS[amount] = (units, lines.units_text(units).encode())
    return found


def _tid(issued: str, base_date: BaseDate, times: dict[str, int]) -> int | None:
    try:
        tid = lines.tid_of({"issued": issued}, base_date)
    except (StsError, ValueError):
        return None
    if len(times) >= _CACHE_LIMIT:
        times.clear()
    times[issued] = tid
    return tid


def _plain_rows(
    registry: Registry, reqs: list[_Request | None]
) -> tuple[dict[int, list[_Row]], list[int]]:
    """The rows of the lines the bulk encoder takes, per group (algorithm + subclass),
    and the positions of the lines it does not take.

    Column by column (one pass per field) rather than line by line: a batch
    is mostly plain credit lines, and a comprehension costs less per line
    than a loop body with branches.
    """
    at = [i for i, r in enumerate(reqs) if r is not None]
    slow: list[int] = []
    if len(at) != len(reqs):
        slow = [i for i, r in enumerate(reqs) if r is None]
        reqs = [reqs[i] for i in at]
    good: list[_Request] = reqs  # type: ignore[assignment]
    toks = [r.token for r in good]
    texts = [bytes(r.meter) for r in good]
    meters, missing = registry.entries, _MISSING
    entries: list[_Entry | None] = [meters.get(t, missing) for t in texts]
    for j in [j for j, e in enumerate(entries) if e is missing]:
        entries[j] = meters.get(texts[j], missing)
        if entries[j] is missing:  # not added for an earlier line of this batch
            entries[j] = _meter_entry(registry, texts[j])
    units_cache = _UNITS
    founds = [units_cache.get(t.amount) for t in toks]
    for j in [j for j, f in enumerate(founds) if f is None]:
        founds[j] = _units(toks[j].amount)
    unset = _UNSET
    tids: list[Any] = [t.tid for t in toks]
    for j in [j for j, t in enumerate(tids) if t is unset]:
        issued, entry = toks[j].issued, entries[j]
        if issued is unset or entry is None:
            tids[j] = None
        else:
            tid = entry[4].get(issued)
            tids[j] = _tid(issued, entry[2], entry[4]) if tid is None else tid
    groups: dict[int, list[_Row]] = {}
    for i, tok, e, f, tid in zip(at, toks, entries, founds, tids, strict=True):
        if e is not None and f is not None and tid is not None:
            group = groups.get(e[3] + tok.subclass)
            row = (i, e[0], tid, f[0], tok.rnd, e[1], f[1])
            if group is None:
                groups[e[3] + tok.subclass] = [row]
            else:
                group.append(row)
        else:
            slow.append(i)
    return groups, slow


def encode_lines(raw_lines: Sequence[bytes], *, first: int = 1) -> Answers:
    """Answers to JSON request lines (``raw_lines[0]`` is line number ``first``).

    Blank lines get no answer. A bad line gets ``{"error": {"code",
    "message", "line"}}`` and never stops the batch.
    """
    registry = _METERS.current()
    raws, numbers = nonblank(raw_lines, first)
    reqs = decode_all(_REQUEST.decode, raws)
    out: list[bytes] = [b""] * len(raws)
    groups, slow = _plain_rows(registry, reqs)
    failed = slow_lines(lines.encode_line, raws, numbers, first, slow, out)
    for group_key, rows in groups.items():
        subclass = group_key & 3
        at, key_ids, tids, units, rnds, hexes, texts = zip(*rows, strict=True)
        uniq, index = np.unique(np.array(key_ids, dtype=np.intp), return_inverse=True)
        keys = KeyIndex(keys=[registry.keys[k] for k in uniq.tolist()], index=index)
        digits = encode_credit_bulk(keys, tids, units, rnds, subclass=subclass).tolist()
        for i, d, hexkey, tid, text in zip(at, digits, hexes, tids, texts, strict=True):
            out[i] = b'{"token":"%s","decoder_key":"%s","tid":%d,"amount":"%s"}' % (
                d,
                hexkey,
                tid,
                text,
            )
    return Answers(out, failed)
