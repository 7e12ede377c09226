"""Read and check a ``stsgas-readout/1`` file, before anything touches the database.

Every number of consequence is a decimal string: volumes in m³ with at most
three decimals become whole litres, money becomes minor units, and a JSON
fraction anywhere in the file is refused (a float cannot say 0.1 m³ exactly).
Sizes are bounded so that an absurd file is refused whole, not half kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from stsgas.vending.errors import BadAmount
from stsgas.vending.kit.money import parse_money
from stsgas.vending.kit.volume import LITRES_PER_M3
from stsgas.vending.readouts.csvfile import csv_body, is_csv
from stsgas.vending.readouts.errors import BadReadout, ReadoutFormat, ReadoutTooLarge

__all__ = [
    "FORMAT",
    "MAX_EVENTS",
    "MAX_HOURS",
    "MAX_MONTHS",
    "Event",
    "Hour",
    "Month",
    "ReadoutFile",
    "litres_text",
    "parse_readout",
]

FORMAT: Final = "stsgas-readout/1"
#: a meter keeps ten years of months; 200 leaves room and refuses nonsense
MAX_MONTHS: Final = 200
MAX_HOURS: Final = 10_000
MAX_EVENTS: Final = 10_000
#: registers and settings are a few dozen names at most
MAX_NAMES: Final = 64
MAX_VALUE_TEXT: Final = 80
MAX_DETAIL: Final = 200
_VOLUME_RE: Final = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,3})?")
_NAME_RE: Final = re.compile(r"[a-z][a-z0-9_]{0,39}")
_MONTH_RE: Final = re.compile(r"([0-9]{4})-([0-9]{2})")


@dataclass(frozen=True, slots=True)
class Month:
    """Gas counted in one of the meter's months."""

    month: str
    litres: int
    #: money charged that month (minor units), when the file says
    amount: int | None = None


@dataclass(frozen=True, slots=True)
class Hour:
    """Gas counted in one clock hour (UTC instant of the hour's start)."""

    hour: datetime
    litres: int


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of the meter's event log."""

    at: datetime
    code: str
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadoutFile:
    """A checked readout, times in UTC, volumes in litres."""

    meter_number: str
    read_at: datetime
    mode: str
    registers: Mapping[str, str]
    settings: Mapping[str, str]
    monthly: tuple[Month, ...]
    hourly: tuple[Hour, ...]
    events: tuple[Event, ...]


def _no_float(text: str) -> Any:
    raise BadReadout(f'{text} is a JSON fraction: write decimals as strings, e.g. "{text}"')


def _no_constant(text: str) -> Any:
    raise BadReadout(f"{text} is not a number a readout may hold")


def litres(value: object, where: str) -> int:
    """A volume in m³ (decimal string, at most 3 decimals) as whole litres."""
    if not isinstance(value, str) or _VOLUME_RE.fullmatch(value) is None:
        raise BadReadout(
            f"{where} must be m³ as a decimal string with at most 3 decimals, not {value!r}",
            field=where,
        )
    return int(Decimal(value) * LITRES_PER_M3)


def litres_text(count: int) -> str:
    """Whole litres as m³ with three decimals (``12345`` -> ``"12.345"``)."""
    sign = "-" if count < 0 else ""
    whole, rest = divmod(abs(count), LITRES_PER_M3)
    return f"{sign}{whole}.{rest:03d}"


def _instant(value: object, where: str) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise BadReadout(f"{where} must be an ISO time with its offset", field=where)
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise BadReadout(f"{where} is not an ISO time: {value!r}", field=where) from None
    if at.tzinfo is None:
        raise BadReadout(f"{where} needs its UTC offset: {value!r}", field=where)
    try:
        return at.astimezone(UTC)
    except OverflowError:
        raise BadReadout(f"{where} is out of range: {value!r}", field=where) from None


def _text_map(value: object, where: str) -> dict[str, str]:
    """Registers or settings: names to decimal strings, words or whole numbers."""
    if not isinstance(value, dict):
        raise BadReadout(f"{where} must be an object", field=where)
    if len(value) > MAX_NAMES:
        raise ReadoutTooLarge(f"{where} has more than {MAX_NAMES} names", field=where)
    out: dict[str, str] = {}
    for name, item in value.items():
        if _NAME_RE.fullmatch(name) is None:
            raise BadReadout(f"{where} name {name!r} is not a lower-case name", field=where)
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise BadReadout(f"{where}.{name} must be text or a whole number", field=where)
        text = str(item)
        if len(text) > MAX_VALUE_TEXT:
            raise BadReadout(f"{where}.{name} is too long", field=f"{where}.{name}")
        out[name] = text
    return out


