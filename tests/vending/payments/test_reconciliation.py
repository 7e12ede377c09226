"""Reconciliation: the API, the console page and the CLI show both kinds of orphan."""

from __future__ import annotations

import json
import warnings

import pytest
from sqlalchemy import Engine, delete

from stsgas.cli import main
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Payment
from tests.vending.payments.conftest import Paying, callback
from tests.vending.web.conftest import sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_orphans_on_the_page_and_in_the_cli(
    client: TestClient,
    paying: Paying,
    engine: Engine,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["payments", "reconcile", "--database", db_url]) == 0
    capsys.readouterr()
    lost = paying.pay("nobody-here", "9.00")
    sold = paying.pay(paying.shop.pans[0], "15.00")
    for txn in (lost, sold):
        assert callback(client, txn).json()["ResultCode"] == 0
    with make_sessionmaker(engine).begin() as s:  # a sale whose payment went missing
        s.execute(delete(Payment).where(Payment.txn_id == sold.trans_id))
    sign_in(client, "walletadmin")
    page = client.get("/console/payments")
    assert page.status_code == 200
    assert lost.trans_id in page.text
    assert "no meter and no customer" in page.text
    assert 'href="/console/sales/1"' in page.text
    assert main(["payments", "reconcile", "--database", db_url]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [p["txn_id"] for p in doc["payments_without_sale"]] == [lost.trans_id]
    assert [s["amount_paid"] for s in doc["sales_without_payment"]] == [1_500]


def test_a_supervisor_reconciles_too_and_the_menu_links_the_page(
    client: TestClient, paying: Paying
) -> None:
    sign_in(client, "walletseller")
    page = client.get("/console/payments")
    assert page.status_code == 200
    assert 'href="/console/payments"' in page.text
