"""Money as a sale shows it: minor units in major units, to the request's currency decimals.

Apart from the receipt (:mod:`.receipts`), whatever else names a sale's money
to a person or a client (a cancel's refund, the reports, a credit policy's
lines, the IR tariff page) shows it through these, so every answer agrees on
the decimals (``STSGAS_CURRENCY_DECIMALS``, set per request by the guard; 2
outside a request). Parsing money in is :mod:`stsgas.vending.kit.money`.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from stsgas.vending.kit.money import currency_decimals, minor_unit, to_major


def major(minor: int) -> Decimal:
    """Minor units as major units, by the currency's decimals (``STSGAS_CURRENCY_DECIMALS``,
    set per request by the guard; 2 outside a request)."""
    return to_major(minor, currency_decimals.get())


def money(minor: int | None) -> str | None:
    """Minor units as a string with the currency's decimals (never a float)."""
    return None if minor is None else str(major(minor))


def money_shown(amount: Decimal) -> str:
    """A credit in major units to the currency's decimals, rounded down: the token's
    finer 10^-5 digits are not money the customer can count."""
    return str(amount.quantize(minor_unit(currency_decimals.get()), rounding=ROUND_DOWN))
