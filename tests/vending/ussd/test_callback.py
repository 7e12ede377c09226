"""The USSD callback end to end: the registered phone buys once per session, sees its
balance and last tokens, within the SMS channel's budgets; strangers get nothing."""

from __future__ import annotations

import logging
import warnings
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from stsgas.sts import CreditToken, decode, group_digits
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.kit.money import to_major
from stsgas.vending.models import Meter, Sale
from tests.vending import factories
from tests.vending.sales.conftest import Shop, all_sales, meter_config
from tests.vending.ussd.conftest import OWNER, WALLET, dial, fund_owner

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_gateway_must_authenticate(ussd_client: TestClient, engine: Engine) -> None:
    """No or a wrong shared secret: 401 problem+json, nothing recorded or sold."""
    data = {"sessionId": "s", "phoneNumber": OWNER, "text": "2*20*1"}
    for headers in ({}, {"X-Gateway-Token": "guess"}):
        r = ussd_client.post("/api/v1/ussd/callback", data=data, headers=headers)
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "not_authenticated"
    assert all_sales(engine) == []


def test_missing_fields_are_refused(ussd_client: TestClient) -> None:
    r = dial(ussd_client, "", "")
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_input"
    r = dial(ussd_client, "s" * 65, "")
    assert r.status_code == 422


def test_unregistered_phone_ends_at_once(ussd_client: TestClient, engine: Engine) -> None:
    r = dial(ussd_client, "u-1", "2*20*1", phone="+255799999999")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text == "END This phone is not registered for gas prepaid."
    assert all_sales(engine) == []


def test_buy_walk_sells_once_and_the_token_decodes(
    ussd_client: TestClient,
    shop: Shop,
    engine: Engine,
    security_module: SoftwareSecurityModule,
) -> None:
    """Menu → buy → amount → confirm: one sale; the shown token decodes to the credit;
    the gateway repeating the confirm step answers the same and sells nothing more."""
    assert dial(ussd_client, "b-1", "").text.startswith("CON Gas prepaid\n1 Balance")
    assert "Enter amount" in dial(ussd_client, "b-1", "2").text
    confirm = dial(ussd_client, "b-1", "2*20").text
    assert confirm.startswith("CON Buy gas for 20.00 on meter ..")
    done = dial(ussd_client, "b-1", "2*20*1").text
    assert done.startswith("END Meter ..")
    sales = all_sales(engine)
    assert len(sales) == 1
    receipt = sales[0].response or {}
    assert sales[0].channel == "ussd"
    assert sales[0].idempotency_key == "ussd-b-1"
    digits = next(t["digits"] for t in receipt["tokens"] if t["kind"] == "credit")
    assert f"Token {group_digits(digits)}" in done
    assert f"paid {receipt['amount_paid']}" in done
    with make_sessionmaker(engine)() as s:
        token = decode(digits, meter_config(s, security_module, shop.volume_pan).key())
    assert isinstance(token, CreditToken)
    assert Decimal(token.units).scaleb(-1) == Decimal(receipt["units_credited"])
    assert dial(ussd_client, "b-1", "2*20*1").text == done
    assert len(all_sales(engine)) == 1


def test_balance_and_last_tokens(ussd_client: TestClient, engine: Engine) -> None:
    """Before a purchase: none; after two: the last purchase and both tokens, newest first."""
    assert dial(ussd_client, "l-1", "1").text == "END Wallet balance 1000.00\nNo purchase yet."
    assert "no tokens yet" in dial(ussd_client, "l-2", "3").text
    dial(ussd_client, "l-3", "2*15*1")
    dial(ussd_client, "l-4", "2*25*1")
    sales = all_sales(engine)
    balance = dial(ussd_client, "l-5", "1").text
    left = to_major(WALLET - sum(sale.amount_paid for sale in sales), 2)
    assert balance.startswith(f"END Wallet balance {left}\n")
    assert f"paid {(sales[1].response or {})['amount_paid']}" in balance
    tokens = dial(ussd_client, "l-6", "3").text
    shown = [
        group_digits(t["digits"])
        for sale in reversed(sales)
        for t in (sale.response or {})["tokens"]
        if t["kind"] == "credit"
    ]
    assert tokens.index(shown[0]) < tokens.index(shown[1])


