"""Tokens by SMS after a sale, through a real HTTP gateway: once per sale, only when
opted in, retried after a refusal by the SMS resend job, listed (masked) in the SMS log."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from stsgas.sts import group_digits
from stsgas.vending import transaction
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.delivery.hook import Deliverer
from stsgas.vending.delivery.service import answered_by_sms, deliver, reference_of
from stsgas.vending.jobs.local import LocalJobs
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import Operator, Role
from stsgas.vending.sales import service
from stsgas.vending.sales.receipts import Receipt
from stsgas.vending.sms import endpoints as sms
from stsgas.vending.sms import repository as sms_repo
from stsgas.vending.sms.gateway import MemorySmsGateway
from stsgas.vending.sms.settings import SmsSettings
from stsgas.vending.ussd import endpoints as ussd
from stsgas.vending.ussd.settings import UssdSettings
from tests.vending.conftest import auth
from tests.vending.delivery.conftest import PHONE, opt_in
from tests.vending.jobs.conftest import GatewayDouble
from tests.vending.sales.conftest import Shop, all_sales
from tests.vending.ussd.conftest import fund_owner

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _sell(client: TestClient, shop: Shop, pan: str, key: str, amount: str = "20") -> Any:
    r = client.post(
        "/api/v1/sales",
        json={"meter_number": pan, "amount": amount, "channel": "pos"},
        headers={**auth(shop.cashier_token), "Idempotency-Key": key},
    )
    assert r.status_code == 201, r.text
    return r


def _credit(receipt: dict[str, Any]) -> str:
    return str(next(t["digits"] for t in receipt["tokens"] if t["kind"] == "credit"))


def _outbox(engine: Engine, sale_id: int) -> dict[str, Any] | None:
    with make_sessionmaker(engine)() as s:
        rec = sms_repo.get_record(s, "sms:255700000001", reference_of(sale_id))
        return None if rec is None else rec.response_body


def _sales(engine: Engine) -> list[int]:
    """The ids of every sale in the database, in order."""
    return [sale.id for sale in all_sales(engine)]


def _sell_here(
    sm: sessionmaker[Session],
    shop: Shop,
    security: SoftwareSecurityModule,
    key: str | None = None,
    *,
    then: Callable[[], None] = lambda: None,
) -> Receipt:
    """A cashier's sale made in this process, not through the API (no request); ``then``
    runs inside its transaction, after the sale."""
    with sm() as s:
        seller = s.get(Operator, shop.cashier_id)
        assert seller is not None
        req = service.SaleRequest(
            meter_number=shop.volume_pan, paid=2_000, channel="pos", idempotency_key=key
        )

        def unit() -> Receipt:
            receipt = service.sell(s, req, operator=seller, security=security).receipt
            then()
            return receipt

        return transaction.run(s, unit)


@dataclass(frozen=True, slots=True)
class Sending:
    """The delivery tests' world: a client of the app that sends through the gateway
    double, the shop, the database."""

    client: TestClient
    app: FastAPI
    shop: Shop
    engine: Engine
    gateway: GatewayDouble

    def sell(self, key: str, pan: str | None = None) -> Any:
        """A POS sale through the API, then every SMS it leads to sent."""
        r = _sell(self.client, self.shop, pan or self.shop.volume_pan, key)
        self.drain()
        return r

    def drain(self) -> None:
        """Wait until the deliverer has handled every sale handed to it."""
        self.app.state.delivery.drain()


@pytest.fixture
def sending(
    sending_client: TestClient,
    sending_app: FastAPI,
    shop: Shop,
    engine: Engine,
    gateway: GatewayDouble,
) -> Sending:
    return Sending(sending_client, sending_app, shop, engine, gateway)


def test_sale_sends_its_token_once_even_when_replayed(sending: Sending, backend: str) -> None:
    """An opted-in customer's sale: one SMS with meter, token, amount, credit, receipt
    number; the same request replayed (Idempotency-Key) answers again but sends nothing."""
    shop, gateway = sending.shop, sending.gateway
    opt_in(sending.engine, shop.volume_pan)
    receipt = sending.sell("k-1").json()
    [sent] = gateway.received
    assert sent["to"] == PHONE
    assert sent["reference"] == reference_of(receipt["sale_id"])
    text = sent["text"]
    assert shop.volume_pan in text
    assert group_digits(_credit(receipt)) in text
    assert f"Paid {receipt['amount_paid']}, credit {receipt['units_credited']} m3" in text
    assert text.endswith(f"Receipt {receipt['sale_id']}.")
    again = sending.sell("k-1")
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(gateway.received) == 1
    assert (_outbox(sending.engine, receipt["sale_id"]) or {})["sent"] is True
    if backend == "postgresql":  # the sale and its replay took the event-loop path
        assert sending.app.state.sale_pool.stats["fast"] == 2


def test_opted_out_and_customerless_sales_send_nothing(sending: Sending) -> None:
    opt_in(sending.engine, sending.shop.volume_pan, on=False)
    sold = _sell(sending.client, sending.shop, sending.shop.volume_pan, "o-1").json()
    sending.sell("o-2", pan=sending.shop.amount_pan)  # a meter with no customer
    assert sending.gateway.received == []
    assert _outbox(sending.engine, sold["sale_id"]) is None


def test_refused_sale_sends_nothing(sending: Sending) -> None:
    """A sale refused after its meter was locked (blocked meter) rolls back: no SMS."""
    opt_in(sending.engine, sending.shop.volume_pan)
    r = sending.client.post(
        "/api/v1/sales",
        json={"meter_number": sending.shop.blocked_pan, "amount": "20", "channel": "pos"},
        headers=auth(sending.shop.cashier_token),
    )
    assert r.status_code >= 400
    sending.drain()
    assert sending.gateway.received == []


@SQLITE_ONLY
def test_gateway_refusal_is_retried_by_the_resend_job(sending: Sending) -> None:
    """The gateway refuses (503): the sale stands, the SMS waits unsent in the outbox;
    the SMS resend job's next round sends the very same text (200), once."""
    gateway, engine = sending.gateway, sending.engine
    opt_in(engine, sending.shop.volume_pan)
    gateway.answers = [503, 200]
    receipt = sending.sell("r-1").json()
    assert len(gateway.received) == 1
    assert (_outbox(engine, receipt["sale_id"]) or {})["sent"] is False
    runner = sending.app.state.jobs
    assert isinstance(runner, LocalJobs)
    for periodic in runner._periodic:  # no scheduled job (sweep, integrity) falls in here
        periodic.due = datetime.max.replace(tzinfo=UTC)
    assert runner.tick(datetime.now(UTC)) == 1
    assert [m["text"] for m in gateway.received] == [gateway.received[0]["text"]] * 2
    assert (_outbox(engine, receipt["sale_id"]) or {})["sent"] is True
    assert runner.tick(datetime.now(UTC)) == 0
    assert runner.failed() == []
    assert len(_sales(engine)) == 1


