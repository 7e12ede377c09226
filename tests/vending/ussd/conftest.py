"""Fixtures of the USSD tests: the app with the USSD callback and the SMS channel's
operator, and a helper posting one session step as the gateway does."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Engine, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.meters.repository import MeterRepository
from stsgas.vending.models import Meter, Operator, Role
from stsgas.vending.sms import endpoints as sms
from stsgas.vending.sms.gateway import MemorySmsGateway
from stsgas.vending.sms.settings import SmsSettings
from stsgas.vending.ussd import endpoints as ussd
from stsgas.vending.ussd.settings import UssdSettings
from stsgas.vending.wallet import service as wallet
from tests.vending.sales.conftest import Shop

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SECRET = "ussd-secret"
HEADERS = {"X-Gateway-Token": SECRET}
OWNER = "+255700000001"  # the phone of the shop's volume-meter customer
#: what the volume meter's customer holds in the wallet self-service sales spend (minor)
WALLET = 100_000


def fund_owner(engine: Engine, pan: str, amount: int) -> None:
    """Pay ``amount`` into the wallet of the meter's customer at the counter."""
    with make_sessionmaker(engine).begin() as s:
        meter = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
        owner = MeterRepository(s).customer_of(meter.id)
        assert owner is not None
        wallet.counter_top_up(s, owner.id, amount, key=f"fund-{pan}", now=datetime.now(UTC))


@pytest.fixture
def ussd_app(
    app: FastAPI,
    shop: Shop,
    engine: Engine,
    make_operator: Callable[..., tuple[Operator, str]],
) -> FastAPI:
    """The app with the USSD callback on, selling as the SMS operator (a cashier)."""
    make_operator(Role.CASHIER, username="sms", vendor_id=shop.vendor_id)
    fund_owner(engine, shop.volume_pan, WALLET)
    sms.install(
        app,
        settings=SmsSettings(per_phone_limit=6, per_meter_limit=3, window_minutes=60),
        gateway=MemorySmsGateway(),
    )
    ussd.install(app, settings=UssdSettings(inbound_token=SecretStr(SECRET)))
    return app


@pytest.fixture
def ussd_client(ussd_app: FastAPI) -> Iterator[TestClient]:
    """A test client of that app."""
    with TestClient(ussd_app) as client:
        yield client


def dial(
    client: TestClient | httpx.Client, session: str, text: str, phone: str = OWNER
) -> httpx.Response:
    """One step of a session, as the gateway posts it."""
    r: httpx.Response = client.post(
        "/api/v1/ussd/callback",
        headers=HEADERS,
        data={"sessionId": session, "serviceCode": "*384*12#", "phoneNumber": phone, "text": text},
    )
    return r