def test_several_meters_are_chosen_from(
    ussd_client: TestClient, engine: Engine, security_module: SoftwareSecurityModule
) -> None:
    """A second customer with the same phone (spelt differently) adds a meter to choose."""
    with make_sessionmaker(engine).begin() as s:
        sg = factories.supply_group(s, security_module, sgc="123457")
        cust = factories.customer(s, name="Ada Two", phone="255 700 000-001")
        tariff = s.execute(select(Meter.tariff_id).where(Meter.tariff_id.is_not(None))).scalar()
        second = factories.meter(s, sg, customer=cust)
        second.tariff_id = tariff
        pan = second.pan
    fund_owner(engine, pan, 10_000)
    choose = dial(ussd_client, "m-1", "2").text
    assert choose.startswith("CON Choose meter\n1 Meter ..")
    assert f"2 Meter ..{pan[-4:]}" in choose
    assert dial(ussd_client, "m-1", "2*3").text.startswith("CON Unknown meter choice.")
    done = dial(ussd_client, "m-1", "2*3*2*10*1").text
    assert done.startswith(f"END Meter ..{pan[-4:]}")
    with make_sessionmaker(engine)() as s:
        sold_to = s.execute(select(Meter.pan).join(Sale, Sale.meter_id == Meter.id)).scalar_one()
    assert sold_to == pan


def test_bad_inputs_sell_nothing(ussd_client: TestClient, engine: Engine) -> None:
    for text in ("2*0", "2*-5", "2*abc", "2*5.001", "2*20*3", "2*20*2"):
        answer = dial(ussd_client, f"bad-{text}", text).text
        assert answer.startswith(("CON Invalid", "END Cancelled")), answer
    assert all_sales(engine) == []


def test_sessions_over_the_phones_budget_end(ussd_client: TestClient) -> None:
    """Six sessions per window (the SMS per-phone limit); steps of one session count once."""
    for i in range(6):
        for text in ("", "1"):
            assert not dial(ussd_client, f"r-{i}", text).text.startswith("END Too many")
    assert dial(ussd_client, "r-6", "").text.startswith("END Too many requests")
    assert dial(ussd_client, "r-0", "3").text.startswith("END")  # an admitted one goes on


def test_purchases_share_the_meters_budget(ussd_client: TestClient, engine: Engine) -> None:
    """Three purchases per meter per window; the fourth is refused without a sale."""
    for i in range(3):
        assert dial(ussd_client, f"p-{i}", "2*5*1").text.startswith("END Meter")
    refused = dial(ussd_client, "p-3", "2*5*1").text
    assert refused.startswith("END Not done: too many purchases")
    assert len(all_sales(engine)) == 3
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(Sale)).scalar_one() == 3


def test_session_log_masks_phones(ussd_client: TestClient, admin_token: str) -> None:
    dial(ussd_client, "log-1", "")
    dial(ussd_client, "log-1", "2*20*1")
    r = ussd_client.get("/api/v1/ussd/sessions", headers={"Authorization": f"Bearer {admin_token}"})
    assert r.status_code == 200
    [row] = r.json()
    assert row["phone"] == "*********001"
    assert row["session_id"] == "log-1"
    assert row["status"] == "bought"
    assert row["steps"] == 3
    assert "700000" not in r.text


def test_logs_mask_the_phone(
    ussd_client: TestClient, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """What the channel logs about a caller names the phone by its last three digits only."""
    with caplog.at_level(logging.INFO, logger="stsgas.vending"):
        dial(ussd_client, "g-1", "2*20*1")
    mine = [r for r in caplog.records if r.name == "stsgas.vending.ussd"]
    assert [r.getMessage() for r in mine] == ["USSD purchase"]
    assert getattr(mine[0], "phone", None) == "*********001"
    for record in caplog.records:
        assert "700000001" not in f"{record.getMessage()} {record.__dict__}"
