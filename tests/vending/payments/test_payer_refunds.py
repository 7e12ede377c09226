"""Refunds owed to mobile-money payers (issue 14), on both databases, through the real
webhook and simulator: a cancelled mobile-money sale no wallet could take back is owed
to the phone that paid; reconciliation (API, console, CLI) lists it with the amount,
the phone, the payment, the sale and since when; a supervisor marks it refunded once,
audited; the take-back's approval says where the money went (``refunded_to``)."""

from __future__ import annotations

import html
import json
import re
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import Engine, select, update

from stsgas.cli import main
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.migrations import alembic_config
from stsgas.vending.models import AuditEntry, Operator, Payment, Role, Sale
from tests.vending.conftest import auth
from tests.vending.payments.conftest import Paying, callback, cancel
from tests.vending.payments.conftest import paying as paying  # the webhook's fixtures
from tests.vending.payments.conftest import simulator as simulator
from tests.vending.sales.live import serve
from tests.vending.web.conftest import sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PAYER = "254711222333"


@pytest.fixture
def client(paying: Paying) -> Iterator[TestClient]:
    """An HTTP client on the app with mobile money set up."""
    with TestClient(paying.app) as c:
        yield c


@pytest.fixture
def supervisor(make_operator: Callable[..., tuple[Operator, str]]) -> str:
    """A supervisor of no vendor: may cancel sales and settle refunds."""
    return make_operator(Role.SUPERVISOR, username="refunder")[1]


def _customerless_sale(
    client: TestClient | httpx.Client, paying: Paying, engine: Engine, amount: str
) -> int:
    """A mobile-money sale paid from ``PAYER``'s phone, then (as if the meter had no
    customer when it was sold) without a customer: its id."""
    txn = paying.pay(paying.shop.pans[0], amount, phone=PAYER)
    assert callback(client, txn).status_code == 200
    with make_sessionmaker(engine).begin() as s:
        sale_id = s.execute(
            select(Payment.sale_id).where(Payment.txn_id == txn.trans_id)
        ).scalar_one()
        assert sale_id is not None
        s.execute(update(Sale).where(Sale.id == sale_id).values(customer_id=None))
    return int(sale_id)


def _void(client: TestClient | httpx.Client, token: str, sale_id: int) -> Any:
    r = cancel(client, token, sale_id)
    assert r.status_code == 200, r.text
    return r.json()


def _reconciliation(client: TestClient | httpx.Client, token: str) -> Any:
    r = client.get("/api/v1/payments/reconciliation", headers=auth(token))
    assert r.status_code == 200, r.text
    return r.json()


