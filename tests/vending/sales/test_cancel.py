"""Cancelling a sale: a void refunds once; a take-back is four-eyes and takes exactly the
sale off the meter (checked on the firmware model the customer has at home)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from stsgas.meter import Meter as VirtualMeter
from stsgas.meter.query import answer
from stsgas.sts import ClearCredit, CreditToken, CurrencyCreditToken, decode
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.ledger.repository import LedgerRepository
from stsgas.vending.models import (
    AuditEntry,
    Customer,
    ManagementRequest,
    Operator,
    Role,
    Sale,
    Token,
    Vendor,
)
from tests.problems import problem
from tests.vending.conftest import auth
from tests.vending.sales.conftest import FLOAT, Shop, counts, meter_config
from tests.vending.sales.test_service import sell
from tests.vending.virtual import virtual_meter

#: when the customer's meter was installed
METER_START = datetime(2026, 1, 1, tzinfo=UTC)

MGMT = "/api/v1/management/requests"


def cancel(client: TestClient, token: str, sale_id: int, **body: Any) -> Any:
    """POST a cancel (a void unless ``token_used=True``)."""
    headers = auth(token)
    key = body.pop("key", None)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(
        f"/api/v1/sales/{sale_id}/cancel", json={"reason": "wrong meter", **body}, headers=headers
    )


def enter(meter: VirtualMeter, *digits: str) -> None:
    """Enter tokens in order; each must be accepted."""
    for d in digits:
        events = meter.enter_token(d, datetime.now(UTC))
        assert "Accept" in meter.lcd, (meter.lcd, events)


@pytest.fixture
def second_supervisor(make_operator: Callable[..., tuple[Operator, str]]) -> str:
    """A second supervisor: the four eyes' other pair."""
    return make_operator(Role.SUPERVISOR, username="secondsuper")[1]


def _float(engine: Engine, vendor_id: int) -> int:
    with make_sessionmaker(engine)() as s:
        vendor = s.get(Vendor, vendor_id)
        assert vendor is not None
        return vendor.float_balance


def _status(engine: Engine, sale_id: int) -> str:
    with make_sessionmaker(engine)() as s:
        sale = s.get(Sale, sale_id)
        assert sale is not None
        return sale.status


def test_cashier_cannot_cancel_or_plan(client: TestClient, shop: Shop) -> None:
    """Cancelling is a supervisor's act; so is reading its plan."""
    sale = sell(client, shop.cashier_token, shop.volume_pan, "10").json()
    assert cancel(client, shop.cashier_token, sale["sale_id"]).status_code == 403
    r = client.get(f"/api/v1/sales/{sale['sale_id']}/cancel-plan", headers=auth(shop.cashier_token))
    assert r.status_code == 403


def test_void_reverses_ledger_refunds_and_restores_debt_once(
    client: TestClient, shop: Shop, engine: Engine
) -> None:
    """A void refunds the float and puts the recovered debt back, once: the second
    cancel is 409 ``sale_cancelled`` and moves nothing."""
    with make_sessionmaker(engine)() as s:
        debt_before = s.execute(select(Customer.debt_balance)).scalar_one()
    sale = sell(client, shop.cashier_token, shop.volume_pan, "25").json()
    assert sale["debt_recovered"] == "2.40"
    r = cancel(client, shop.supervisor_token, sale["sale_id"])
    assert r.status_code == 200, r.text
    # the refund is what the sale charged (25 tendered: the rest was change)
    assert r.json() == {
        "sale_id": sale["sale_id"],
        "status": "cancelled",
        "refunded": sale["amount_paid"],
    }
    before = counts(engine)
    again = cancel(client, shop.supervisor_token, sale["sale_id"], reason="twice")
    assert again.status_code == 409
    assert again.json()["code"] == "sale_cancelled"
    assert counts(engine) == before
    with make_sessionmaker(engine)() as s:
        assert s.get(Vendor, shop.vendor_id).float_balance == FLOAT  # type: ignore[union-attr]
        assert s.execute(select(Customer.debt_balance)).scalar_one() == debt_before
        debit, credit = LedgerRepository(s).totals()
        assert debit == credit == 2 * int(Decimal(sale["amount_paid"]) * 100)


