"""The token SMS text: meter, tokens in entry order, amount, credit, receipt number."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from stsgas.vending.delivery.text import token_sms
from stsgas.vending.sales.receipts import Receipt, ReceiptToken

KCT1 = "11112222333344445555"
KCT2 = "66667777888899990000"
CREDIT = "12345678901234567890"


def _receipt(*, key_change: bool, units: Decimal | None, money: Decimal | None) -> Receipt:
    def token(seq: int, kind: str, digits: str) -> ReceiptToken:
        return ReceiptToken(
            sequence=seq, kind=kind, token_class=0, subclass=0, tid=None, digits=digits
        )

    tokens = (token(1, "kct", KCT1), token(2, "kct", KCT2), token(3, "credit", CREDIT))
    return Receipt(
        sale_id=42,
        status="completed",
        meter_number="600727000000000012",
        mode="volume" if units is not None else "amount",
        channel="web",
        operator="cashier",
        vendor_id=1,
        time=datetime(2026, 12, 5, tzinfo=UTC),
        tid=1,
        amount_tendered=Decimal("20.00"),
        amount_paid=Decimal("20.00"),
        change=Decimal("0.00"),
        fixed_charge=Decimal("0.00"),
        fixed_charge_period="sale",
        fixed_charge_rate=Decimal("0.00"),
        fixed_charge_months=None,
        debt_recovered=Decimal("0.00"),
        tax=Decimal("0.00"),
        energy_amount=Decimal("20.00"),
        units_credited=units,
        money_credited=money,
        tariff_steps=(),
        key_change=key_change,
        tokens=tokens if key_change else tokens[2:],
        token=CREDIT,
        copy=False,
        notes=(),
    )


def test_plain_sale() -> None:
    text = token_sms(_receipt(key_change=False, units=Decimal("7.3"), money=None))
    assert text == (
        "Gas meter 600727000000000012: Token 1234 5678 9012 3456 7890. "
        "Paid 20.00, credit 7.3 m3. Receipt 42."
    )
    assert len(text) <= 160  # one SMS segment


def test_key_change_tokens_come_first_numbered() -> None:
    text = token_sms(_receipt(key_change=True, units=None, money=Decimal("17.39")))
    assert "Enter in order: 1) 1111 2222 3333 4444 5555 2) 6666 7777 8888 9999 0000 3) 1234" in text
    assert "credit 17.39." in text
    assert text.endswith("Receipt 42.")
