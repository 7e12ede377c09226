"""A payment's SMS is kept in the SMS outbox: a gateway that refuses it loses nothing,
the jobs package's resend job delivers it once."""

from __future__ import annotations

import warnings

import httpx
from sqlalchemy import Engine

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.jobs import work
from stsgas.vending.payments.service import sms_reference
from stsgas.vending.sms import endpoints as sms
from stsgas.vending.sms.gateway import HttpSmsGateway
from stsgas.vending.sms.settings import SmsSettings
from tests.vending.payments.conftest import Paying, callback, counts
from tests.vending.sms.gateway_double import running_gateway

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_a_refused_token_sms_is_resent_by_the_job(paying: Paying, engine: Engine) -> None:
    with running_gateway() as gw, httpx.Client(timeout=5) as http:
        gw.status = 500
        sms.install(paying.app, settings=SmsSettings(), gateway=HttpSmsGateway(http, gw.url))
        txn = paying.pay(paying.shop.pans[0], "15.00")
        with TestClient(paying.app) as client:
            assert callback(client, txn).json()["ResultCode"] == 0
        assert counts(engine)["sales"] == 1  # the sale stands although the SMS was refused
        assert len(gw.received) == 1
        gw.status = 202
        sm = make_sessionmaker(engine)
        ref = sms_reference("mpesa", txn.trans_id)
        gateway = HttpSmsGateway(http, gw.url)
        assert work.resend_sms_reply(sm, gateway, to="+255700000042", reference=ref) == "sent"
        assert work.resend_sms_reply(sm, gateway, to="+255700000042", reference=ref) == (
            "already_sent"
        )
    assert len(gw.received) == 2
    assert gw.received[1]["to"] == "+255700000042"
    assert "Token " in gw.received[1]["text"]
    assert gw.received[1]["text"] == gw.received[0]["text"]
