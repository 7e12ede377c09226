"""The SMS webhook end to end: registered phones buy once per message id, within limits."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from stsgas.sts import CreditToken, decode
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.meters.repository import MeterRepository
from stsgas.vending.models import Meter, Operator, PaidFrom, Role, Sale
from stsgas.vending.sms import endpoints as sms
from stsgas.vending.sms.gateway import HttpSmsGateway
from stsgas.vending.sms.settings import SmsSettings
from stsgas.vending.wallet import service as wallet
from tests.vending.sales.conftest import Shop, meter_config, sale_count
from tests.vending.sms.gateway_double import GatewayDouble, running_gateway

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SECRET = "gateway-secret"
OWNER = "+255700000001"  # the phone of the shop's volume-meter customer
HEADERS = {"X-Gateway-Token": SECRET}
#: what the volume meter's customer holds in the wallet BUY spends (minor units)
WALLET = 100_000


def _fund_owner(sm: sessionmaker[Session], pan: str, amount: int) -> None:
    """Pay ``amount`` into the wallet of the meter's customer at the counter."""
    with sm.begin() as s:
        meter = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
        owner = MeterRepository(s).customer_of(meter.id)
        assert owner is not None
        wallet.counter_top_up(s, owner.id, amount, key=f"fund-{pan}", now=datetime.now(UTC))


@pytest.fixture
def gateway() -> Iterator[GatewayDouble]:
    """A real HTTP gateway double on 127.0.0.1."""
    with running_gateway() as gw:
        yield gw


@pytest.fixture
def sms_client(
    app: FastAPI,
    shop: Shop,
    make_operator: Callable[..., tuple[Operator, str]],
    gateway: GatewayDouble,
) -> Iterator[TestClient]:
    """The app with the SMS channel selling as a cashier of the shop's vendor."""
    make_operator(Role.CASHIER, username="sms", vendor_id=shop.vendor_id)
    _fund_owner(app.state.sessionmaker, shop.volume_pan, WALLET)
    settings = SmsSettings(
        inbound_token=SecretStr(SECRET), per_phone_limit=4, per_meter_limit=3, window_minutes=60
    )
    with httpx.Client(timeout=5) as http:
        sms.install(app, settings=settings, gateway=HttpSmsGateway(http, gateway.url))
        with TestClient(app) as client:
            yield client


def _sms(client: TestClient, text: str, mid: str, phone: str = OWNER) -> httpx.Response:
    r: httpx.Response = client.post(
        "/api/v1/sms/inbound",
        headers=HEADERS,
        json={"from": phone, "text": text, "message_id": mid},
    )
    return r


def test_buy_from_registered_phone(
    sms_client: TestClient,
    shop: Shop,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    gateway: GatewayDouble,
) -> None:
    """BUY sells once on channel sms; the replied token decodes to the credited m³."""
    r = _sms(sms_client, f"BUY {shop.volume_pan} 20", "m-1")
    assert r.status_code == 200, r.text
    reply = r.json()["reply"]
    with make_sessionmaker(engine)() as s:
        sale = s.execute(select(Sale)).scalar_one()
        assert sale.channel == "sms"
        assert (sale.paid_from, sale.vendor_id) == (PaidFrom.WALLET.value, None)
        cfg = meter_config(s, security_module, shop.volume_pan)
        receipt: dict[str, Any] = sale.response or {}
    # the wallet pays the credited gas (19.98 of the 20.00 asked; the rest is not drawn)
    assert receipt["amount_tendered"] == "20.00"
    assert f"paid {receipt['amount_paid']}" in reply
    digits = next(t["digits"] for t in receipt["tokens"] if t["kind"] == "credit")
    assert " ".join(digits[i : i + 4] for i in range(0, 20, 4)) in reply
    token = decode(digits, cfg.key())
    assert isinstance(token, CreditToken)
    assert Decimal(token.units).scaleb(-1) == Decimal(receipt["units_credited"])
    assert gateway.received == [{"to": OWNER, "text": reply, "reference": "m-1"}]
    left = Decimal(WALLET - sale.amount_paid).scaleb(-2)
    assert reply.endswith(f"Wallet left {left:.2f}")


def test_buy_beyond_the_wallet_sells_nothing(
    sms_client: TestClient, shop: Shop, engine: Engine
) -> None:
    """BUY for more than the wallet holds: a refusal that says so, no sale, nothing drawn."""
    r = _sms(sms_client, f"BUY {shop.volume_pan} 1100", "big-1").json()
    assert "wallet balance is too low" in r["reply"]
    assert "No money was taken" in r["reply"]
    assert sale_count(engine) == 0


def test_duplicate_message_id_same_reply_one_sale(
    sms_client: TestClient,
    shop: Shop,
    engine: Engine,
    gateway: GatewayDouble,
) -> None:
    """A gateway retry of one message id gets the same reply, no second sale, no second SMS."""
    first = _sms(sms_client, f"BUY {shop.volume_pan} 10", "m-dup").json()
    again = _sms(sms_client, f"BUY {shop.volume_pan} 10", "m-dup").json()
    assert again == {"status": "duplicate", "reply": first["reply"]}
    assert sale_count(engine) == 1
    assert len(gateway.received) == 1
    other = _sms(sms_client, f"BUY {shop.volume_pan} 99", "m-dup")
    assert other.status_code == 422
    assert sale_count(engine) == 1


