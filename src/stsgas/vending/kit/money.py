"""The one money parser and formatter of the vending service.

Money crosses the boundary in two forms only: a string of ASCII digits with
an optional '.' and at most the currency's decimals ("25", "25.5", "25.50"),
or a JSON integer in major units (``25``). Everything else is refused with
:class:`~stsgas.vending.errors.BadAmount` (422 ``bad_amount``): exponents
("1e3", "1e309"), underscores ("1_000"), signs ("+5"; "-5" unless the
caller allows negatives), digits of other scripts, JSON floats, booleans,
more decimals than the currency has, empty strings and any whitespace.
``Decimal`` and ``float`` never see the text, so no spelling of infinity,
NaN or a huge exponent can reach the arithmetic.

Inside the service money is an ``int`` of minor units (``decimals`` of them
per major unit); :func:`format_money` renders it back, and
``parse_money(format_money(x, d), d) == x`` for every ``x`` in range.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextvars import ContextVar
from decimal import Decimal
from typing import Annotated, Final

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from stsgas.vending.errors import BadAmount

__all__ = [
    "BP_PER_PERCENT",
    "MAX_DECIMALS",
    "MAX_MINOR",
    "PERCENT_PER_BP",
    "AmountIn",
    "Balance",
    "Charge",
    "PositiveAmount",
    "Price",
    "currency_decimals",
    "format_money",
    "minor_unit",
    "parse_money",
    "to_major",
]

#: the largest magnitude kept in minor units: a signed 64-bit column
MAX_MINOR: Final = 2**63 - 1
#: a rate in basis points (tax, debt recovery) times this is percent
PERCENT_PER_BP: Final = Decimal("0.01")
#: a percent times this is basis points; a rate in basis points divided by it is percent
BP_PER_PERCENT: Final = 100
#: currencies have 0 to 4 decimals (ISO 4217); 6 leaves room for odd tariffs
MAX_DECIMALS: Final = 6
#: a longer text cannot be in range whatever it says; refused before any work
_MAX_TEXT: Final = 32
# [0-9], never \d: \d also matches Arabic-Indic, Devanagari, fullwidth digits
_MONEY_RE: Final = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")


def _check_decimals(decimals: int) -> None:
    if not 0 <= decimals <= MAX_DECIMALS:
        raise ValueError(f"a currency has 0 to {MAX_DECIMALS} decimals, not {decimals}")


def parse_money(
    value: object, decimals: int, *, negative: bool = False, decimal_comma: bool = False
) -> int:
    """``value`` (major units) as an int of minor units; :class:`BadAmount` if malformed.

    ``negative`` lets a leading '-' through (corrections, debts); ``decimal_comma``
    also reads ',' as the separator (text typed by people: the console, SMS).
    Zero is returned as 0: whether zero or a large amount is allowed is the
    caller's rule, not the spelling's.
    """
    _check_decimals(decimals)
    if isinstance(value, bool):  # bool is an int subclass; true is not 1.00
        raise BadAmount("the amount must be a number, not true or false")
    if isinstance(value, int):
        if value < 0 and not negative:
            raise BadAmount("the amount must not be negative")
        if abs(value) > MAX_MINOR // 10**decimals:
            raise BadAmount("the amount is too large")
        return value * 10**decimals
    if not isinstance(value, str):
        kind = "a fraction" if isinstance(value, float) else type(value).__name__
        raise BadAmount(f"the amount must be a decimal string or a whole number, not {kind}")
    text = value.replace(",", ".", 1) if decimal_comma else value
    if len(text) > _MAX_TEXT:
        raise BadAmount("the amount is too long")
    match = _MONEY_RE.fullmatch(text)
    if match is None:
        raise BadAmount(f"amount {value!r} is not plain digits with an optional '.'")
    sign, whole, fraction = match.groups()
    if sign and not negative:
        raise BadAmount("the amount must not be negative")
    fraction = fraction or ""
    if len(fraction) > decimals:
        raise BadAmount(f"the amount has more than {decimals} decimals")
    minor = int(whole) * 10**decimals + int(fraction.ljust(decimals, "0") or "0")
    if minor > MAX_MINOR:
        raise BadAmount("the amount is too large")
    return -minor if sign else minor


def format_money(minor: int, decimals: int) -> str:
    """Minor units as a decimal string with exactly ``decimals`` digits after '.'."""
    _check_decimals(decimals)
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise TypeError(f"money is an int of minor units, not {type(minor).__name__}")
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**decimals)
    if decimals == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{decimals}d}"


#: one minor unit in major units, by the currency's decimals: ``_UNITS[2]`` is 0.01
_UNITS: Final = tuple(Decimal(1).scaleb(-d) for d in range(MAX_DECIMALS + 1))


def minor_unit(decimals: int) -> Decimal:
    """What one minor unit is worth in major units: ``10**-decimals`` (0.01 for cents).

    The one scale between the stored ints and the shown amounts: nothing else
    divides money by 100 or 1000."""
    _check_decimals(decimals)
    return _UNITS[decimals]


def minor_per_major(decimals: int) -> int:
    """Minor units in one major unit: ``10**decimals`` (100 for cents); a major amount
    times this is minor units."""
    _check_decimals(decimals)
    return int(10**decimals)


def to_major(minor: int, decimals: int) -> Decimal:
    """Minor units as an exact ``Decimal`` of major units with ``decimals`` places
    (quantized, so more digits than a ``Decimal`` holds raise, never round)."""
    unit = minor_unit(decimals)
    return (Decimal(minor) * unit).quantize(unit)


def _amount_shape(value: object) -> object:
    """A request schema's first look: only a string or a (non-bool) integer may pass."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PydanticCustomError(
            "bad_amount", "an amount is a decimal string or a whole number, never a fraction"
        )
    return value


