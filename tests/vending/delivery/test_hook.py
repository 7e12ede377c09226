"""The after-sale hook notes receipts only where a commit listener will send them."""

from __future__ import annotations

import threading

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.delivery import hook
from stsgas.vending.delivery.hook import Deliverer, install, sold
from stsgas.vending.models import Customer
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


class _SlowToAnswer:
    """A sessionmaker whose sessions open only after ``gate`` is set: the question
    "has anyone opted in?" stays out while the test sells."""

    def __init__(self, sm: sessionmaker[Session], gate: threading.Event) -> None:
        self.sm = sm
        self.gate = gate

    def __call__(self) -> Session:
        assert self.gate.wait(30)
        return self.sm()


def _deliveries(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sale ids :func:`deliver` is run for, from now on."""
    seen: list[int] = []

    def counted(sm: object, gateway: object, receipt: Receipt, *, now: object) -> str:
        seen.append(receipt.sale_id)
        return "sent"

    monkeypatch.setattr(hook, "deliver", counted)
    return seen


@pytest.mark.parametrize("opted", [False, True], ids=["nobody", "somebody"])
def test_sales_made_while_the_question_is_out_wait_for_its_answer(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, opted: bool
) -> None:
    """A starting server's sales are held until it knows whether anyone wants token SMS:
    with nobody opted in, none of them costs a delivery; with somebody, each is
    delivered once the answer comes."""
    if opted:
        with make_sessionmaker(engine).begin() as s:
            s.add(Customer(name="Opted", phone="+27820000001", debt_balance=0, sms_tokens=True))
    delivered = _deliveries(monkeypatch)
    monkeypatch.setattr(hook.Deliverer, "_catch_up", lambda self: None)
    gate = threading.Event()
    sm = _SlowToAnswer(make_sessionmaker(engine), gate)
    deliverer = Deliverer(sm, MemorySmsGateway)  # type: ignore[arg-type]
    for sale_id in range(1, 51):
        deliverer.submit(a_receipt(sale_id=sale_id))
    assert delivered == []  # nothing goes before the answer
    gate.set()
    deliverer.drain()
    assert sorted(delivered) == (list(range(1, 51)) if opted else [])
    deliverer.submit(a_receipt(sale_id=51))  # the answer is known now
    deliverer.drain()
    assert delivered[-1:] == ([51] if opted else [])
