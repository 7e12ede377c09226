"""The office pages' forms and APIs without a browser: stale forms and bad input write
nothing, a float's history adds up, the SMS log's API is closed to other roles."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Operator, Role, SupplyGroup, Vendor
from stsgas.vending.sms import service as sms
from stsgas.vending.sms.ratelimit import RateLimit
from tests.vending.conftest import auth
from tests.vending.sales.conftest import FLOAT, Shop
from tests.vending.web.conftest import form_key, sell

STALE = "0" * 32


def _vendors(engine: Engine) -> int:
    with make_sessionmaker(engine)() as s:
        return int(s.execute(select(func.count()).select_from(Vendor)).scalar_one())


def _float(engine: Engine, vendor_id: int) -> int:
    with make_sessionmaker(engine)() as s:
        vendor = s.get(Vendor, vendor_id)
        assert vendor is not None
        return vendor.float_balance


def test_stale_or_bad_vendor_forms_write_nothing(
    console: TestClient,
    signed_in_as: Callable[[Role, str], str],
    shop: Shop,
    engine: Engine,
) -> None:
    """A stale CSRF value (create, top-up), an amount that is no amount, a negative one:
    each refused with a reason on the page, no vendor made, the float unchanged."""
    csrf = signed_in_as(Role.ADMIN, "alice")
    before = _vendors(engine)
    stale = console.post("/console/vendors", data={"name": "Late Kiosk", "csrf": STALE})
    assert stale.status_code == 403
    assert "The form was stale" in stale.text
    assert _vendors(engine) == before
    path = f"/console/vendors/{shop.vendor_id}/float"
    for amount, status, why in [
        ("100", 403, "The form was stale"),
        ("ten", 422, "Enter the amount paid in"),
        ("-5", 422, "Enter the amount paid in"),
        ("0", 422, "Enter the amount paid in"),
    ]:
        sent = csrf if status != 403 else STALE
        r = console.post(path, data={"amount": amount, "csrf": sent})
        assert r.status_code == status, (amount, r.text)
        assert why in r.text
        assert _float(engine, shop.vendor_id) == FLOAT
    missing = console.get("/console/vendors/999999")
    assert missing.status_code == 404
    assert "No such vendor" in missing.text


def test_a_top_up_form_sent_again_tops_up_once_and_with_another_amount_is_refused(
    console: TestClient,
    signed_in_as: Callable[[Role, str], str],
    shop: Shop,
    engine: Engine,
) -> None:
    """One form's key: sent twice it adds 100.00 once; sent a third time with the amount
    changed (back, edit, submit) it adds nothing, says why and offers a fresh form."""
    csrf = signed_in_as(Role.ADMIN, "alice")
    path = f"/console/vendors/{shop.vendor_id}/float"
    found = form_key(console.get(f"/console/vendors/{shop.vendor_id}").text)
    form = {"amount": "100", "csrf": csrf, "idempotency_key": found}
    for _ in range(2):
        r = console.post(path, data=form, follow_redirects=False)
        assert r.status_code == 303
        assert _float(engine, shop.vendor_id) == FLOAT + 10_000
    r = console.post(path, data={**form, "amount": "150"})
    assert r.status_code == 422
    assert "This form already topped up another amount; nothing was added" in r.text
    assert _float(engine, shop.vendor_id) == FLOAT + 10_000
    assert form_key(r.text) != found


def test_a_float_history_shows_a_sale_and_a_top_up_with_the_balance_after_each(
    console: TestClient,
    signed_in: Callable[[str], str],
    shop: Shop,
    engine: Engine,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """The shop's vendor sells for 25.00, then is topped up 10.00: newest first, each
    movement's balance after it, and the newest balance is the vendor's float."""
    sold = sell(console, signed_in("shopcashier"), shop.volume_pan, "25", "h-1")
    assert sold.status_code == 200
    _admin, token = make_operator(Role.ADMIN, username="alice")
    top = console.post(
        f"/api/v1/vendors/{shop.vendor_id}/float", json={"amount": "10"}, headers=auth(token)
    )
    assert top.status_code == 200, top.text
    r = console.get(f"/api/v1/vendors/{shop.vendor_id}/float/history", headers=auth(token))
    assert r.status_code == 200, r.text
    moves = r.json()
    assert moves[0]["amount"] == 1_000
    assert moves[0]["sale_id"] is None
    assert moves[0]["balance"] == _float(engine, shop.vendor_id)
    assert -2_500 <= moves[1]["amount"] < 0  # the sale drew what it was paid (at most 25.00)
    assert FLOAT + moves[1]["amount"] + 1_000 == _float(engine, shop.vendor_id)
    assert moves[1]["sale_id"] is not None
    assert moves[1]["balance"] == moves[0]["balance"] - 1_000
    older = console.get(
        f"/api/v1/vendors/{shop.vendor_id}/float/history",
        params={"before_id": moves[0]["id"], "limit": 1},
        headers=auth(token),
    ).json()
    assert older == moves[1:2]
    refused = console.get(
        f"/api/v1/vendors/{shop.vendor_id}/float/history", headers=auth(shop.cashier_token)
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"


def test_a_stale_supply_group_form_adds_nothing(
    console: TestClient,
    signed_in_as: Callable[[Role, str], str],
    engine: Engine,
) -> None:
    """Without this session's CSRF value the key revision is not added."""
    signed_in_as(Role.ADMIN, "alice")
    form = {"sgc": "654321", "krn": "3", "vending_key": "ab" * 24, "csrf": STALE}
    r = console.post("/console/supply-groups", data=form)
    assert r.status_code == 403
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(SupplyGroup).where(SupplyGroup.sgc == "654321")).first() is None


def test_the_sms_log_api_masks_phones_and_is_for_admins_and_auditors(
    client: TestClient,
    engine: Engine,
    shop: Shop,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """One message over the phone's limit: listed as rate limited, no reply, the number
    masked; the gateway answer holds no secret; cashiers and supervisors get 403."""
    sm = make_sessionmaker(engine)
    none_left = RateLimit(limit=0, window=sms.window(60))
    limits = sms.Limits(per_phone=none_left, per_meter=none_left, per_customer=none_left)
    msg = sms.Inbound(phone="+255 711 000 333", text="HELP", message_id="gw-9")
    assert isinstance(sms.admit(sm, msg, limits, datetime.now(UTC)), sms.Settled)
    _a, auditor = make_operator(Role.AUDITOR, username="audrey")
    (row,) = client.get("/api/v1/sms/messages", headers=auth(auditor)).json()
    assert row["phone"] == "*********333"
    assert row["status"] == "rate_limited"
    assert row["reply"] is None
    assert row["message_id"] == "gw-9"
    gateway = client.get("/api/v1/sms/gateway", headers=auth(auditor)).json()
    assert gateway["outbound"] == "memory"
    assert set(gateway) == {
        "outbound",
        "inbound_enabled",
        "operator",
        "per_phone_limit",
        "per_meter_limit",
        "per_customer_limit",
        "window_minutes",
    }
    for token in (shop.cashier_token, shop.supervisor_token):
        for path in ("/api/v1/sms/messages", "/api/v1/sms/gateway"):
            assert client.get(path, headers=auth(token)).status_code == 403