#: an amount field of a request body: the raw text or integer, read later with
#: :func:`parse_money` and the currency's decimals; anything else is ``bad_amount``
AmountIn = Annotated[str | int, BeforeValidator(_amount_shape)]


#: the currency's decimals for the request being served (set from the settings by the
#: request guard, ``kit.guard``); request schemas read amounts with it
currency_decimals: ContextVar[int] = ContextVar("stsgas_currency_decimals", default=2)
_AMOUNT_SCHEMA: Final = WithJsonSchema(
    {
        "anyOf": [{"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"}, {"type": "integer"}],
        "description": "money in major units: ASCII digits with at most the currency's decimals",
    }
)


def _reader(*, largest: int, zero: bool) -> Callable[[object], int]:
    """A schema validator: the amount in minor units, at most ``largest`` major units."""

    def read(value: object) -> int:
        decimals = currency_decimals.get()
        try:
            minor = parse_money(value, decimals)
            if minor == 0 and not zero:
                raise BadAmount("the amount must be positive")
            if minor > largest * 10**decimals:
                raise BadAmount(f"the amount is above {largest}")
        except BadAmount as exc:
            raise PydanticCustomError("bad_amount", "{detail}", {"detail": exc.detail}) from None
        return minor

    return read


#: a payment into an account (a vendor's float): positive, at most 10 billion
PositiveAmount = Annotated[
    int, BeforeValidator(_reader(largest=10**10, zero=False)), _AMOUNT_SCHEMA
]
#: a balance owed (a customer's debt): zero or more, at most 10 billion
Balance = Annotated[int, BeforeValidator(_reader(largest=10**10, zero=True)), _AMOUNT_SCHEMA]
#: a price per unit (per m³ of gas): positive, at most 10 million
Price = Annotated[int, BeforeValidator(_reader(largest=10**7, zero=False)), _AMOUNT_SCHEMA]
#: a charge that may be nothing (a tariff's fixed charge): at most 10 million
Charge = Annotated[int, BeforeValidator(_reader(largest=10**7, zero=True)), _AMOUNT_SCHEMA]
