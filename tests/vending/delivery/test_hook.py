"""The after-sale hook notes receipts only where a commit listener will send them."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.delivery.hook import Deliverer, install, sold
from stsgas.vending.sales.receipts import Receipt
from stsgas.vending.sms.gateway import MemorySmsGateway
from tests.vending.delivery.conftest import a_receipt


def test_sessions_without_a_listener_keep_nothing(engine: Engine) -> None:
    with make_sessionmaker(engine)() as s:
        for i in range(3):
            sold(s, a_receipt(sale_id=i))
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
        sold(s, a_receipt(sale_id=1))
        s.rollback()
        s.begin()
        sold(s, a_receipt(sale_id=2))
        s.commit()
    assert submitted == [a_receipt(sale_id=2)]