def test_deliver_called_twice_sends_once(sending: Sending) -> None:
    """However often the hook fires for one sale, the outbox key lets one send through."""
    opt_in(sending.engine, sending.shop.volume_pan)
    receipt = sending.sell("t-1").json()
    sm = make_sessionmaker(sending.engine)
    memory = MemorySmsGateway()
    now = datetime.now(UTC)
    assert deliver(sm, memory, Receipt.from_json(receipt), now=now) == "already"
    assert memory.sent == []
    assert len(sending.gateway.received) == 1


def test_sms_log_shows_delivered_tokens_masked(sending: Sending, admin_token: str) -> None:
    opt_in(sending.engine, sending.shop.volume_pan)
    receipt = sending.sell("l-1").json()
    r = sending.client.get("/api/v1/sms/messages", headers=auth(admin_token))
    assert r.status_code == 200
    [row] = r.json()
    assert row["status"] == "token_delivery"
    assert row["phone"] == "*********001"
    assert row["message_id"] == reference_of(receipt["sale_id"])
    assert group_digits(_credit(receipt)) in row["reply"]
    assert row["reply_sent"] is True
    assert "700000001" not in r.text


@SQLITE_ONLY
def test_sms_and_ussd_sales_are_delivered_too_and_cost_no_inbound_budget(
    sending_app: FastAPI,
    shop: Shop,
    engine: Engine,
    gateway: GatewayDouble,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """A USSD sale gets its token SMS (the screen is gone once read); an SMS BUY does
    not get a second one (its reply carries the token). The token SMS does not use up
    the phone's inbound budget (one message here)."""
    opt_in(engine, shop.volume_pan)
    make_operator(Role.CASHIER, username="sms", vendor_id=shop.vendor_id)
    fund_owner(engine, shop.volume_pan, 10_000)
    inner = sending_app.state.sms_gateway
    settings = SmsSettings(inbound_token=SecretStr("s"), per_phone_limit=1)
    sms.install(sending_app, settings=settings, gateway=inner)
    ussd.install(sending_app, settings=UssdSettings(inbound_token=SecretStr("u")))
    with TestClient(sending_app) as client:
        r = client.post(
            "/api/v1/ussd/callback",
            headers={"X-Gateway-Token": "u"},
            data={"sessionId": "u-1", "phoneNumber": PHONE, "text": "2*10*1"},
        )
        assert r.text.startswith("END Meter")
        sending_app.state.delivery.drain()
        r = client.post(
            "/api/v1/sms/inbound",
            headers={"X-Gateway-Token": "s"},
            json={"from": PHONE, "text": f"BUY {shop.volume_pan} 10", "message_id": "m-1"},
        )
        assert r.json()["status"] == "replied"
        sending_app.state.delivery.drain()
    ids = _sales(engine)
    references = [m["reference"] for m in gateway.received]
    assert len(ids) == 2
    assert references == [reference_of(ids[0]), "m-1"]  # USSD: the token SMS; SMS: the reply


def test_only_sales_answered_by_sms_already_are_left_out() -> None:
    assert answered_by_sms("sms", "sms-m-1", "wallet")  # the BUY reply has the token
    assert answered_by_sms("api", "mpesa-TX1", "mobile")  # so has the payment's SMS
    assert not answered_by_sms("sms", "ussd-AT1", "wallet")  # a USSD screen is gone
    assert not answered_by_sms("pos", "k-1", "float")
    assert not answered_by_sms("web", None, "float")
    assert not answered_by_sms("api", "sms-lookalike", "float")


class _Abandoned(Exception):
    """Raised after the sale was made, inside its transaction."""


def _abandon() -> None:
    raise _Abandoned


def test_a_sale_rolled_back_after_it_was_made_sends_nothing(
    sending: Sending, security_module: SoftwareSecurityModule
) -> None:
    """The sale's receipt is noted inside its transaction; a unit that fails after the
    sale rolls it back and nothing is sent. The same sale committed is sent once."""
    opt_in(sending.engine, sending.shop.volume_pan)
    sm = sending.app.state.sessionmaker
    with pytest.raises(_Abandoned):
        _sell_here(sm, sending.shop, security_module, then=_abandon)
    sending.drain()
    assert sending.gateway.received == []
    _sell_here(sm, sending.shop, security_module)
    sending.drain()
    assert len(sending.gateway.received) == 1
    assert len(_sales(sending.engine)) == 1


def test_an_opt_in_through_the_api_counts_at_once(sending: Sending) -> None:
    """With nobody opted in, sales are not looked at (for a few seconds at a time); the
    customers API's opt-in wakes the sender, so the very next sale is delivered."""
    first = sending.sell("w-1").json()
    assert sending.gateway.received == []
    cid = opt_in(sending.engine, sending.shop.volume_pan, on=False)
    r = sending.client.patch(
        f"/api/v1/customers/{cid}",
        json={"sms_tokens": True},
        headers=auth(sending.shop.supervisor_token),
    )
    assert r.status_code == 200, r.text
    second = sending.sell("w-2").json()
    assert [m["reference"] for m in sending.gateway.received] == [reference_of(second["sale_id"])]
    assert _outbox(sending.engine, first["sale_id"]) is None


def test_a_restarted_server_sends_what_a_stopped_one_left_out(
    sending_app: FastAPI,
    shop: Shop,
    engine: Engine,
    security_module: SoftwareSecurityModule,
) -> None:
    """Sales committed with no sender listening (a server stopped between commit and
    outbox) are found by the next server's sender and sent once, with its own sales."""
    opt_in(engine, shop.volume_pan)
    unheard = make_sessionmaker(engine)  # no delivery listener: like a server that died
    lost = [_sell_here(unheard, shop, security_module, key) for key in ("lost-1", "lost-2")]
    memory = MemorySmsGateway()
    restarted = Deliverer(sending_app.state.sessionmaker, lambda: memory)
    fresh = _sell_here(unheard, shop, security_module, "fresh-1")  # handed over below
    restarted.submit(fresh)
    restarted.drain()
    assert sorted(m.reference for m in memory.sent) == sorted(
        reference_of(r.sale_id) for r in [*lost, fresh]
    )
    restarted.submit(fresh)  # asked again later: nothing left out, nothing twice
    restarted.drain()
    assert len(memory.sent) == 3
