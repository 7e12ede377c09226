"""Fixtures of the delivery tests: the app sending through the jobs tests' real HTTP
gateway double (with the retry hook a server puts around it), and an opted-in customer."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select, update

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.jobs.wiring import RetryingGateway
from stsgas.vending.models import Customer, CustomerMeter, Meter
from stsgas.vending.sales.receipt_parts import ReceiptToken
from stsgas.vending.sales.receipts import Receipt
from stsgas.vending.sms import endpoints as sms
from stsgas.vending.sms.gateway import HttpSmsGateway
from stsgas.vending.sms.settings import SmsSettings
from tests.vending.jobs.conftest import GatewayDouble
from tests.vending.jobs.conftest import gateway as gateway  # the jobs tests' double
from tests.vending.sales.conftest import Shop

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PHONE = "+255700000001"  # the shop's volume-meter customer

KCT1 = "11112222333344445555"
KCT2 = "66667777888899990000"
CREDIT = "12345678901234567890"


def a_receipt(
    *,
    sale_id: int = 42,
    key_change: bool = False,
    units: Decimal | None = Decimal("7.3"),
    money: Decimal | None = None,
) -> Receipt:
    """A sale's typed receipt: by volume (``units``) or by amount (``money``), with the
    two key change tokens before the credit token when ``key_change``."""

    def token(seq: int, kind: str, digits: str) -> ReceiptToken:
        return ReceiptToken(
            sequence=seq, kind=kind, token_class=0, subclass=0, tid=None, digits=digits
        )

    tokens = (token(1, "kct", KCT1), token(2, "kct", KCT2), token(3, "credit", CREDIT))
    return Receipt(
        sale_id=sale_id,
        status="completed",
        meter_number="600727000000000012",
        mode="volume" if units is not None else "amount",
        channel="web",
        operator="cashier",
        vendor_id=1,
        time=datetime(2026, 12, 5, tzinfo=UTC),
        tid=1,
        amount_tendered=Decimal("20.00"),
        amount_paid=Decimal("20.00"),
        change=Decimal("0.00"),
        fixed_charge=Decimal("0.00"),
        fixed_charge_period="sale",
        fixed_charge_rate=Decimal("0.00"),
        fixed_charge_months=None,
        debt_recovered=Decimal("0.00"),
        tax=Decimal("0.00"),
        energy_amount=Decimal("20.00"),
        units_credited=units,
        money_credited=money,
        tariff_steps=(),
        key_change=key_change,
        tokens=tokens if key_change else tokens[2:],
        token=CREDIT,
        copy=False,
        notes=(),
    )


def opt_in(engine: Engine, pan: str, *, on: bool = True) -> int:
    """Set the meter's customer's ``sms_tokens``; the customer's id."""
    with make_sessionmaker(engine).begin() as s:
        cid = s.execute(
            select(CustomerMeter.customer_id)
            .join(Meter, Meter.id == CustomerMeter.meter_id)
            .where(Meter.pan == pan, CustomerMeter.active == 1)
        ).scalar_one()
        s.execute(update(Customer).where(Customer.id == cid).values(sms_tokens=on))
    return int(cid)


@pytest.fixture
def sending_app(app: FastAPI, shop: Shop, gateway: GatewayDouble) -> Iterator[FastAPI]:
    """The app whose SMS gateway is the double, wrapped for retries as a server does."""
    with httpx.Client(timeout=5) as http:
        sms.install(app, settings=SmsSettings(), gateway=HttpSmsGateway(http, gateway.url))
        if app.state.jobs is not None:
            app.state.sms_gateway = RetryingGateway(app.state.sms_gateway, app.state.jobs)
        yield app


@pytest.fixture
def sending_client(sending_app: FastAPI) -> Iterator[TestClient]:
    """A client of that app (its lifespan run: the event-loop sale path on PostgreSQL)."""
    with TestClient(sending_app) as client:
        yield client
        sending_app.state.delivery.drain()
