"""The M-Pesa webhook on both databases, against the real simulator: authenticated,
verified with the provider, applied once; gas at once or wallet credit; SMS sent."""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

import pytest
from sqlalchemy import Engine, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.errors import RetryLater
from stsgas.vending.models import IdempotencyRecord, PaidFrom, Payment, PaymentState, Sale
from stsgas.vending.payments import endpoints as payments_endpoints
from stsgas.vending.payments import fast_sql
from stsgas.vending.sales.store_async import AsyncPgSaleStore
from stsgas.vending.wallet import service as wallet
from tests.vending.conftest import auth
from tests.vending.payments.conftest import CONFIRM, Paying, callback, counts, setup_app
from tests.vending.wallet.conftest import ledger_balanced

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _payment(engine: Engine, txn_id: str) -> Payment:
    with make_sessionmaker(engine)() as s:
        return s.execute(select(Payment).where(Payment.txn_id == txn_id)).scalar_one()


def _outbox_body(engine: Engine, key: str) -> Any:
    """The outbox record's body once marked sent (or as it stands after 10 s)."""
    for _ in range(200):
        with make_sessionmaker(engine)() as s:
            body = s.execute(
                select(IdempotencyRecord.response_body).where(IdempotencyRecord.key == key)
            ).scalar_one()
        if body.get("sent"):
            break
        time.sleep(0.05)
    return body


def _balance(engine: Engine, customer_id: int) -> int:
    with make_sessionmaker(engine)() as s:
        return wallet.balance_of(s, customer_id)


def test_a_payment_naming_a_meter_buys_gas_and_texts_the_token(
    client: TestClient, paying: Paying, engine: Engine
) -> None:
    txn = paying.pay(paying.shop.pans[0], "30.00")
    r = callback(client, txn)
    assert r.status_code == 200, r.text
    assert r.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    pay = _payment(engine, txn.trans_id)
    assert (pay.state, pay.customer_id) == (PaymentState.SOLD.value, paying.shop.customer_id)
    with make_sessionmaker(engine)() as s:
        sale = s.get(Sale, pay.sale_id)
        assert sale is not None
        assert (sale.paid_from, sale.amount_paid, sale.vendor_id) == (
            PaidFrom.MOBILE.value,
            3_000,
            None,
        )
        digits = next(t["digits"] for t in (sale.response or {})["tokens"] if t["kind"] == "credit")
    sms = paying.sent_sms()
    assert [m.to for m in sms] == ["+255700000042"]  # the customer's phone
    assert f"Token {digits}" in sms[0].text
    # the gateway took it: marked sent (on PostgreSQL within moments, with others), so
    # the resend job skips it and the SMS log says sent
    assert _outbox_body(engine, f"mpesa-{txn.trans_id}") == {
        "reply": sms[0].text,
        "sent": True,
        "status": "replied",
    }
    again = callback(client, txn)  # the provider's retry of a delivered callback
    assert again.json()["ResultCode"] == 0
    assert counts(engine) == {"sales": 1, "payments": 1}
    assert len(paying.sent_sms()) == 1
    assert ledger_balanced(engine)
    if engine.dialect.name == "postgresql":  # the common case never left the event loop
        stats = paying.app.state.sale_pool.stats
        assert (stats["payment:fast"], stats["payment:duplicate"]) == (1, 1)


