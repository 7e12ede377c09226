"""Fixtures of the delivery tests: the app sending through the jobs tests' real HTTP
gateway double (with the retry hook a server puts around it), and an opted-in customer."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select, update

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.jobs.wiring import RetryingGateway
from stsgas.vending.models import Customer, CustomerMeter, Meter
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
