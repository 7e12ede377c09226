"""The token SMS text: meter, tokens in entry order, amount, credit, receipt number."""

from __future__ import annotations

from decimal import Decimal

from stsgas.vending.delivery.text import token_sms
from tests.vending.delivery.conftest import a_receipt


def test_plain_sale() -> None:
    text = token_sms(a_receipt(key_change=False, units=Decimal("7.3"), money=None))
    assert text == (
        "Gas meter 600727000000000012: Token 1234 5678 9012 3456 7890. "
        "Paid 20.00, credit 7.3 m3. Receipt 42."
    )
    assert len(text) <= 160  # one SMS segment


def test_key_change_tokens_come_first_numbered() -> None:
    text = token_sms(a_receipt(key_change=True, units=None, money=Decimal("17.39")))
    assert "Enter in order: 1) 1111 2222 3333 4444 5555 2) 6666 7777 8888 9999 0000 3) 1234" in text
    assert "credit 17.39." in text
    assert text.endswith("Receipt 42.")
