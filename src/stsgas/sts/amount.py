"""Amount encodings (§6.3.4): the 16-bit transfer amount and the 20-bit currency amount.

Both are ``mantissa(14)`` with a decimal exponent ``e`` and a bias, so that the
ranges of consecutive exponents follow each other:

    value = m * 10**e + sum(2**14 * 10**(n-1) for n in 1..e)

Encoding a credit rounds *up*, so a customer is never credited less than was
paid for. Negative currency amounts round their magnitude *down*.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from stsgas.sts.errors import RangeError

__all__ = [
    "AMOUNT16_MAX",
    "CURRENCY_MAX",
    "CURRENCY_UNIT",
    "GAS_UNIT",
    "LITRE",
    "LITRES_PER_M3",
    "LITRES_PER_UNIT",
    "decode_amount16",
    "decode_currency",
    "encode_amount16",
    "encode_currency",
]

_M_MAX: Final = (1 << 14) - 1
_OFFSETS: Final = tuple((1 << 14) * (10**e - 1) // 9 for e in range(32))
_MAXES: Final = tuple(_M_MAX * 10**e + _OFFSETS[e] for e in range(32))

#: What one unit of a gas credit token is worth: 0.1 m³ (subclass 2 counts tenths).
GAS_UNIT: Final = Decimal("0.1")
#: One litre in cubic metres: meters and the vending side count gas in whole litres.
LITRE: Final = Decimal("0.001")
#: Litres in one cubic metre (a volume in m³ times this is litres).
LITRES_PER_M3: Final = 1000
#: Litres in one unit of a gas credit token (``GAS_UNIT``, 0.1 m³).
LITRES_PER_UNIT: Final = int(GAS_UNIT * LITRES_PER_M3)
#: What one unit of a currency credit token is worth: 10^-5 of the base currency.
CURRENCY_UNIT: Final = Decimal("0.00001")

#: Largest value of the 16-bit amount (exponent 3): 18,201,624 units.
AMOUNT16_MAX: Final = _MAXES[3]
#: Largest magnitude of the 20-bit currency amount (exponent 31), in 10^-5 units.
CURRENCY_MAX: Final = _MAXES[31]


def _round_up(value: int, top_exponent: int) -> tuple[int, int]:
    for e in range(top_exponent + 1):
        if value <= _MAXES[e]:
            if value <= _OFFSETS[e]:
                return e, 0
            return e, -(-(value - _OFFSETS[e]) // 10**e)
    raise RangeError(f"amount {value} is above the largest encodable {_MAXES[top_exponent]}")


def _round_down(value: int, top_exponent: int) -> tuple[int, int]:
    if value > _MAXES[top_exponent]:
        raise RangeError(f"amount {value} is above the largest encodable {_MAXES[top_exponent]}")
    e = top_exponent
    while _OFFSETS[e] > value:
        e -= 1
    return e, min(_M_MAX, (value - _OFFSETS[e]) // 10**e)


def encode_amount16(units: int) -> int:
    """Encode a non-negative amount (0.1 m³ units for gas) into 16 bits, rounding up."""
    if units < 0:
        raise RangeError("a transfer amount cannot be negative")
    e, m = _round_up(units, 3)
    return (e << 14) | m


def decode_amount16(field: int) -> int:
    """The value of a 16-bit amount field."""
    e = field >> 14
    value: int = (field & _M_MAX) * 10**e + _OFFSETS[e]
    return value


def encode_currency(value: int) -> tuple[int, int]:
    """Encode a signed currency amount in 10^-5 units.

    Returns:
        ``(field16, se)``: the 16-bit field (exponent bits 0–1 and mantissa) and
        the 4-bit sign/exponent nibble that takes the place of RND.
    """
    if value >= 0:
        e, m = _round_up(value, 31)
        sign = 0
    else:
        e, m = _round_down(-value, 31)
        sign = 1
    return ((e & 3) << 14) | m, (sign << 3) | (e >> 2)


def decode_currency(field16: int, se: int) -> int:
    """The signed value, in 10^-5 units, of a currency amount."""
    e = ((se & 7) << 2) | (field16 >> 14)
    magnitude: int = (field16 & _M_MAX) * 10**e + _OFFSETS[e]
    return -magnitude if se & 8 else magnitude
