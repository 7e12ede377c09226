"""Reports: daily totals by channel and vendor, meter history, reconciliation, CSV."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select, update

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import LedgerEntry, Meter, Sale, Token
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop
from tests.vending.sales.test_service import sell


def test_daily_history_and_reconciliation(
    client: TestClient, shop: Shop, auditor_token: str
) -> None:
    """Totals add up per channel/vendor, history lists each token, reconciliation is ok."""
    paid = Decimal(0)
    for amount in ("10", "5.50"):
        r = sell(client, shop.cashier_token, shop.volume_pan, amount)
        assert r.status_code == 201
        paid += Decimal(r.json()["amount_paid"])  # what was tendered less the change
    assert paid == Decimal("15.26")
    daily = client.get("/api/v1/reports/daily", headers=auth(auditor_token)).json()
    assert daily[0]["channel"] == "pos"
    assert daily[0]["vendor_id"] == shop.vendor_id
    assert daily[0]["sales"] == 2
    assert daily[0]["amount_paid"] == str(paid)
    hist = client.get(
        f"/api/v1/reports/meters/{shop.volume_pan}/history", headers=auth(auditor_token)
    ).json()
    assert [h["kind"] for h in hist] == ["credit", "credit"]
    rec = client.get("/api/v1/reports/reconciliation", headers=auth(auditor_token)).json()
    assert rec["ok"] is True
    assert rec["ledger_debits"] == rec["ledger_credits"] == str(paid)
    assert rec["credit_tokens"] == 2
    csv = client.get("/api/v1/reports/daily?format=csv", headers=auth(auditor_token))
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("date,channel,vendor_id")
    assert len(csv.text.splitlines()) == 2


def test_reconciliation_finds_a_tampered_ledger(
    client: TestClient, shop: Shop, auditor_token: str, engine: Engine
) -> None:
    """A ledger line changed behind the service's back makes reconciliation fail."""
    sale = sell(client, shop.cashier_token, shop.volume_pan, "10").json()
    with make_sessionmaker(engine).begin() as s:
        s.execute(update(LedgerEntry).where(LedgerEntry.debit > 0).values(debit=999))
    rec = client.get("/api/v1/reports/reconciliation", headers=auth(auditor_token)).json()
    assert rec["ok"] is False
    assert rec["sales_with_wrong_journal"] == [sale["sale_id"]]


@pytest.mark.parametrize("tamper", ["amount", "token", "delete_last", "delete_middle"])
def test_reconciliation_finds_a_tampered_sale(
    client: TestClient, shop: Shop, auditor_token: str, engine: Engine, tamper: str
) -> None:
    """Each meter's sales form a hash chain: an amount or token digits changed, or a
    sale deleted (the latest one too), names the meter; untouched meters are fine."""
    sales = [sell(client, shop.cashier_token, shop.volume_pan, a).json() for a in ("3", "4", "5")]
    sell(client, shop.cashier_token, shop.amount_pan, "6")
    rec = client.get("/api/v1/reports/reconciliation", headers=auth(auditor_token)).json()
    assert rec["meters_with_broken_sales_chain"] == []
    with make_sessionmaker(engine).begin() as s:
        meter_id = s.execute(select(Meter.id).where(Meter.pan == shop.volume_pan)).scalar_one()
        if tamper == "amount":
            s.execute(
                update(Sale)
                .where(Sale.id == sales[1]["sale_id"])
                .values(credit_units=Sale.credit_units + 10)
            )
        elif tamper == "token":
            s.execute(
                update(Token).where(Token.sale_id == sales[0]["sale_id"]).values(digits="0" * 20)
            )
        else:
            victim = sales[2 if tamper == "delete_last" else 1]["sale_id"]
            s.execute(delete(LedgerEntry).where(LedgerEntry.sale_id == victim))
            s.execute(delete(Token).where(Token.sale_id == victim))
            s.execute(delete(Sale).where(Sale.id == victim))
    rec = client.get("/api/v1/reports/reconciliation", headers=auth(auditor_token)).json()
    assert rec["ok"] is False
    assert rec["meters_with_broken_sales_chain"] == [meter_id]


def test_cashier_cannot_read_reports(client: TestClient, shop: Shop) -> None:
    """Reports are for supervisors, admins and auditors."""
    r = client.get("/api/v1/reports/reconciliation", headers=auth(shop.cashier_token))
    assert r.status_code == 403


def test_daily_volume_is_exact_however_large(
    client: TestClient, shop: Shop, auditor_token: str, engine: Engine
) -> None:
    """The day's m³ is summed and shown exactly (a Decimal of 0.1 m³ units), never
    through a float that would round a large total."""
    r = sell(client, shop.cashier_token, shop.volume_pan, "10")
    assert r.status_code == 201
    with make_sessionmaker(engine).begin() as s:
        s.execute(update(Sale).values(credit_units=10**16 + 3))
    daily = client.get("/api/v1/reports/daily", headers=auth(auditor_token)).json()
    assert daily[0]["units_credited"] == "1000000000000000.3"
