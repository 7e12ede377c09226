"""The console over HTTP: sign-in with lockout, roles, CSRF, selling once per form."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from stsgas.vending.models import Role
from tests.vending.sales.conftest import Shop, sale_count

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_pages_need_sign_in(console: TestClient) -> None:
    """Without a session every console page redirects to the sign-in form."""
    for path in ("/console", "/console/sell", "/pos", "/console/audit"):
        r = console.get(path, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/console/login?next=")


def test_wrong_password_then_lockout(console: TestClient) -> None:
    """Wrong passwords are refused; after the API's limit the form says the account is locked."""
    for _ in range(10):
        r = console.post("/console/login", data={"username": "shopcashier", "password": "bad"})
        assert r.status_code in (401, 423)
    r = console.post(
        "/console/login", data={"username": "shopcashier", "password": "correct horse battery"}
    )
    assert r.status_code == 423
    assert "locked" in r.text
    assert "stsgas_console" not in r.cookies


def test_cookie_is_httponly_and_strict(console: TestClient) -> None:
    """The session cookie cannot be read by scripts nor sent by other sites."""
    r = console.post(
        "/console/login",
        follow_redirects=False,
        data={"username": "shopcashier", "password": "correct horse battery"},
    )
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert r.headers["location"] == "/console/sell"
    sell = console.get("/console/sell")
    assert "script-src 'self'" in sell.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in sell.headers["content-security-policy"]
    assert sell.headers["cache-control"] == "no-store"


def test_cashier_cannot_open_management_pages(
    console: TestClient, signed_in: Callable[[str], str]
) -> None:
    """A cashier's menu has no management links and the pages answer 403."""
    signed_in("shopcashier")
    home = console.get("/console").text
    assert 'href="/console/management"' not in home
    assert "My sales" in home
    for path in (
        "/console/management",
        "/console/reports",
        "/console/audit",
        "/console/customers",
        "/console/meters",
    ):
        r = console.get(path)
        assert r.status_code == 403, path
        assert "Not allowed" in r.text


def test_sell_form_sells_once_per_form(
    console: TestClient, signed_in: Callable[[str], str], shop: Shop, engine: Engine
) -> None:
    """Posting one sell form twice (double submit) makes one sale and shows its receipt."""
    csrf = signed_in("shopcashier")
    form = {"meter": shop.volume_pan, "amount": "25", "idempotency_key": "form-1", "csrf": csrf}
    first = console.post("/console/sell", data=form)
    again = console.post("/console/sell", data=form)
    assert first.status_code == again.status_code == 200
    assert first.url == again.url
    assert sale_count(engine) == 1
    assert "Receipt" in first.text
    assert re.search(r'class="token" data-digits="\d{20}">\d{4}( \d{4}){4}<', first.text)
    assert "Amount paid" in first.text


def test_sell_refuses_without_csrf(
    console: TestClient, signed_in: Callable[[str], str], shop: Shop, engine: Engine
) -> None:
    """A sell form without this session's CSRF value sells nothing."""
    signed_in("shopcashier")
    r = console.post(
        "/console/sell",
        data={"meter": shop.volume_pan, "amount": "25", "idempotency_key": "k", "csrf": "0" * 32},
    )
    assert r.status_code == 403
    assert sale_count(engine) == 0


def test_bad_amount_and_blocked_meter_sell_nothing(
    console: TestClient, signed_in: Callable[[str], str], shop: Shop, engine: Engine
) -> None:
    """A bad amount or a blocked meter shows the reason and writes no sale."""
    csrf = signed_in("shopcashier")
    bad = console.post(
        "/console/sell",
        data={"meter": shop.volume_pan, "amount": "1.234", "idempotency_key": "a", "csrf": csrf},
    )
    assert bad.status_code == 422
    assert "Enter the amount paid" in bad.text
    blocked = console.post(
        "/console/sell",
        data={"meter": shop.blocked_pan, "amount": "10", "idempotency_key": "b", "csrf": csrf},
    )
    assert blocked.status_code == 422
    assert 'role="alert"' in blocked.text
    assert sale_count(engine) == 0


def test_reprint_marks_copy(
    console: TestClient, signed_in: Callable[[str], str], shop: Shop
) -> None:
    """Reprint shows the same token marked COPY."""
    csrf = signed_in("shopcashier")
    first = console.post(
        "/console/sell",
        data={"meter": shop.volume_pan, "amount": "12.50", "idempotency_key": "r", "csrf": csrf},
    )
    sale_id = first.url.path.rsplit("/", 1)[1]
    token = re.search(r'data-digits="(\d{20})"', first.text)
    assert token
    copy = console.post(f"/console/sales/{sale_id}/reprint", data={"csrf": csrf})
    assert copy.status_code == 200
    assert "COPY" in copy.text
    assert token.group(1) in copy.text


def test_auditor_sees_audit_log(
    console: TestClient, signed_in: Callable[[str], str], make_operator: Callable[..., object]
) -> None:
    """An auditor opens the audit log (the sign-in itself is in it) but not selling."""
    from stsgas.vending.models import Role

    make_operator(Role.AUDITOR, username="aud")
    signed_in("aud")
    page = console.get("/console/audit")
    assert page.status_code == 200
    assert "Audit log" in page.text
    assert console.get("/console/sell").status_code == 403


def test_sign_out_revokes_the_session(console: TestClient, signed_in: Callable[[str], str]) -> None:
    """After signing out, the old session token no longer opens any page."""
    csrf = signed_in("shopcashier")
    token = console.cookies.get("stsgas_console")
    assert token
    out = console.post("/console/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    console.cookies.set("stsgas_console", token)
    again = console.get("/console/sell", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"].startswith("/console/login")


def test_key_change_receipt_lists_key_change_tokens_first(
    console: TestClient,
    signed_in: Callable[[str], str],
    shop: Shop,
    make_operator: Any,
) -> None:
    """When a key change is due, the lookup warns and the receipt numbers KCTs before credit."""
    api = {"Authorization": f"Bearer {shop.supervisor_token}"}
    meter_id = console.get(f"/api/v1/meters/{shop.volume_pan}/lookup", headers=api).json()[
        "meter_id"
    ]
    asked = console.post(f"/api/v1/meters/{meter_id}/key-change", json={"ti": "02"}, headers=api)
    assert asked.status_code == 202, asked.text
    second = {"Authorization": f"Bearer {make_operator(Role.SUPERVISOR)[1]}"}
    moved = console.post(
        f"/api/v1/management/requests/{asked.json()['id']}/approve", headers=second
    )
    assert moved.status_code == 200, moved.text
    csrf = signed_in("shopcashier")
    lookup = console.get("/console/sell", params={"meter": shop.volume_pan})
    assert "Key change due" in lookup.text
    sold = console.post(
        "/console/sell",
        data={"meter": shop.volume_pan, "amount": "20", "idempotency_key": "kc", "csrf": csrf},
    )
    assert sold.status_code == 200
    steps = re.findall(r'<span class="step">(\d)\. ([^<]+)</span>', sold.text)
    assert [label for _, label in steps] == [
        "Key change token 1",
        "Key change token 2",
        "Credit token",
    ]
    assert "Key change: enter the tokens below" in sold.text
