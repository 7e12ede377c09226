"""Four eyes means two people: admins administer, others ask and approve, and an
account an admin vouches for approves only once a second admin activates it."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import AuditEntry, Operator, Role, Token
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop

URL = "/api/v1/management/requests"
TEMP = "temporary pass 1"


def _new_supervisor(client: TestClient, admin: str, username: str) -> tuple[int, str]:
    r = client.post(
        "/api/v1/operators",
        headers=auth(admin),
        json={"username": username, "role": "supervisor", "password": TEMP},
    )
    assert r.status_code == 201, r.text
    assert r.json()["activated_at"] is None
    login = client.post("/api/v1/auth/login", json={"username": username, "password": TEMP})
    assert login.status_code == 200, login.text
    return int(r.json()["id"]), login.json()["access_token"]


def _ask(client: TestClient, token: str, pan: str) -> httpx.Response:
    r: httpx.Response = client.post(
        URL,
        headers=auth(token),
        json={"meter_number": pan, "kind": "clear_tamper", "params": {}, "reason": "seal broken"},
    )
    return r


def _tokens(engine: Engine) -> int:
    with make_sessionmaker(engine)() as s:
        return int(s.execute(select(func.count()).select_from(Token)).scalar_one())


def test_an_admin_cannot_approve_through_accounts_he_made(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """The insider with two accounts: admin Alice makes two supervisors, asks through one
    and approves through the other. Refused until admin Bob activates the approver."""
    _, alice = make_operator(Role.ADMIN, username="alice")
    _, bob = make_operator(Role.ADMIN, username="bob")
    _s1, asker = _new_supervisor(client, alice, "mallory1")
    s2, approver = _new_supervisor(client, alice, "mallory2")
    req = _ask(client, asker, shop.volume_pan)
    assert req.status_code == 201, req.text
    rid = req.json()["id"]
    refused = client.post(f"{URL}/{rid}/approve", headers=auth(approver))
    assert (refused.status_code, refused.json()["code"]) == (403, "account_not_activated")
    own = client.post(f"/api/v1/operators/{s2}/activate", headers=auth(alice))
    assert (own.status_code, own.json()["code"]) == (403, "segregated_duty")
    assert _tokens(engine) == 0
    ok = client.post(f"/api/v1/operators/{s2}/activate", headers=auth(bob))
    assert ok.status_code == 200, ok.text
    assert ok.json()["activated_at"] is not None
    approved = client.post(f"{URL}/{rid}/approve", headers=auth(approver))
    assert approved.status_code == 200, approved.text
    assert _tokens(engine) == 1
    with make_sessionmaker(engine)() as s:
        actions = s.execute(select(AuditEntry.action, AuditEntry.actor)).all()
    assert ("operator.activate", "bob") in actions


def test_admins_neither_ask_nor_approve(
    client: TestClient, shop: Shop, admin_token: str, approver_token: str
) -> None:
    """An admin asking or approving is 403 segregated_duty, whatever the request."""
    asked = _ask(client, admin_token, shop.volume_pan)
    assert (asked.status_code, asked.json()["code"]) == (403, "segregated_duty")
    rid = _ask(client, shop.supervisor_token, shop.volume_pan).json()["id"]
    for action in ("approve", "reject"):
        r = client.post(f"{URL}/{rid}/{action}", json={"reason": "x"}, headers=auth(admin_token))
        assert (r.status_code, r.json()["code"]) == (403, "segregated_duty")
    assert client.post(f"{URL}/{rid}/approve", headers=auth(approver_token)).status_code == 200


def test_a_re_enabled_account_needs_a_second_admin_again(
    client: TestClient,
    shop: Shop,
    approver_token: str,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """Disable and re-enable an active approver: it approves nothing until activated."""
    _, alice = make_operator(Role.ADMIN, username="alice")
    _, bob = make_operator(Role.ADMIN, username="bob")
    me = client.get("/api/v1/auth/me", headers=auth(approver_token)).json()
    assert me["activated_at"] is not None
    assert (
        client.post(f"/api/v1/operators/{me['id']}/disable", headers=auth(alice)).status_code == 200
    )
    assert client.get("/api/v1/auth/me", headers=auth(approver_token)).status_code == 401
    assert (
        client.post(f"/api/v1/operators/{me['id']}/enable", headers=auth(alice)).status_code == 200
    )
    token = client.post(
        "/api/v1/auth/login", json={"username": "approver", "password": "correct horse battery"}
    ).json()["access_token"]
    rid = _ask(client, shop.supervisor_token, shop.volume_pan).json()["id"]
    r = client.post(f"{URL}/{rid}/approve", headers=auth(token))
    assert (r.status_code, r.json()["code"]) == (403, "account_not_activated")
    assert (
        client.post(f"/api/v1/operators/{me['id']}/activate", headers=auth(bob)).status_code == 200
    )
    assert client.post(f"{URL}/{rid}/approve", headers=auth(token)).status_code == 200