def _items(body: Mapping[str, Any], key: str, limit: int) -> list[Any]:
    value = body.get(key, [])
    if not isinstance(value, list):
        raise BadReadout(f"{key} must be a list", field=key)
    if len(value) > limit:
        raise ReadoutTooLarge(
            f"{key} has {len(value)} entries; a readout holds at most {limit}", field=key
        )
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise BadReadout(f"{key}[{i}] must be an object", field=f"{key}[{i}]")
    return value


def _month(item: Mapping[str, Any], i: int, decimals: int) -> Month:
    where = f"monthly[{i}]"
    text = item.get("month")
    match = _MONTH_RE.fullmatch(text) if isinstance(text, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        raise BadReadout(f"{where}.month must be YYYY-MM, not {text!r}", field=f"{where}.month")
    amount = None
    if item.get("amount") is not None:
        try:
            amount = parse_money(item["amount"], decimals)
        except BadAmount as exc:
            raise BadReadout(f"{where}.amount: {exc.detail}", field=f"{where}.amount") from None
    assert isinstance(text, str)
    return Month(text, litres(item.get("volume_m3"), f"{where}.volume_m3"), amount)


def _hour(item: Mapping[str, Any], i: int) -> Hour:
    where = f"hourly[{i}]"
    at = _instant(item.get("hour"), f"{where}.hour")
    if at.minute or at.second or at.microsecond:
        raise BadReadout(f"{where}.hour must be the start of an hour", field=f"{where}.hour")
    return Hour(at, litres(item.get("volume_m3"), f"{where}.volume_m3"))


def _event(item: Mapping[str, Any], i: int) -> Event:
    where = f"events[{i}]"
    code = item.get("code")
    if not isinstance(code, str) or _NAME_RE.fullmatch(code) is None:
        raise BadReadout(f"{where}.code must be an event name, not {code!r}", field=where)
    detail = item.get("detail", "")
    if not isinstance(detail, str) or len(detail) > MAX_DETAIL:
        raise BadReadout(f"{where}.detail must be text up to {MAX_DETAIL} characters", field=where)
    return Event(_instant(item.get("at"), f"{where}.at"), code, detail)


def _unique(keys: list[Any], what: str) -> None:
    if len(set(keys)) != len(keys):
        raise BadReadout(f"{what} repeats an entry")


def parse_readout(content: bytes, *, decimals: int) -> ReadoutFile:
    """The checked readout in ``content`` (JSON, or the CSV of :mod:`.csvfile`); ``decimals``
    are the currency's (money amounts).

    Raises:
        BadReadout, ReadoutFormat, ReadoutTooLarge: the file is refused whole.
    """
    if is_csv(content):
        body: Any = csv_body(content)
    else:
        try:
            body = json.loads(
                content.decode("utf-8"), parse_float=_no_float, parse_constant=_no_constant
            )
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadReadout(f"the file is not UTF-8 JSON (or the CSV readout): {exc}") from None
        except RecursionError:
            raise BadReadout("the file nests too deeply") from None
    if not isinstance(body, dict):
        raise BadReadout("a readout is a JSON object")
    if body.get("format") != FORMAT:
        raise ReadoutFormat(f"format must be {FORMAT!r}, not {body.get('format')!r}")
    number = body.get("meter_number")
    if not isinstance(number, str) or not 1 <= len(number) <= 40:
        raise BadReadout("meter_number must be the meter's number as text", field="meter_number")
    mode = body.get("mode")
    if mode not in ("volume", "amount"):
        raise BadReadout(f"mode must be volume or amount, not {mode!r}", field="mode")
    monthly_items = _items(body, "monthly", MAX_MONTHS)
    hourly_items = _items(body, "hourly", MAX_HOURS)
    event_items = _items(body, "events", MAX_EVENTS)
    monthly = tuple(_month(m, i, decimals) for i, m in enumerate(monthly_items))
    hourly = tuple(_hour(h, i) for i, h in enumerate(hourly_items))
    # an event logged twice at one instant is one event (the merge key); a month or an
    # hour with two figures is a contradiction, refused
    kept: dict[tuple[datetime, str], Event] = {}
    for i, item in enumerate(event_items):
        event = _event(item, i)
        kept.setdefault((event.at, event.code), event)
    events = tuple(kept.values())
    _unique([m.month for m in monthly], "monthly")
    _unique([h.hour for h in hourly], "hourly")
    return ReadoutFile(
        meter_number=number,
        read_at=_instant(body.get("read_at"), "read_at"),
        mode=str(mode),
        registers=_text_map(body.get("registers", {}), "registers"),
        settings=_text_map(body.get("settings", {}), "settings"),
        monthly=monthly,
        hourly=hourly,
        events=events,
    )