def test_replay_and_reprint_of_a_cancelled_sale_never_give_its_token(
    client: TestClient, shop: Shop, engine: Engine
) -> None:
    """The Idempotency-Key of a cancelled sale answers 409 ``sale_cancelled`` (never the
    receipt with its token), as do the outcome look-up and a reprint; reading the sale
    shows it cancelled, without its token. Nothing is sold again."""
    first = sell(client, shop.cashier_token, shop.amount_pan, "20", key="k-cancel")
    assert first.status_code == 201
    sale_id = first.json()["sale_id"]
    digits = first.json()["tokens"][-1]["digits"]
    assert sell(client, shop.cashier_token, shop.amount_pan, "20", key="k-cancel").json() == (
        first.json()
    )  # before the cancel: a plain replay
    assert cancel(client, shop.supervisor_token, sale_id).status_code == 200
    before = counts(engine)
    replay = sell(client, shop.cashier_token, shop.amount_pan, "20", key="k-cancel")
    problem(replay, 409, "sale_cancelled")
    assert replay.json()["sale_id"] == sale_id
    assert replay.json()["cancelled_at"]
    assert digits not in replay.text
    outcome = client.get(
        "/api/v1/sales/outcome",
        params={"key": "k-cancel", "channel": "pos"},
        headers=auth(shop.cashier_token),
    )
    assert outcome.status_code == 409
    assert outcome.json()["code"] == "sale_cancelled"
    reprint = client.post(f"/api/v1/sales/{sale_id}/reprint", headers=auth(shop.cashier_token))
    assert reprint.status_code == 409
    assert reprint.json()["code"] == "sale_cancelled"
    read = client.get(f"/api/v1/sales/{sale_id}", headers=auth(shop.cashier_token))
    assert read.json()["status"] == "cancelled"
    assert digits not in read.text
    listed = client.get("/api/v1/sales", headers=auth(shop.cashier_token))
    assert digits not in listed.text
    assert counts(engine) == before


def _exact_credit(engine: Engine, sale_id: int) -> str:
    """What a sale's currency token credits, as the meter shows it (10^-5 units)."""
    with make_sessionmaker(engine)() as s:
        amount = s.execute(
            select(Token.amount).where(Token.sale_id == sale_id, Token.kind == "credit")
        ).scalar_one()
    assert amount is not None
    return str(Decimal(amount).scaleb(-5))