def test_money_beyond_the_last_tenth_of_a_m3_goes_to_the_wallet(
    client: TestClient, paying: Paying, engine: Engine
) -> None:
    """30.07 at 1.50 per m³ buys 20 m³ for 30.00; the 0.07 that buys nothing is the
    customer's, in the wallet, and the SMS says so."""
    txn = paying.pay(paying.shop.pans[0], "30.07")
    assert callback(client, txn).json()["ResultCode"] == 0
    pay = _payment(engine, txn.trans_id)
    assert (pay.state, pay.detail) == (PaymentState.SOLD.value, "sold, change 7")
    with make_sessionmaker(engine)() as s:
        sale = s.get(Sale, pay.sale_id)
        assert sale is not None
        assert sale.amount_paid == 3_000
    assert _balance(engine, paying.shop.customer_id) == 7
    (sms,) = paying.sent_sms()
    assert sms.text.endswith("Change 0.07 to your wallet")
    assert ledger_balanced(engine)
    if engine.dialect.name == "postgresql":  # change and all, on the event loop
        assert paying.app.state.sale_pool.stats["payment:fast"] == 1


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # the event loop's path
def test_the_change_adds_no_statement_on_the_event_loop(
    client: TestClient, paying: Paying, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between ``BEGIN`` and ``COMMIT`` a payment with change is two statements: the
    report stored with the meter locked, then the sale written with the change into the
    wallet (the one wallet credit, folded in), the sold mark and the SMS."""
    sent: list[str] = []
    fetch = AsyncPgSaleStore._fetch

    async def counted(store: AsyncPgSaleStore, sql: str, params: dict[str, Any]) -> Any:
        sent.append(sql)
        return await fetch(store, sql, params)

    monkeypatch.setattr(AsyncPgSaleStore, "_fetch", counted)
    txn = paying.pay(paying.shop.pans[0], "30.07")
    assert callback(client, txn).json()["ResultCode"] == 0
    assert sent == [fast_sql.RECORD_LOCK, fast_sql.WRITE_SOLD]
    assert _payment(engine, txn.trans_id).detail == "sold, change 7"
    assert _balance(engine, paying.shop.customer_id) == 7
    assert paying.app.state.sale_pool.stats["payment:fast"] == 1


def test_a_customer_account_reference_tops_up_the_wallet(
    client: TestClient, paying: Paying, engine: Engine
) -> None:
    txn = paying.pay(f"C{paying.shop.customer_id}", "12.50")
    assert callback(client, txn).json()["ResultCode"] == 0
    assert _payment(engine, txn.trans_id).state == PaymentState.TOPPED_UP.value
    assert _balance(engine, paying.shop.customer_id) == 1_250
    assert "12.50" in paying.sent_sms()[0].text
    assert counts(engine)["sales"] == 0
    assert ledger_balanced(engine)


def test_below_the_minimum_sale_tops_up_the_wallet_and_says_so(
    client: TestClient, paying: Paying, engine: Engine
) -> None:
    """0.10 buys less than 0.1 m³ at 1.50 per m³: no sale, the money goes to the wallet."""
    txn = paying.pay(paying.shop.pans[1], "0.10")
    assert callback(client, txn).json()["ResultCode"] == 0
    pay = _payment(engine, txn.trans_id)
    assert pay.state == PaymentState.TOPPED_UP.value
    assert "0.1 m³" in pay.detail
    assert _balance(engine, paying.shop.customer_id) == 10
    (sms,) = paying.sent_sms()
    assert "could not sell gas" in sms.text
    assert "wallet now holds 0.10" in sms.text
    assert counts(engine)["sales"] == 0
    assert ledger_balanced(engine)
    if engine.dialect.name == "postgresql":  # refused on the event loop, redone in full
        assert paying.app.state.sale_pool.stats["payment:deferred"] == 1


def test_a_forged_callback_moves_nothing_and_is_logged(
    client: TestClient, paying: Paying, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """Right secret, but a transaction the provider never made, or another amount."""
    real = paying.pay(paying.shop.pans[0], "5.00")
    caplog.set_level(logging.WARNING, logger="stsgas.payments")
    forged = callback(client, real, TransID="FORGED0001")
    assert forged.json()["ResultCode"] != 0
    inflated = callback(client, real, TransAmount="5000.00")
    assert inflated.json()["ResultCode"] != 0
    assert _payment(engine, "FORGED0001").state == PaymentState.REJECTED.value
    assert _payment(engine, real.trans_id).state == PaymentState.REJECTED.value
    assert counts(engine)["sales"] == 0
    assert _balance(engine, paying.shop.customer_id) == 0
    assert paying.sent_sms() == []
    assert sum("nothing moved" in r.getMessage() for r in caplog.records) == 2


def test_an_unauthenticated_callback_is_refused_before_anything_is_stored(
    client: TestClient, paying: Paying, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    txn = paying.pay(paying.shop.pans[0], "5.00")
    caplog.set_level(logging.WARNING, logger="stsgas.payments")
    body = txn.callback_body("600000")
    wrong = client.post("/api/v1/payments/mpesa/confirmation?token=guess", json=body)
    none = client.post("/api/v1/payments/mpesa/confirmation", json=body)
    assert (wrong.status_code, none.status_code) == (401, 401)
    assert wrong.json()["code"] == "not_authenticated"
    assert counts(engine) == {"sales": 0, "payments": 0}
    assert any("refused" in r.getMessage() for r in caplog.records)


def test_an_address_off_the_allow_list_is_refused(
    client: TestClient, paying: Paying, engine: Engine
) -> None:
    setup_app(paying.app, paying.sim_url, allowed_ips="10.9.9.9")
    txn = paying.pay(paying.shop.pans[0], "5.00")
    assert callback(client, txn).status_code == 401
    assert counts(engine)["payments"] == 0


def test_a_body_that_is_no_payment_report_is_422(client: TestClient, paying: Paying) -> None:
    r = client.post(CONFIRM, json={"TransID": "X1", "TransAmount": "1.5e3"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_input")
    assert client.post(CONFIRM, json=["not", "an", "object"]).status_code == 422


def test_provider_unreachable_answers_503_then_the_retry_applies(
    client: TestClient, paying: Paying, engine: Engine, admin_token: str
) -> None:
    txn = paying.pay(paying.shop.pans[0], "15.00")
    setup_app(paying.app, "http://127.0.0.1:9")  # nothing listens there
    down = callback(client, txn)
    assert (down.status_code, down.json()["code"]) == (503, "retry_later")
    assert _payment(engine, txn.trans_id).state == PaymentState.RECEIVED.value
    listed = client.get("/api/v1/payments/reconciliation", headers=auth(admin_token)).json()
    assert [p["txn_id"] for p in listed["payments_without_sale"]] == [txn.trans_id]
    setup_app(paying.app, paying.sim_url)
    assert callback(client, txn).json()["ResultCode"] == 0
    assert _payment(engine, txn.trans_id).state == PaymentState.SOLD.value
    listed = client.get("/api/v1/payments/reconciliation", headers=auth(admin_token)).json()
    assert listed == {"payments_without_sale": [], "sales_without_payment": [], "refunds_owed": []}


def test_a_reference_naming_nothing_waits_in_the_reconciliation(
    client: TestClient, paying: Paying, engine: Engine, admin_token: str
) -> None:
    txn = paying.pay("nobody-here", "9.00")
    assert callback(client, txn).json()["ResultCode"] == 0
    pay = _payment(engine, txn.trans_id)
    assert (pay.state, pay.verified_at is not None) == (PaymentState.RECEIVED.value, True)
    listed = client.get("/api/v1/payments/reconciliation", headers=auth(admin_token)).json()
    assert [p["txn_id"] for p in listed["payments_without_sale"]] == [txn.trans_id]
    assert counts(engine)["sales"] == 0


def test_a_stopping_server_writes_the_sent_marks_it_holds(paying: Paying, engine: Engine) -> None:
    """Marks of SMS the gateway took are written in batches on PostgreSQL; a server
    that stops cleanly writes what it holds, so no SMS is left looking unsent."""
    txns = [paying.pay(paying.shop.pans[i % 2], "15.00") for i in range(3)]
    with TestClient(paying.app) as c:
        for txn in txns:
            assert callback(c, txn).json()["ResultCode"] == 0
    with make_sessionmaker(engine)() as s:
        bodies = s.execute(
            select(IdempotencyRecord.response_body).where(
                IdempotencyRecord.key.in_([f"mpesa-{t.trans_id}" for t in txns])
            )
        ).scalars()
        assert [b["sent"] for b in bodies] == [True] * 3


def test_a_busy_database_answers_503_so_the_provider_retries(
    client: TestClient, paying: Paying, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every database connection busy (a burst of callbacks): a problem+json 503 with
    Retry-After, never a 500, and nothing moved; the provider's retry then applies it."""
    txn = paying.pay(paying.shop.pans[0], "15.00")
    real = payments_endpoints._handle

    async def busy(*_args: Any) -> Any:
        raise RetryLater("every database connection is busy; retry the request", retry_after=1)

    monkeypatch.setattr(payments_endpoints, "_handle", busy)
    r = callback(client, txn)
    assert (r.status_code, r.json()["code"]) == (503, "retry_later")
    assert r.headers["retry-after"] == "1"
    assert counts(engine)["sales"] == 0
    monkeypatch.setattr(payments_endpoints, "_handle", real)
    assert callback(client, txn).json()["ResultCode"] == 0
    assert counts(engine) == {"sales": 1, "payments": 1}