def test_unregistered_phone_cannot_buy_or_see_balance(
    sms_client: TestClient,
    shop: Shop,
    engine: Engine,
) -> None:
    """Only the customer's registered phone may buy or read the last token."""
    buy = _sms(sms_client, f"BUY {shop.volume_pan} 10", "x-1", phone="+255799999999").json()
    bal = _sms(sms_client, f"BAL {shop.volume_pan}", "x-2", phone="+255799999999").json()
    assert "not registered" in buy["reply"]
    assert "not registered" in bal["reply"]
    assert sale_count(engine) == 0


def test_balance_shows_last_purchase(sms_client: TestClient, shop: Shop) -> None:
    """BAL answers 'no purchase yet', then the last purchase's token after a BUY."""
    assert "no purchase yet" in _sms(sms_client, f"BAL {shop.volume_pan}", "b-1").json()["reply"]
    bought = _sms(sms_client, f"BUY {shop.volume_pan} 15", "b-2").json()["reply"]
    bal = _sms(sms_client, f"bal {shop.volume_pan}", "b-3").json()["reply"]
    assert "paid 15.00" in bal
    assert bought.split("Token ")[1][:24] in bal


def test_help_unknown_and_form_encoding(sms_client: TestClient) -> None:
    """HELP and unknown commands get the help text; form-encoded webhooks work too."""
    r = sms_client.post(
        "/api/v1/sms/inbound",
        headers=HEADERS,
        data={"msisdn": OWNER, "message": "PAY 1 2", "id": "h-1"},
    )
    assert r.status_code == 200
    assert r.json()["reply"].startswith("Sorry, unknown command. Gas SMS:")
    assert "BUY <meter> <amount>" in _sms(sms_client, "help", "h-2").json()["reply"]


def test_rate_limits_per_phone_and_per_meter(
    sms_client: TestClient,
    shop: Shop,
    gateway: GatewayDouble,
) -> None:
    """Over the meter's budget (3) and the phone's (4), messages get no reply and cost no SMS."""
    statuses = [
        _sms(sms_client, f"BAL {shop.volume_pan}", f"r-{i}").json()["status"] for i in range(4)
    ]
    assert statuses == ["replied", "replied", "replied", "rate_limited"]
    # the phone has used 4 of 4: even HELP is now limited
    assert _sms(sms_client, "HELP", "r-9").json() == {"status": "rate_limited", "reply": None}
    assert len(gateway.received) == 3


def test_a_meter_is_one_budget_whatever_form_its_number_takes(
    sms_client: TestClient,
    shop: Shop,
    gateway: GatewayDouble,
) -> None:
    """PAN, DRN and dashed forms of one meter draw on its one budget (3), not one each."""
    pan = shop.volume_pan
    drn = pan[6:17]
    forms = [pan, drn, f"{drn[:4]}-{drn[4:8]}-{drn[8:]}", f"{pan[:6]}-{pan[6:]}"]
    statuses = [
        _sms(sms_client, f"BAL {form}", f"f-{i}").json()["status"] for i, form in enumerate(forms)
    ]
    assert statuses == ["replied", "replied", "replied", "rate_limited"]
    assert len(gateway.received) == 3


def test_rate_limit_per_customer(
    app: FastAPI,
    sms_client: TestClient,
    shop: Shop,
    gateway: GatewayDouble,
) -> None:
    """A customer's meter commands share one budget, whatever the meter's own budget."""
    with httpx.Client(timeout=5) as http:
        sms.install(
            app,
            gateway=HttpSmsGateway(http, gateway.url),
            settings=SmsSettings(
                inbound_token=SecretStr(SECRET),
                per_phone_limit=100,
                per_meter_limit=100,
                per_customer_limit=2,
                window_minutes=60,
            ),
        )
        statuses = [
            _sms(sms_client, f"BAL {shop.volume_pan}", f"c-{i}").json()["status"] for i in range(3)
        ]
    assert statuses == ["replied", "replied", "rate_limited"]


def test_webhook_needs_the_gateway_secret(sms_client: TestClient, engine: Engine) -> None:
    """Without the shared secret a message is refused: a forged SMS never buys gas."""
    r = sms_client.post(
        "/api/v1/sms/inbound", json={"from": OWNER, "text": "HELP", "message_id": "f-1"}
    )
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    bad = sms_client.post(
        "/api/v1/sms/inbound",
        headers={"X-Gateway-Token": "nope"},
        json={"from": OWNER, "text": "HELP", "message_id": "f-2"},
    )
    assert bad.status_code == 401
    missing = sms_client.post("/api/v1/sms/inbound", headers=HEADERS, json={"text": "HELP"})
    assert missing.status_code == 422


def test_gateway_down_reply_is_resent_on_retry(
    sms_client: TestClient,
    shop: Shop,
    engine: Engine,
    gateway: GatewayDouble,
) -> None:
    """If the gateway refuses the reply, the retried message re-sends it without a second sale."""
    gateway.status = 503
    first = _sms(sms_client, f"BUY {shop.volume_pan} 10", "g-1").json()
    assert first["status"] == "replied"
    gateway.status = 202
    again = _sms(sms_client, f"BUY {shop.volume_pan} 10", "g-1").json()
    assert again["reply"] == first["reply"]
    assert sale_count(engine) == 1
    assert [m["reference"] for m in gateway.received] == ["g-1", "g-1"]