def test_amount_take_back_is_four_eyes_and_exactly_the_sale(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    second_supervisor: str,
    admin_token: str,
) -> None:
    """By amount: the ask moves nothing; the asker and an admin may not approve; a second
    supervisor's approval issues one negative currency token of exactly the sale's credit
    and refunds once. On the meter, the other sale's credit stays."""
    meter = virtual_meter(engine, shop.amount_pan, "amount", now=METER_START)
    keep = sell(client, shop.cashier_token, shop.amount_pan, "11.50").json()
    wrong = sell(client, shop.cashier_token, shop.amount_pan, "23.00").json()
    enter(meter, keep["tokens"][-1]["digits"], wrong["tokens"][-1]["digits"])
    float_before = _float(engine, shop.vendor_id)
    shows = answer(meter, "01")
    assert shows is not None

    plan = client.get(
        f"/api/v1/sales/{wrong['sale_id']}/cancel-plan",
        params={"token_used": True, "meter_credit": shows},
        headers=auth(shop.supervisor_token),
    )
    assert plan.status_code == 200, plan.text
    # the token takes exactly what the sale's token credited (receipts show it rounded
    # down to the currency's decimals: 20.00 of 20.00624)
    take = plan.json()["take"]
    assert Decimal(take).quantize(Decimal("0.01"), ROUND_DOWN) == Decimal(wrong["money_credited"])
    assert take == _exact_credit(engine, wrong["sale_id"])
    kept = _exact_credit(engine, keep["sale_id"])
    assert plan.json()["credit_after"] == kept
    assert f"goes from {shows} to {kept}" in plan.json()["preview"]

    asked = cancel(client, shop.supervisor_token, wrong["sale_id"], token_used=True)
    assert asked.status_code == 202, asked.text
    request = asked.json()["request"]
    assert (request["kind"], request["status"], request["tokens"]) == ("cancel_sale", "pending", [])
    assert f"goes down by {take}" in asked.json()["preview"]
    assert _float(engine, shop.vendor_id) == float_before  # nothing moved on asking
    assert _status(engine, wrong["sale_id"]) == "completed"

    url = f"{MGMT}/{request['id']}/approve"
    own = client.post(url, headers=auth(shop.supervisor_token))
    assert (own.status_code, own.json()["code"]) == (403, "forbidden")
    admin = client.post(url, headers=auth(admin_token))
    assert (admin.status_code, admin.json()["code"]) == (403, "segregated_duty")
    assert _status(engine, wrong["sale_id"]) == "completed"

    ok = client.post(url, headers=auth(second_supervisor))
    assert ok.status_code == 200, ok.text
    assert ok.json()["refunded_to"] == "float"  # where the money went, as a void says it
    assert ok.json()["refund_note"] == "23.00 went back to the vendor's float."
    [token] = ok.json()["tokens"]
    with make_sessionmaker(engine)() as s:
        cfg = meter_config(s, security_module, shop.amount_pan)
        credited = s.execute(
            select(Token.amount).where(Token.sale_id == wrong["sale_id"], Token.kind == "credit")
        ).scalar_one()
    assert credited is not None
    took = decode(token["digits"], cfg.key())
    assert isinstance(took, CurrencyCreditToken)
    assert took.amount == -credited
    assert took.tid > wrong["tid"]
    enter(meter, token["digits"])
    assert answer(meter, "01") == kept  # the other sale's credit stays

    again = client.post(url, headers=auth(second_supervisor))
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["tokens"] == ok.json()["tokens"]
    assert again.json()["refunded_to"] == "float"
    assert _float(engine, shop.vendor_id) == float_before + 2300
    assert _status(engine, wrong["sale_id"]) == "cancelled"
    with make_sessionmaker(engine)() as s:
        debit, credit = LedgerRepository(s).totals()
        assert debit == credit == 1150 + 2 * 2300
        actions = s.execute(select(AuditEntry.action).order_by(AuditEntry.seq)).scalars().all()
    assert actions.count("sale.cancel") == 1
    assert actions.count("mgmt.approve") == 1


def test_volume_take_back_leaves_what_the_meter_had_without_the_sale(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    second_supervisor: str,
) -> None:
    """By volume: the asker gives the credit the meter shows; approval issues clear
    credit and a credit for the rest; the meter ends with the other sale's gas (to
    0.1 m³ below, never above), and the preview said so."""
    meter = virtual_meter(engine, shop.volume_pan, "volume", now=METER_START)
    keep = sell(client, shop.cashier_token, shop.volume_pan, "12.34").json()
    wrong = sell(client, shop.cashier_token, shop.volume_pan, "30").json()
    enter(meter, keep["tokens"][-1]["digits"], wrong["tokens"][-1]["digits"])
    meter.open_key(datetime.now(UTC))
    meter.flow(1234, datetime.now(UTC))  # burn 1.234 m³ of the kept sale's gas
    shows = answer(meter, "01")
    assert shows is not None
    assert Decimal(shows) == Decimal(keep["units_credited"]) + Decimal(
        wrong["units_credited"]
    ) - Decimal("1.234")
    before = Decimal(shows)
    asked = cancel(
        client, shop.supervisor_token, wrong["sale_id"], token_used=True, meter_credit=shows
    )
    assert asked.status_code == 202, asked.text
    left = before - Decimal(wrong["units_credited"])
    floor = left.quantize(Decimal("0.1"), rounding="ROUND_DOWN")
    assert f"goes from {shows} m³ to {floor} m³" in asked.json()["preview"]
    assert "enter clear credit, then a credit of" in asked.json()["preview"]
    lost = left - floor
    assert lost > 0  # the burnt litres leave a rest finer than a token carries
    assert f"cannot carry the last {lost} m³" in asked.json()["preview"]
    with make_sessionmaker(engine)() as s:
        debt_before = s.execute(select(Customer.debt_balance)).scalar_one()

    ok = client.post(
        f"{MGMT}/{asked.json()['request']['id']}/approve", headers=auth(second_supervisor)
    )
    assert ok.status_code == 200, ok.text
    clear, rest = ok.json()["tokens"]
    with make_sessionmaker(engine)() as s:
        cfg = meter_config(s, security_module, shop.volume_pan)
    cleared, credited = decode(clear["digits"], cfg.key()), decode(rest["digits"], cfg.key())
    assert isinstance(cleared, ClearCredit)
    assert cleared.register == 2
    assert isinstance(credited, CreditToken)
    assert Decimal(credited.units) / 10 == floor
    assert wrong["tid"] < cleared.tid < credited.tid
    enter(meter, clear["digits"], rest["digits"])
    after = Decimal(answer(meter, "01") or "")
    assert after == floor
    assert left - Decimal("0.1") < after <= left  # never more than was there
    assert _status(engine, wrong["sale_id"]) == "cancelled"
    with make_sessionmaker(engine)() as s:  # the debt this sale recovered is owed again
        recovered = int(Decimal(wrong["debt_recovered"]) * 100)
        assert recovered > 0
        assert s.execute(select(Customer.debt_balance)).scalar_one() == debt_before + recovered


