"""The after-sale hook notes receipts only where a commit listener will send them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.delivery.hook import Deliverer, install, sold
from stsgas.vending.sales.receipts import Receipt
from stsgas.vending.sms.gateway import MemorySmsGateway


def _receipt(sale_id: int) -> Receipt:
    """A sale's receipt: the hook passes it along whole, whatever it says."""
    zero = Decimal("0.00")
    return Receipt(
        sale_id=sale_id,
        status="completed",
        meter_number="01234567890",
        mode="volume",
        channel="pos",
        operator="cashier",
        vendor_id=None,
        time=datetime(2026, 1, 1, tzinfo=UTC),
        tid=1,
        amount_tendered=zero,
        amount_paid=zero,
        change=zero,
        fixed_charge=zero,
        fixed_charge_period="sale",
        fixed_charge_rate=zero,
        fixed_charge_months=None,
        debt_recovered=zero,
        tax=zero,
        energy_amount=zero,
        units_credited=Decimal("0.0"),
        money_credited=None,
        tariff_steps=(),
        key_change=False,
        tokens=(),
        token=None,
        copy=False,
        notes=(),
    )


def test_sessions_without_a_listener_keep_nothing(engine: Engine) -> None:
    with make_sessionmaker(engine)() as s:
        for i in range(3):
            sold(s, _receipt(i))
        assert "stsgas.sold" not in s.info


def test_commit_hands_notes_over_and_rollback_drops_them(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Receipts noted before a rollback are dropped; those before a commit are submitted."""
    app = FastAPI()
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.sms_gateway = MemorySmsGateway()
    install(app)
    submitted: list[Receipt] = []
    deliverer: Deliverer = app.state.delivery
    monkeypatch.setattr(deliverer, "submit", submitted.append)
    with app.state.sessionmaker() as s:
        s.begin()
        sold(s, _receipt(1))
        s.rollback()
        s.begin()
        sold(s, _receipt(2))
        s.commit()
    assert submitted == [_receipt(2)]
