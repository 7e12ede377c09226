"""Receipts show money with the currency's decimals (``STSGAS_CURRENCY_DECIMALS``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stsgas.vending.kit.money import currency_decimals
from stsgas.vending.sales import receipt_money


@pytest.mark.parametrize(
    ("decimals", "minor", "shown", "credit"),
    [
        (2, 127122, "1271.22", "1271.22"),
        (3, 127122, "127.122", "1271.226"),
        (0, 1271, "1271", "1271"),
    ],
)
def test_receipt_money_follows_the_currency_decimals(
    decimals: int, minor: int, shown: str, credit: str
) -> None:
    """Minor units and a token's finer credit are shown to the setting's decimals,
    the credit rounded down (never more than the token gives)."""
    token = currency_decimals.set(decimals)
    try:
        assert receipt_money.money(minor) == shown
        assert receipt_money.money_shown(Decimal("1271.22624")) == credit
    finally:
        currency_decimals.reset(token)