def test_volume_take_back_of_all_the_credit_is_one_clear_token(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    second_supervisor: str,
) -> None:
    """The meter shows just the sale's gas: clear credit alone, and the preview says 0."""
    wrong = sell(client, shop.cashier_token, shop.volume_pan, "30").json()
    asked = cancel(
        client,
        shop.supervisor_token,
        wrong["sale_id"],
        token_used=True,
        meter_credit=wrong["units_credited"],
    )
    assert asked.status_code == 202, asked.text
    assert "to 0.0 m³: enter clear credit, before any other token" in asked.json()["preview"]
    ok = client.post(
        f"{MGMT}/{asked.json()['request']['id']}/approve", headers=auth(second_supervisor)
    )
    assert [t["kind"] for t in ok.json()["tokens"]] == ["mgmt"]


@pytest.mark.parametrize("reading", ["1e3", "12,3", "+50", "١٢٣", "50.1234", "", " ", "5_0"])
def test_volume_take_back_refuses_a_bad_or_missing_reading(
    client: TestClient, shop: Shop, engine: Engine, reading: str
) -> None:
    """Not a number the meter shows (or none): 422 ``bad_meter_credit``, nothing written."""
    sale = sell(client, shop.cashier_token, shop.volume_pan, "10").json()
    before = counts(engine)
    r = cancel(
        client, shop.supervisor_token, sale["sale_id"], token_used=True, meter_credit=reading
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "bad_meter_credit"
    assert counts(engine) == before
    assert _requests(engine) == 0


@pytest.mark.parametrize("mode", ["volume", "amount"])
def test_take_back_refuses_a_meter_showing_less_than_the_sale(
    client: TestClient, shop: Shop, engine: Engine, mode: str
) -> None:
    """Part of the sale is used: 422 ``credit_below_sale`` (asking and planning), nothing
    written; the customer cannot be refunded for gas already burnt."""
    pan = shop.volume_pan if mode == "volume" else shop.amount_pan
    sale = sell(client, shop.cashier_token, pan, "10").json()
    credited = Decimal(sale["units_credited"] or sale["money_credited"])
    less = str(credited - Decimal("0.1"))
    plan = client.get(
        f"/api/v1/sales/{sale['sale_id']}/cancel-plan",
        params={"token_used": True, "meter_credit": less},
        headers=auth(shop.supervisor_token),
    )
    assert (plan.status_code, plan.json()["code"]) == (422, "credit_below_sale")
    r = cancel(client, shop.supervisor_token, sale["sale_id"], token_used=True, meter_credit=less)
    assert (r.status_code, r.json()["code"]) == (422, "credit_below_sale")
    assert "part of it is used" in r.json()["detail"]
    assert _requests(engine) == 0


def _requests(engine: Engine) -> int:
    with make_sessionmaker(engine)() as s:
        return int(s.execute(select(func.count()).select_from(ManagementRequest)).scalar_one())


def test_one_pending_take_back_per_sale_and_no_void_beside_it(
    client: TestClient, shop: Shop, engine: Engine, second_supervisor: str
) -> None:
    """A second ask, or a void, while a take-back waits: 409 ``cancel_pending``; once it
    is rejected, a void goes through."""
    sale = sell(client, shop.cashier_token, shop.amount_pan, "10").json()
    first = cancel(client, shop.supervisor_token, sale["sale_id"], token_used=True)
    assert first.status_code == 202
    again = cancel(client, second_supervisor, sale["sale_id"], token_used=True)
    assert (again.status_code, again.json()["code"]) == (409, "cancel_pending")
    void = cancel(client, second_supervisor, sale["sale_id"])
    assert (void.status_code, void.json()["code"]) == (409, "cancel_pending")
    rid = first.json()["request"]["id"]
    no = client.post(
        f"{MGMT}/{rid}/reject",
        json={"reason": "it was not entered"},
        headers=auth(second_supervisor),
    )
    assert no.status_code == 200
    assert cancel(client, second_supervisor, sale["sale_id"]).status_code == 200
    late = client.post(f"{MGMT}/{rid}/approve", headers=auth(second_supervisor))
    assert late.status_code == 409


def test_approval_after_a_void_moves_nothing(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    second_supervisor: str,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """A take-back approved after the sale was cancelled another way: 409
    ``sale_cancelled``, no token, no second refund; the request stays pending."""
    sale = sell(client, shop.cashier_token, shop.amount_pan, "10").json()
    asked = cancel(client, shop.supervisor_token, sale["sale_id"], token_used=True)
    rid = asked.json()["request"]["id"]
    with make_sessionmaker(engine).begin() as s:  # cancelled behind the request's back
        row = s.get(Sale, sale["sale_id"])
        assert row is not None
        row.status = "cancelled"
    before = counts(engine)
    r = client.post(f"{MGMT}/{rid}/approve", headers=auth(second_supervisor))
    assert (r.status_code, r.json()["code"]) == (409, "sale_cancelled")
    assert counts(engine) == before


def test_volume_approval_refuses_a_stale_reading(
    client: TestClient, shop: Shop, engine: Engine, second_supervisor: str
) -> None:
    """A token went to the meter after its credit was read: 409 ``meter_changed``, nothing
    issued (the clear credit would wipe the new sale's gas)."""
    sale = sell(client, shop.cashier_token, shop.volume_pan, "10").json()
    asked = cancel(
        client, shop.supervisor_token, sale["sale_id"], token_used=True, meter_credit="50"
    )
    assert sell(client, shop.cashier_token, shop.volume_pan, "10").status_code == 201
    before = counts(engine)
    r = client.post(
        f"{MGMT}/{asked.json()['request']['id']}/approve", headers=auth(second_supervisor)
    )
    assert (r.status_code, r.json()["code"]) == (409, "meter_changed")
    assert counts(engine) == before
    assert _status(engine, sale["sale_id"]) == "completed"


def test_ask_with_an_idempotency_key_is_one_request(
    client: TestClient, shop: Shop, engine: Engine
) -> None:
    """The same ask with the same key answers the same request; other data with the key
    is 422 ``idempotency_mismatch``."""
    sale = sell(client, shop.cashier_token, shop.volume_pan, "10").json()
    first = cancel(
        client,
        shop.supervisor_token,
        sale["sale_id"],
        token_used=True,
        meter_credit="40",
        key="form-1",
    )
    again = cancel(
        client,
        shop.supervisor_token,
        sale["sale_id"],
        token_used=True,
        meter_credit="40",
        key="form-1",
    )
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["request"]["id"] == first.json()["request"]["id"]
    other = cancel(
        client,
        shop.supervisor_token,
        sale["sale_id"],
        token_used=True,
        meter_credit="41",
        key="form-1",
    )
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_mismatch")
    assert _requests(engine) == 1


def test_take_back_is_not_asked_as_a_plain_management_request(
    client: TestClient, shop: Shop
) -> None:
    """``cancel_sale`` belongs to the sale's cancel: the generic ask is 422 invalid_input."""
    r = client.post(
        MGMT,
        json={"meter_number": shop.amount_pan, "kind": "cancel_sale", "params": {}, "reason": "x"},
        headers=auth(shop.supervisor_token),
    )
    assert (r.status_code, r.json()["code"]) == (422, "invalid_input")
