"""The console's part of the channels: opting a customer in to tokens by SMS, and the
SMS page listing the tokens sent after sales and the USSD sessions, phones masked."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Engine, select

from stsgas.sts import group_digits
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Customer, Role
from stsgas.vending.ussd import endpoints as ussd
from stsgas.vending.ussd.settings import UssdSettings
from tests.vending.conftest import auth
from tests.vending.delivery.conftest import PHONE, opt_in
from tests.vending.delivery.conftest import gateway as gateway
from tests.vending.delivery.conftest import sending_app as sending_app
from tests.vending.sales.conftest import Shop

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _customer(engine: Engine, name: str) -> Customer:
    with make_sessionmaker(engine)() as s:
        return s.execute(select(Customer).where(Customer.name == name)).scalar_one()


def test_customer_opts_in_and_out_on_the_console(
    console: TestClient, signed_in: Callable[[str], str], engine: Engine
) -> None:
    csrf = signed_in("shopsuper")
    made = console.post(
        "/console/customers",
        data={"name": "Grace Hopper", "phone": "+255711000222", "sms_tokens": "on", "csrf": csrf},
    )
    assert made.status_code == 200
    assert re.search(r'id="sms-tokens">yes', made.text)
    grace = _customer(engine, "Grace Hopper")
    assert grace.sms_tokens is True
    off = console.post(f"/console/customers/{grace.id}/sms-tokens", data={"csrf": csrf})
    assert off.status_code == 200
    assert 'id="sms-tokens">no' in off.text
    assert _customer(engine, "Grace Hopper").sms_tokens is False
    stale = console.post(f"/console/customers/{grace.id}/sms-tokens", data={"sms_tokens": "on"})
    assert "Form expired" in stale.text
    assert _customer(engine, "Grace Hopper").sms_tokens is False


def test_sms_page_shows_delivered_tokens_and_ussd_sessions_masked(
    sending_app: FastAPI,
    console: TestClient,
    signed_in_as: Callable[[Role, str], str],
    shop: Shop,
    engine: Engine,
) -> None:
    opt_in(engine, shop.volume_pan)
    ussd.install(sending_app, settings=UssdSettings(inbound_token=SecretStr("u")))
    sold = console.post(
        "/api/v1/sales",
        json={"meter_number": shop.volume_pan, "amount": "20", "channel": "pos"},
        headers=auth(shop.cashier_token),
    ).json()
    sending_app.state.delivery.drain()
    console.post(
        "/api/v1/ussd/callback",
        headers={"X-Gateway-Token": "u"},
        data={"sessionId": "ussd-77", "phoneNumber": PHONE, "text": "1"},
    )
    signed_in_as(Role.ADMIN, "office")
    page = console.get("/console/sms")
    assert page.status_code == 200
    credit = next(t["digits"] for t in sold["tokens"] if t["kind"] == "credit")
    assert group_digits(credit) in page.text
    assert "token sent after a sale" in page.text
    assert f"stsgas-sale-{sold['sale_id']}" in page.text
    assert "USSD sessions" in page.text
    assert "ussd-77" in page.text
    assert "balance shown" in page.text
    assert "*********001" in page.text
    assert "700000001" not in page.text
