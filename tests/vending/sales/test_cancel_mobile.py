"""Cancelling a sale paid by mobile money (issue 14), on both databases, through the
real M-Pesa webhook and simulator: the payer's money goes into the customer's wallet
(double entry from the mobile-money clearing account, the wallet row beside its ledger
account), the answer says where it went, the books stay clean, and a second cancel
moves nothing. A sale for a meter without a customer says the refund is owed to the
payer."""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.jobs import work
from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import (
    Account,
    LedgerEntry,
    Operator,
    PaidFrom,
    Payment,
    Role,
    Sale,
    SaleStatus,
    Wallet,
)
from stsgas.vending.wallet import repository as wallets
from stsgas.vending.wallet import service as wallet
from tests.vending.conftest import auth
from tests.vending.payments.conftest import Paying, callback, cancel
from tests.vending.payments.conftest import client as client  # the webhook's fixtures
from tests.vending.payments.conftest import paying as paying
from tests.vending.payments.conftest import simulator as simulator
from tests.vending.wallet.conftest import ledger_balanced
from tests.vending.web.conftest import sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def supervisor(make_operator: Callable[..., tuple[Operator, str]]) -> str:
    """A supervisor of no vendor (mobile-money sales belong to no vendor): may cancel."""
    return make_operator(Role.SUPERVISOR, username="refunder")[1]


def _sold_by_mobile(client: TestClient, paying: Paying, engine: Engine, amount: str) -> Sale:
    """A payment for the customer's first meter, confirmed through the webhook: its sale."""
    txn = paying.pay(paying.shop.pans[0], amount)
    r = callback(client, txn)
    assert r.status_code == 200, r.text
    with make_sessionmaker(engine)() as s:
        sale_id = s.execute(
            select(Payment.sale_id).where(Payment.txn_id == txn.trans_id)
        ).scalar_one()
        sale = s.get(Sale, sale_id)
        assert sale is not None
        assert sale.paid_from == PaidFrom.MOBILE.value
        s.expunge(sale)
    return sale


def _net(engine: Engine, code: str) -> int:
    """An account's debits minus credits (0 when it has no lines)."""
    with make_sessionmaker(engine)() as s:
        value = s.execute(
            select(func.coalesce(func.sum(LedgerEntry.debit - LedgerEntry.credit), 0))
            .join(Account, Account.id == LedgerEntry.account_id)
            .where(Account.code == code)
        ).scalar_one()
        return int(value)


def _books(engine: Engine) -> tuple[int, int]:
    """Ledger lines and wallet balance total: what a second cancel must not move."""
    with make_sessionmaker(engine)() as s:
        lines = s.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
        held = s.execute(select(func.coalesce(func.sum(Wallet.balance), 0))).scalar_one()
        return int(lines), int(held)


def _check(engine: Engine) -> dict[str, Any]:
    """What ``stsgas check`` reports."""
    with make_sessionmaker(engine)() as s:
        return work.integrity_report(s)


def test_a_cancelled_mobile_money_sale_pays_the_customers_wallet_once(
    client: TestClient, paying: Paying, engine: Engine, supervisor: str
) -> None:
    customer = paying.shop.customer_id
    sale = _sold_by_mobile(client, paying, engine, "30.00")
    with make_sessionmaker(engine)() as s:
        before = wallet.balance_of(s, customer)
    clearing_before = _net(engine, ledger.MOBILE_CLEARING)
    r = cancel(client, supervisor, sale.id)
    assert r.status_code == 200, r.text
    body = r.json()
    refunded = body["refunded"]
    assert int(refunded.replace(".", "")) == sale.amount_paid
    with make_sessionmaker(engine)() as s:
        assert wallet.balance_of(s, customer) == before + sale.amount_paid
        assert wallets.off_ledger(s) == []  # the wallet row equals its ledger account
        got = s.get(Sale, sale.id)
        assert got is not None
        assert got.status == SaleStatus.CANCELLED.value
    # the money is still at the provider: what it holds is now owed to the wallet
    assert _net(engine, ledger.MOBILE_CLEARING) == clearing_before
    assert _net(engine, ledger.wallet_account(customer)) == -(before + sale.amount_paid)
    assert body["refunded_to"] == "wallet"
    assert f"{refunded} went into the customer's wallet" in body["refund_note"]
    assert ledger_balanced(engine)
    report = _check(engine)
    assert report["ok"] is True, report
    books = _books(engine)
    again = cancel(client, supervisor, sale.id)
    assert again.status_code == 409
    assert again.json()["code"] == "sale_cancelled"
    assert _books(engine) == books
    with make_sessionmaker(engine)() as s:
        assert wallet.balance_of(s, customer) == before + sale.amount_paid


