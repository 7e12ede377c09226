"""Fixtures of the USSD tests: the app with the USSD callback and the SMS channel's
operator, and a helper posting one session step as the gateway does."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from stsgas.vending.models import Operator, Role
from stsgas.vending.sms import endpoints as sms
from stsgas.vending.sms.gateway import MemorySmsGateway
from stsgas.vending.sms.settings import SmsSettings
from stsgas.vending.ussd import endpoints as ussd
from stsgas.vending.ussd.settings import UssdSettings
from tests.vending.sales.conftest import Shop

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SECRET = "ussd-secret"
HEADERS = {"X-Gateway-Token": SECRET}
OWNER = "+255700000001"  # the phone of the shop's volume-meter customer


@pytest.fixture
def ussd_app(
    app: FastAPI, shop: Shop, make_operator: Callable[..., tuple[Operator, str]]
) -> FastAPI:
    """The app with the USSD callback on, selling as the SMS operator (a cashier)."""
    make_operator(Role.CASHIER, username="sms", vendor_id=shop.vendor_id)
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
