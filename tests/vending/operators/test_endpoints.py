"""Login, bearer tokens, lockout and the operator/vendor endpoints."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import ApiToken, AuditEntry, LoginFailure, Operator, Role, utcnow
from tests.vending.conftest import PASSWORD, auth


def test_login_returns_a_token_that_authenticates(
    client: TestClient, make_operator: Callable[..., tuple[Operator, str]]
) -> None:
    """A correct password gives a bearer token; /auth/me names its operator."""
    make_operator(Role.SUPERVISOR, username="sam")
    r = client.post("/api/v1/auth/login", json={"username": "sam", "password": PASSWORD})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    me = client.get("/api/v1/auth/me", headers=auth(token))
    assert me.json()["username"] == "sam"
    assert "password_hash" not in me.json()


def test_api_tokens_are_stored_hashed(
    client: TestClient, engine: Engine, make_operator: Callable[..., tuple[Operator, str]]
) -> None:
    """The database holds only a hash of the token, never the secret."""
    make_operator(Role.ADMIN, username="root")
    token = client.post(
        "/api/v1/auth/login", json={"username": "root", "password": PASSWORD}
    ).json()["access_token"]
    with make_sessionmaker(engine)() as s:
        hashes = s.execute(select(ApiToken.token_hash)).scalars().all()
    assert token not in hashes
    assert all(len(h) == 64 for h in hashes)


def test_wrong_password_is_problem_json(
    client: TestClient, make_operator: Callable[..., tuple[Operator, str]]
) -> None:
    """A wrong password answers 401 problem+json with code not_authenticated."""
    make_operator(Role.ADMIN, username="root")
    r = client.post("/api/v1/auth/login", json={"username": "root", "password": "nope"})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "not_authenticated"


def test_ten_failures_lock_the_account_from_that_source_for_thirty_minutes(
    client: TestClient, engine: Engine, make_operator: Callable[..., tuple[Operator, str]]
) -> None:
    """After 10 wrong passwords from one address even the right one is refused there
    (423) for 30 minutes, and the lock is audited."""
    make_operator(Role.CASHIER, username="cas")
    for _ in range(10):
        r = client.post("/api/v1/auth/login", json={"username": "cas", "password": "bad"})
        assert r.status_code == 401
    r = client.post("/api/v1/auth/login", json={"username": "cas", "password": PASSWORD})
    assert r.status_code == 423
    assert r.json()["code"] == "account_locked"
    with make_sessionmaker(engine)() as s:
        row = s.execute(select(LoginFailure).where(LoginFailure.username == "cas")).scalar_one()
        assert row.source == "testclient"
        assert row.locked_until is not None
        assert row.locked_until - utcnow() > timedelta(minutes=29)
        actions = s.execute(select(AuditEntry.action)).scalars().all()
    assert "operator.locked" in actions


def test_missing_or_bad_token_is_401(client: TestClient) -> None:
    """No token or an unknown token answers 401 with WWW-Authenticate."""
    r = client.get("/api/v1/auth/me")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/auth/me", headers=auth("sts_nope")).status_code == 401


def test_admin_creates_cashier_for_a_vendor(client: TestClient, admin_token: str) -> None:
    """An admin adds a vendor and a cashier selling for it; the cashier can log in."""
    v = client.post("/api/v1/vendors", json={"name": "Kiosk 9"}, headers=auth(admin_token))
    assert v.status_code == 201
    r = client.post(
        "/api/v1/operators",
        json={
            "username": "kim",
            "role": "cashier",
            "password": "long enough",
            "vendor_id": v.json()["id"],
        },
        headers=auth(admin_token),
    )
    assert r.status_code == 201, r.text
    login = client.post("/api/v1/auth/login", json={"username": "kim", "password": "long enough"})
    assert login.status_code == 200


def test_duplicate_operator_is_409_and_writes_nothing(
    client: TestClient, admin_token: str, engine: Engine
) -> None:
    """A second operator with a taken name is refused with already_exists."""
    body = {"username": "dup", "role": "auditor", "password": "long enough"}
    assert client.post("/api/v1/operators", json=body, headers=auth(admin_token)).status_code == 201
    r = client.post("/api/v1/operators", json=body, headers=auth(admin_token))
    assert r.status_code == 409
    assert r.json()["code"] == "already_exists"
    with make_sessionmaker(engine)() as s:
        assert len(s.execute(select(Operator).where(Operator.username == "dup")).all()) == 1


def test_cashier_without_vendor_is_refused(client: TestClient, admin_token: str) -> None:
    """A cashier must belong to a vendor."""
    r = client.post(
        "/api/v1/operators",
        json={"username": "lone", "role": "cashier", "password": "long enough"},
        headers=auth(admin_token),
    )
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"


def test_float_top_up_is_posted_to_the_ledger(
    client: TestClient, admin_token: str, engine: Engine
) -> None:
    """A top-up raises the vendor's float and posts one balanced journal."""
    from sqlalchemy import func

    from stsgas.vending.models import LedgerEntry

    vid = client.post("/api/v1/vendors", json={"name": "K"}, headers=auth(admin_token)).json()["id"]
    r = client.post(
        f"/api/v1/vendors/{vid}/float", json={"amount": "123.45"}, headers=auth(admin_token)
    )
    assert r.json()["float_balance"] == 12_345
    with make_sessionmaker(engine)() as s:
        debit, credit = s.execute(
            select(func.sum(LedgerEntry.debit), func.sum(LedgerEntry.credit))
        ).one()
    assert debit == credit == 12_345


def test_a_top_up_is_in_major_units_like_a_sale(client: TestClient, admin_token: str) -> None:
    """``1000`` tops up 1000.00 (minor units 100000), as a sale of ``1000`` is 1000.00."""
    vid = client.post("/api/v1/vendors", json={"name": "K"}, headers=auth(admin_token)).json()["id"]
    r = client.post(
        f"/api/v1/vendors/{vid}/float", json={"amount": 1000}, headers=auth(admin_token)
    )
    assert r.status_code == 200, r.text
    assert r.json()["float_balance"] == 100_000


def test_bad_top_up_amounts_write_nothing(client: TestClient, admin_token: str) -> None:
    """Anything but a positive amount in the one money spelling is bad_amount; the float
    stays 0."""
    vid = client.post("/api/v1/vendors", json={"name": "K"}, headers=auth(admin_token)).json()["id"]
    for amount in (
        0,
        -5,
        1.5,
        10.0,
        True,
        "ten",
        "1e3",
        "1e309",
        "1_000",
        "+5",
        "\u0665",
        "1.234",
        " 5",
        2**64,
    ):
        r = client.post(
            f"/api/v1/vendors/{vid}/float", json={"amount": amount}, headers=auth(admin_token)
        )
        assert (r.status_code, r.json()["code"]) == (422, "bad_amount"), amount
    assert (
        client.get(f"/api/v1/vendors/{vid}", headers=auth(admin_token)).json()["float_balance"] == 0
    )


def test_named_api_token_for_a_device(client: TestClient, cashier_token: str) -> None:
    """An operator mints a named token for a POS device; it authenticates as that operator."""
    r = client.post(
        "/api/v1/auth/tokens",
        json={"name": "POS terminal 7", "ttl_hours": 24},
        headers=auth(cashier_token),
    )
    assert r.status_code == 201, r.text
    device = r.json()["access_token"]
    assert device != cashier_token
    assert r.json()["expires_at"] is not None
    assert client.get("/api/v1/auth/me", headers=auth(device)).json()["username"] == "cashier"