def test_a_customerless_sale_says_the_refund_is_owed_to_the_payer(
    client: TestClient, paying: Paying, engine: Engine, supervisor: str
) -> None:
    """The meter had no customer when it was sold: no wallet to pay, so the answer
    says the payer is owed the money; the books stay balanced and checked."""
    sale = _sold_by_mobile(client, paying, engine, "20.00")
    with make_sessionmaker(engine).begin() as s:  # as if the meter had no customer
        s.execute(update(Sale).where(Sale.id == sale.id).values(customer_id=None))
    books = _books(engine)
    r = cancel(client, supervisor, sale.id)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["refunded_to"] == "payer"
    assert "owed to the payer" in body["refund_note"]
    _lines, held = _books(engine)
    assert held == books[1]  # no wallet moved
    assert ledger_balanced(engine)
    assert _check(engine)["ok"] is True


def test_an_approved_take_back_of_a_mobile_money_sale_pays_the_wallet_once(
    client: TestClient,
    paying: Paying,
    engine: Engine,
    supervisor: str,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """The token was entered: one supervisor asks (nothing moves), a second approves;
    then, and once, the price goes into the customer's wallet."""
    approver = make_operator(Role.SUPERVISOR, username="approver")[1]
    customer = paying.shop.customer_id
    sale = _sold_by_mobile(client, paying, engine, "30.00")
    with make_sessionmaker(engine)() as s:
        before = wallet.balance_of(s, customer)
    asked = cancel(
        client,
        supervisor,
        sale.id,
        reason="entered on the wrong meter",
        token_used=True,
        meter_credit="50",
    )
    assert asked.status_code == 202, asked.text
    request_id = asked.json()["request"]["id"]
    with make_sessionmaker(engine)() as s:
        assert wallet.balance_of(s, customer) == before  # nothing moved on asking
    url = f"/api/v1/management/requests/{request_id}/approve"
    done = client.post(url, headers=auth(approver))
    assert done.status_code == 200, done.text
    assert done.json()["refunded_to"] == "wallet"
    assert "30.00 went into the customer's wallet" in done.json()["refund_note"]
    with make_sessionmaker(engine)() as s:
        assert wallet.balance_of(s, customer) == before + sale.amount_paid
        assert wallets.off_ledger(s) == []
    assert ledger_balanced(engine)
    assert _check(engine)["ok"] is True
    books = _books(engine)
    again = client.post(url, headers=auth(approver))  # a double click: answers, moves nothing
    assert again.status_code < 500, again.text
    assert _books(engine) == books


def test_the_console_says_where_a_cancelled_mobile_money_sale_went(
    client: TestClient, paying: Paying, engine: Engine, supervisor: str
) -> None:
    """The console's void says the money went into the customer's wallet, not (as for a
    cashier's sale) back to a vendor's float."""
    sale = _sold_by_mobile(client, paying, engine, "30.00")
    csrf = sign_in(client, "refunder")
    previewed = client.post(
        f"/console/sales/{sale.id}/cancel/preview",
        data={"reason": "paid for the wrong meter", "token_used": "", "csrf": csrf},
    )
    assert previewed.status_code == 200, previewed.text
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', previewed.text))
    done = client.post(f"/console/sales/{sale.id}/cancel", data=form)
    assert done.status_code == 200, done.text
    text = html.unescape(done.text)
    assert f"Sale #{sale.id} cancelled; 30.00 went into the customer's wallet." in text
    assert "refunded to the float" not in text
