"""Access can be taken away: disable, reset, revoke; everyone changes their own
password; API tokens always expire, at most after the configured lifetime."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import AuditEntry, Operator, Role, utcnow
from stsgas.vending.settings import Settings
from tests.vending.conftest import PASSWORD, app_with, auth

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
TEMP = "temporary pass 1"
NEW = "my own new secret"


def _login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    return client.post(LOGIN, json={"username": username, "password": password})


def _change(client: TestClient, username: str, old: str, new: str) -> Any:
    return client.post(
        "/api/v1/auth/password",
        json={"username": username, "old_password": old, "new_password": new},
    )


def test_disabling_ends_login_and_every_token(
    client: TestClient,
    admin_token: str,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """A disabled account's tokens answer 401 and its password signs in no more."""
    op, token = make_operator(Role.CASHIER, username="cas")
    r = client.post(f"/api/v1/operators/{op.id}/disable", headers=auth(admin_token))
    assert (r.status_code, r.json()["is_active"]) == (200, False)
    assert client.get(ME, headers=auth(token)).status_code == 401
    assert _login(client, "cas").status_code == 401


def test_a_reset_password_must_be_changed_before_signing_in(
    client: TestClient,
    admin_token: str,
    engine: Engine,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """The admin's temporary password gets no token (403 password_change_required) until
    the owner changes it; the reset revokes the old tokens and needs a new activation."""
    op, token = make_operator(Role.SUPERVISOR, username="sam")
    r = client.post(
        f"/api/v1/operators/{op.id}/password", json={"password": TEMP}, headers=auth(admin_token)
    )
    assert r.status_code == 200, r.text
    assert r.json()["must_change_password"] is True
    assert r.json()["activated_at"] is None
    assert client.get(ME, headers=auth(token)).status_code == 401
    refused = _login(client, "sam", TEMP)
    assert (refused.status_code, refused.json()["code"]) == (403, "password_change_required")
    assert _change(client, "sam", TEMP, NEW).status_code == 204
    assert _login(client, "sam", TEMP).status_code == 401
    me = client.get(ME, headers=auth(_login(client, "sam", NEW).json()["access_token"]))
    assert me.json()["must_change_password"] is False
    with make_sessionmaker(engine)() as s:
        actions = s.execute(select(AuditEntry.action)).scalars().all()
    assert {"operator.password_reset", "operator.password_change"} <= set(actions)


def test_everyone_changes_their_own_password_with_the_old_one(
    client: TestClient,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """A wrong old password is 401, the same password again 422; a change ends sign-in
    sessions but leaves the named API tokens of devices working."""
    _, device = make_operator(Role.CASHIER, username="cas")
    session = _login(client, "cas").json()["access_token"]
    wrong = _change(client, "cas", "not it", NEW)
    assert (wrong.status_code, wrong.json()["code"]) == (401, "not_authenticated")
    same = _change(client, "cas", PASSWORD, PASSWORD)
    assert (same.status_code, same.json()["code"]) == (422, "invalid_input")
    assert _change(client, "cas", PASSWORD, NEW).status_code == 204
    assert client.get(ME, headers=auth(session)).status_code == 401
    assert client.get(ME, headers=auth(device)).status_code == 200
    assert _login(client, "cas", NEW).status_code == 200


def test_an_admin_revokes_one_token(
    client: TestClient,
    admin_token: str,
    supervisor_token: str,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """The admin lists an account's tokens (no secrets) and revokes one; the other stays."""
    op, first = make_operator(Role.CASHIER, username="cas")
    second = _login(client, "cas").json()["access_token"]
    listed = client.get(f"/api/v1/operators/{op.id}/tokens", headers=auth(admin_token))
    assert [t["name"] for t in listed.json()] == ["login", "test"]
    assert first not in listed.text
    assert "token_hash" not in listed.text
    tid = listed.json()[0]["id"]
    url = f"/api/v1/operators/{op.id}/tokens/{tid}/revoke"
    assert client.post(url, headers=auth(supervisor_token)).status_code == 403
    r = client.post(url, headers=auth(admin_token))
    assert r.json()["revoked_at"] is not None
    assert client.get(ME, headers=auth(second)).status_code == 401
    assert client.get(ME, headers=auth(first)).status_code == 200


def test_an_admin_does_not_administer_himself(client: TestClient, admin_token: str) -> None:
    """Disabling, resetting or activating one's own account is 403 segregated_duty."""
    me = client.get(ME, headers=auth(admin_token)).json()["id"]
    for action, body in (("disable", None), ("password", {"password": TEMP}), ("activate", None)):
        r = client.post(f"/api/v1/operators/{me}/{action}", json=body, headers=auth(admin_token))
        assert (r.status_code, r.json()["code"]) == (403, "segregated_duty"), action


def test_api_tokens_always_expire_within_the_maximum(
    settings: Settings,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """No lifetime asked: the maximum (never 'until revoked'); more than it: 422."""
    app = app_with(settings, engine, security_module, api_token_max_hours=48)
    _, token = make_operator(Role.CASHIER, username="cas")
    with TestClient(app) as client:
        default = client.post("/api/v1/auth/tokens", json={"name": "pos-1"}, headers=auth(token))
        assert default.status_code == 201, default.text
        left = default.json()["expires_at"]
        assert left is not None
        too_long = client.post(
            "/api/v1/auth/tokens", json={"name": "pos-2", "ttl_hours": 49}, headers=auth(token)
        )
        assert (too_long.status_code, too_long.json()["code"]) == (422, "token_lifetime_too_long")
    expires = datetime.fromisoformat(left)
    assert timedelta(hours=47) < expires - utcnow() <= timedelta(hours=48)