def test_a_refund_owed_is_listed_then_marked_refunded_once(
    client: TestClient,
    paying: Paying,
    engine: Engine,
    supervisor: str,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sale_id = _customerless_sale(client, paying, engine, "20.00")
    assert _reconciliation(client, supervisor)["refunds_owed"] == []
    assert _void(client, supervisor, sale_id)["refunded_to"] == "payer"
    with make_sessionmaker(engine)() as s:
        payment_id = s.execute(select(Payment.id).where(Payment.sale_id == sale_id)).scalar_one()
    [owed] = _reconciliation(client, supervisor)["refunds_owed"]
    assert {k: owed[k] for k in ("sale_id", "payment_id", "amount", "phone", "refunded_at")} == {
        "sale_id": sale_id,
        "payment_id": payment_id,
        "amount": 2_000,
        "phone": PAYER,
        "refunded_at": None,
    }
    assert owed["owed_at"]
    assert main(["payments", "reconcile", "--database", db_url]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [(r["sale_id"], r["amount"], r["phone"]) for r in doc["refunds_owed"]] == [
        (sale_id, 2_000, PAYER)
    ]

    url = f"/api/v1/payments/refunds/{owed['id']}/refunded"
    refused = client.post(url, json={"reference": "RV1"}, headers=auth(paying.shop.admin_token))
    assert refused.status_code == 403  # an admin may read it, not settle it
    assert client.post(url, json={"reference": ""}, headers=auth(supervisor)).status_code == 422
    done = client.post(url, json={"reference": "RV1"}, headers=auth(supervisor))
    assert done.status_code == 200, done.text
    assert done.json()["refunded_by"] == "refunder"
    assert done.json()["reference"] == "RV1"
    again = client.post(url, json={"reference": "RV2"}, headers=auth(supervisor))
    assert again.status_code == 409
    assert again.json()["code"] == "already_refunded"
    assert _reconciliation(client, supervisor)["refunds_owed"] == []
    paid = client.get("/api/v1/payments/refunds?paid=true", headers=auth(supervisor)).json()
    assert [(r["id"], r["reference"]) for r in paid] == [(owed["id"], "RV1")]
    with make_sessionmaker(engine)() as s:
        marks = s.execute(
            select(AuditEntry.actor, AuditEntry.data).where(AuditEntry.action == "payment.refund")
        ).all()
    assert [(actor, data["reference"], data["amount"]) for actor, data in marks] == [
        ("refunder", "RV1", 2_000)
    ]
    assert main(["payments", "reconcile", "--database", db_url]) == 0


def test_a_take_back_approval_says_where_the_money_went(
    client: TestClient,
    paying: Paying,
    engine: Engine,
    supervisor: str,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """The token was entered: the approval (and every later read of the request) answers
    ``refunded_to`` and ``refund_note``; without a customer wallet the refund is owed to
    the payer and listed."""
    approver = make_operator(Role.SUPERVISOR, username="approver")[1]
    sale_id = _customerless_sale(client, paying, engine, "30.00")
    asked = cancel(
        client,
        supervisor,
        sale_id,
        reason="entered on the wrong meter",
        token_used=True,
        meter_credit="50",
    )
    assert asked.status_code == 202, asked.text
    request_id = asked.json()["request"]["id"]
    assert asked.json()["request"]["refunded_to"] is None  # nothing moved yet
    url = f"/api/v1/management/requests/{request_id}/approve"
    done = client.post(url, headers=auth(approver))
    assert done.status_code == 200, done.text
    assert done.json()["refunded_to"] == "payer"
    assert "30.00 paid by mobile money is owed to the payer" in done.json()["refund_note"]
    read = client.get(f"/api/v1/management/requests/{request_id}", headers=auth(approver))
    assert read.json()["refunded_to"] == "payer"
    [owed] = _reconciliation(client, supervisor)["refunds_owed"]
    assert (owed["sale_id"], owed["amount"], owed["phone"]) == (sale_id, 3_000, PAYER)


def test_the_console_lists_a_refund_owed_and_a_supervisor_marks_it(
    client: TestClient, paying: Paying, engine: Engine, supervisor: str
) -> None:
    sale_id = _customerless_sale(client, paying, engine, "20.00")
    _void(client, supervisor, sale_id)
    csrf = sign_in(client, "refunder")
    page = html.unescape(client.get("/console/payments").text)
    row = re.search(r'<tr id="refund-(\d+)">(.*?)</tr>', page, re.S)
    assert row is not None
    assert f'href="/console/sales/{sale_id}"' in row.group(2)
    assert "20.00" in row.group(2)
    assert PAYER in row.group(2)
    done = client.post(
        f"/console/payments/refunds/{row.group(1)}/refunded",
        data={"reference": "RV-7", "csrf": csrf},
    )
    assert done.status_code == 200, done.text
    text = html.unescape(done.text)
    assert f"sale #{sale_id} marked refunded: 20.00 sent back to {PAYER} (reference RV-7)" in text
    assert 'id="refund-' not in text
    again = client.post(
        f"/console/payments/refunds/{row.group(1)}/refunded",
        data={"reference": "RV-8", "csrf": csrf},
    )
    assert again.status_code == 409
    assert "already marked refunded by refunder (reference RV-7)" in html.unescape(again.text)


def test_the_migration_finds_refunds_owed_by_earlier_cancels(
    client: TestClient, paying: Paying, engine: Engine, supervisor: str, db_url: str
) -> None:
    """Cancels made before 0017 are in the audit log: its upgrade lists their refunds."""
    sale_id = _customerless_sale(client, paying, engine, "20.00")
    _void(client, supervisor, sale_id)
    before = _reconciliation(client, supervisor)["refunds_owed"]
    cfg = alembic_config(db_url, engine=engine)
    command.downgrade(cfg, "0016")
    command.upgrade(cfg, "head")
    after = _reconciliation(client, supervisor)["refunds_owed"]
    keys = ("sale_id", "payment_id", "amount", "phone", "owed_at")
    assert [{k: r[k] for k in keys} for r in after] == [{k: r[k] for k in keys} for r in before]


def test_supervisors_marking_one_refund_at_once_settle_it_once(
    paying: Paying,
    engine: Engine,
    supervisor: str,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """Real concurrent requests on a real server: one mark wins, the others are 409
    ``already_refunded``; one audit entry, one reference kept."""
    others = [make_operator(Role.SUPERVISOR, username=f"settler{i}")[1] for i in range(3)]
    tokens = [supervisor, *others]
    with serve(paying.app) as base_url, httpx.Client(base_url=base_url, timeout=60) as c:
        sale_id = _customerless_sale(c, paying, engine, "20.00")
        _void(c, supervisor, sale_id)
        [owed] = _reconciliation(c, supervisor)["refunds_owed"]
        url = f"/api/v1/payments/refunds/{owed['id']}/refunded"
        barrier = threading.Barrier(len(tokens))

        def mark(i: int) -> httpx.Response:
            with httpx.Client(base_url=base_url, timeout=60) as mine:
                barrier.wait()
                return mine.post(url, json={"reference": f"RV{i}"}, headers=auth(tokens[i]))

        with ThreadPoolExecutor(len(tokens)) as pool:
            answers = list(pool.map(mark, range(len(tokens))))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200, 409, 409, 409], [r.text for r in answers]
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"already_refunded"}
    [won] = [r.json() for r in answers if r.status_code == 200]
    with make_sessionmaker(engine)() as s:
        marks = s.execute(
            select(AuditEntry.data).where(AuditEntry.action == "payment.refund")
        ).scalars()
        assert [m["reference"] for m in marks] == [won["reference"]]
