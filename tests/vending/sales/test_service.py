"""Sales through the API: receipts, tokens that decode to the sale, idempotency, bad input."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from stsgas.sts import CreditToken, CurrencyCreditToken, decode
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.ledger.repository import LedgerRepository
from stsgas.vending.models import Operator, Role, Sale, Token, Vendor
from stsgas.vending.sales import service
from stsgas.vending.sales.request import SaleRequest
from stsgas.vending.settings import Settings
from tests.problems import problem
from tests.vending.conftest import auth, client_with
from tests.vending.sales.conftest import Shop, counts, meter_config


def sell(client: TestClient, token: str, pan: str, amount: Any, key: str | None = None) -> Any:
    """POST a sale."""
    headers = auth(token)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(
        "/api/v1/sales",
        json={"meter_number": pan, "amount": amount, "channel": "pos"},
        headers=headers,
    )


def refused(
    client: TestClient,
    token: str,
    pan: str,
    amount: Any,
    engine: Engine,
    status: int,
    code: str,
    key: str | None = None,
) -> dict[str, Any]:
    """A sale that must be refused with ``status`` and ``code`` (problem+json) and write
    nothing; its problem body."""
    before = counts(engine)
    body = problem(sell(client, token, pan, amount, key), status, code)
    assert counts(engine) == before
    return body


def test_volume_sale_is_itemised_and_decodes(
    client: TestClient, shop: Shop, engine: Engine, security_module: SoftwareSecurityModule
) -> None:
    """A volume sale itemises fixed charge, debt, tax and steps; its token decodes to the units."""
    r = sell(client, shop.cashier_token, shop.volume_pan, "25.00")
    assert r.status_code == 201, r.text
    body = r.json()
    paid = Decimal(body["amount_paid"])
    parts = sum(
        Decimal(body[k]) for k in ("fixed_charge", "debt_recovered", "tax", "energy_amount")
    )
    assert paid == parts
    assert paid + Decimal(body["change"]) == Decimal(body["amount_tendered"]) == Decimal("25")
    assert body["fixed_charge"] == "1.00"
    assert body["debt_recovered"] == "2.40"  # 10 % of 24.00, debt 50.00
    assert body["tariff_steps"]
    assert body["tariff_steps"][0]["price_per_m3"] == 150
    assert len(body["token"]) == 24
    assert body["token"].count(" ") == 4
    with make_sessionmaker(engine)() as s:
        cfg = meter_config(s, security_module, shop.volume_pan)
    tok = decode(body["tokens"][-1]["digits"], cfg.key())
    assert isinstance(tok, CreditToken)
    assert tok.tid == body["tid"]
    assert Decimal(tok.units) / 10 == Decimal(body["units_credited"])


def test_amount_sale_credits_money(
    client: TestClient, shop: Shop, engine: Engine, security_module: SoftwareSecurityModule
) -> None:
    """A by-amount sale credits the money after tax as a currency token."""
    r = sell(client, shop.cashier_token, shop.amount_pan, "11.50")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["energy_amount"] == "10.00"
    assert body["tax"] == "1.50"
    with make_sessionmaker(engine)() as s:
        cfg = meter_config(s, security_module, shop.amount_pan)
    tok = decode(body["tokens"][-1]["digits"], cfg.key())
    assert isinstance(tok, CurrencyCreditToken)
    # shown to the currency's decimals: the token's 10^-5 digits rounded down
    assert body["money_credited"] == "10.00"
    assert tok.amount // 1000 == 1000
    assert 10 * 100_000 <= tok.amount <= 10 * 100_000 * 1.0001  # rounded up, never short


def test_tids_increase_within_one_minute(client: TestClient, shop: Shop) -> None:
    """Several sales to one meter in one minute take the next free minutes."""
    tids = [sell(client, shop.cashier_token, shop.volume_pan, "5").json()["tid"] for _ in range(4)]
    assert tids == sorted(set(tids))
    assert tids[-1] - tids[0] == 3


def test_idempotent_replay_charges_once(client: TestClient, shop: Shop, engine: Engine) -> None:
    """The same key and request return the same sale and token; the float is drawn once."""
    first = sell(client, shop.cashier_token, shop.volume_pan, "10", key="k-1")
    before = counts(engine)
    again = sell(client, shop.cashier_token, shop.volume_pan, "10", key="k-1")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert counts(engine) == before


#: receipt fields added after the first sales were stored
NEWER = ("amount_tendered", "change", "fixed_charge_period", "fixed_charge_rate")


@pytest.mark.parametrize("fast", [True, False], ids=["fast-on", "fast-off"])
def test_a_replay_answers_the_body_its_sale_keeps(
    fast: bool,
    settings: Settings,
    engine: Engine,
    shop: Shop,
    security_module: SoftwareSecurityModule,
) -> None:
    """A replay answers the stored body as it is, not the typed receipt rendered again:
    a body stored before the receipt itemised change comes back without those fields,
    on the route and on the event loop, and the service still reads it typed."""
    with client_with(settings, engine, security_module, fast_sales=fast) as client:
        first = sell(client, shop.cashier_token, shop.volume_pan, "10", key="k-old")
        assert first.status_code == 201, first.text
        old = {k: v for k, v in first.json().items() if k not in NEWER}
        with make_sessionmaker(engine).begin() as s:
            stored = s.get(Sale, old["sale_id"])
            assert stored is not None
            stored.response = old
        again = sell(client, shop.cashier_token, shop.volume_pan, "10", key="k-old")
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == old
    with make_sessionmaker(engine)() as s:
        cashier = s.get(Operator, shop.cashier_id)
        assert cashier is not None
        req = SaleRequest(
            meter_number=shop.volume_pan, paid=1_000, channel="pos", idempotency_key="k-old"
        )
        done = service.sell(s, req, operator=cashier, security=security_module)
    assert (done.replayed, done.body) == (True, old)
    receipt = done.receipt
    assert (receipt.sale_id, receipt.amount_paid) == (old["sale_id"], Decimal(old["amount_paid"]))
    assert (receipt.amount_tendered, receipt.change) == (receipt.amount_paid, Decimal("0.00"))


def test_reused_key_with_other_data_is_refused(
    client: TestClient, shop: Shop, engine: Engine
) -> None:
    """The same key with another amount is a 422 and writes nothing."""
    sell(client, shop.cashier_token, shop.volume_pan, "10", key="k-2")
    refused(
        client,
        shop.cashier_token,
        shop.volume_pan,
        "11",
        engine,
        422,
        "idempotency_mismatch",
        "k-2",
    )


BAD = [
    ("volume", "-5", 422, "bad_amount"),
    ("volume", "0", 422, "bad_amount"),
    ("volume", "1.234", 422, "bad_amount"),
    ("volume", "abc", 422, "bad_amount"),
    ("volume", "20000000", 422, "bad_amount"),
    ("volume", "0.50", 422, "bad_amount"),  # does not cover the fixed charge
    ("volume", "9999999", 422, "bad_amount"),  # about 3.3 million m³: above the token range
    ("blocked", "10", 409, "meter_not_active"),
    ("unknown", "10", 404, "meter_not_found"),
    ("garbage", "10", 422, "bad_meter_number"),
    ("typo", "10", 422, "bad_meter_number"),
    ("foreign-digits", "10", 422, "bad_meter_number"),
    ("volume", "10001", 409, "insufficient_float"),
]


@pytest.mark.parametrize(("which", "amount", "status", "code"), BAD)
def test_bad_input_writes_nothing(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    which: str,
    amount: str,
    status: int,
    code: str,
) -> None:
    """Each bad request is a problem+json with a stable code and leaves every table as it was."""
    pan = {
        "volume": shop.volume_pan,
        "amount": shop.amount_pan,
        "blocked": shop.blocked_pan,
        "unknown": "600727000000000009",
        "garbage": "12ab",
        "typo": "600727000000000008",  # the check digit of ...0000 is 9
        "foreign-digits": "\u0666\u0660\u0660\u0667\u0662\u0667" + "\u0660" * 11 + "\u0669",
    }[which]
    refused(client, shop.cashier_token, pan, amount, engine, status, code)


def test_ledger_balances_and_every_sale_has_its_tokens(
    client: TestClient, shop: Shop, engine: Engine
) -> None:
    """After sales, debits equal credits and each sale has one credit token."""
    charged = 0
    for amount in ("3", "7.25", "12"):
        r = sell(client, shop.cashier_token, shop.volume_pan, amount)
        assert r.status_code == 201
        charged += int(Decimal(r.json()["amount_paid"]) * 100)
    assert 2225 - 3 * 35 < charged < 2225  # each sale's change is less than 0.1 m³ with tax
    with make_sessionmaker(engine)() as s:
        debit, credit = LedgerRepository(s).totals()
        assert debit == credit == charged
        n_sales = s.execute(select(func.count()).select_from(Sale)).scalar_one()
        n_tokens = s.execute(select(func.count()).select_from(Token)).scalar_one()
        assert n_sales == n_tokens == 3


def test_outcome_of_a_lost_answer(client: TestClient, shop: Shop, engine: Engine) -> None:
    """A POS that timed out asks what became of its key: the receipt if the sale
    committed, else 404 sale_not_found (resending the same key is then safe)."""
    headers = auth(shop.cashier_token)
    r = client.get(
        "/api/v1/sales/outcome", params={"key": "lost-1", "channel": "pos"}, headers=headers
    )
    assert r.status_code == 404
    assert r.json()["code"] == "sale_not_found"
    sold = sell(client, shop.cashier_token, shop.amount_pan, "12.50", key="lost-1")
    assert sold.status_code == 201
    r = client.get(
        "/api/v1/sales/outcome", params={"key": "lost-1", "channel": "pos"}, headers=headers
    )
    assert r.status_code == 200
    assert r.json()["token"] == sold.json()["token"]
    assert r.json()["status"] == "completed"
    # the key belongs to its channel: the same key on another channel is another request
    r = client.get(
        "/api/v1/sales/outcome", params={"key": "lost-1", "channel": "sms"}, headers=headers
    )
    assert r.status_code == 404
    before = counts(engine)
    assert (
        client.get("/api/v1/sales/outcome", params={"key": "lost-1"}, headers=headers).status_code
        == 404
    )  # default channel: api
    assert counts(engine) == before


def test_outcome_respects_the_vendor_boundary(
    client: TestClient, shop: Shop, make_operator: Any, engine: Engine
) -> None:
    """Another vendor's cashier cannot learn of a sale by guessing its key."""
    assert sell(client, shop.cashier_token, shop.amount_pan, "5", key="mine").status_code == 201
    with make_sessionmaker(engine).begin() as s:
        other = Vendor(name="Other Kiosk", float_balance=100)
        s.add(other)
        s.flush()
        other_id = other.id
    _op, token = make_operator(Role.CASHIER, username="othercashier", vendor_id=other_id)
    r = client.get(
        "/api/v1/sales/outcome", params={"key": "mine", "channel": "pos"}, headers=auth(token)
    )
    assert r.status_code == 404
