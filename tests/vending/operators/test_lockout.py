"""Lockout is not a weapon: it locks one account from one source, leaves issued tokens
working, is audited, and treats unknown users exactly like known ones."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import AuditEntry, Operator, Role
from stsgas.vending.operators import passwords
from tests.vending.conftest import PASSWORD, auth

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

LOGIN = "/api/v1/auth/login"


@pytest.fixture
def attacker(app: Any) -> Iterator[TestClient]:
    """A client calling from another address than ``client``."""
    with TestClient(app, client=("203.0.113.9", 40000)) as c:
        yield c


def _guess(c: TestClient, username: str, times: int = 10) -> list[int]:
    return [
        c.post(LOGIN, json={"username": username, "password": "guess"}).status_code
        for _ in range(times)
    ]


def test_a_lock_from_one_source_spares_other_sources_and_issued_tokens(
    client: TestClient,
    attacker: TestClient,
    engine: Engine,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """Ten bad passwords against the SMS gateway's account from one address: that
    address is locked out; the gateway's device token and its owner elsewhere work."""
    gateway, device_token = make_operator(Role.CASHIER, username="sms-gateway")
    assert _guess(attacker, "sms-gateway") == [401] * 10
    locked = attacker.post(LOGIN, json={"username": "sms-gateway", "password": PASSWORD})
    assert (locked.status_code, locked.json()["code"]) == (423, "account_locked")
    assert client.get("/api/v1/auth/me", headers=auth(device_token)).status_code == 200
    elsewhere = client.post(LOGIN, json={"username": "sms-gateway", "password": PASSWORD})
    assert elsewhere.status_code == 200
    with make_sessionmaker(engine)() as s:
        entry = s.execute(
            select(AuditEntry).where(AuditEntry.action == "operator.locked")
        ).scalar_one()
    assert entry.object_id == str(gateway.id)
    assert entry.data["source"] == "203.0.113.9"


def test_an_admin_unlocks_the_account(
    client: TestClient,
    attacker: TestClient,
    admin_token: str,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """The admin sees where the account is locked out from, and lifts it."""
    op, _ = make_operator(Role.SUPERVISOR, username="sam")
    _guess(attacker, "sam")
    where = client.get(f"/api/v1/operators/{op.id}/lockouts", headers=auth(admin_token))
    assert [x["source"] for x in where.json()] == ["203.0.113.9"]
    r = client.post(f"/api/v1/operators/{op.id}/unlock", headers=auth(admin_token))
    assert r.status_code == 204
    ok = attacker.post(LOGIN, json={"username": "sam", "password": PASSWORD})
    assert ok.status_code == 200


class _Spy:
    """The real hasher, with a record of the hashes passwords were checked against."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.checked: list[str] = []

    def verify(self, password_hash: str, password: str) -> bool:
        self.checked.append(password_hash)
        return bool(self.real.verify(password_hash, password))

    def hash(self, password: str) -> str:
        return str(self.real.hash(password))


def test_unknown_and_disabled_users_cost_a_password_hash_too(
    client: TestClient,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """A login for a user that does not exist, or is disabled, still runs the hash
    (on a dummy), and gets the same answer as a wrong password."""
    op, _ = make_operator(Role.CASHIER, username="gone")
    with make_sessionmaker(engine).begin() as s:
        s.get(Operator, op.id).is_active = False  # type: ignore[union-attr]
    spy = _Spy(passwords._HASHER)
    monkeypatch.setattr(passwords, "_HASHER", spy)
    answers = [
        client.post(LOGIN, json={"username": name, "password": PASSWORD})
        for name in ("nobody", "gone")
    ]
    assert [(r.status_code, r.json()["code"]) for r in answers] == [(401, "not_authenticated")] * 2
    assert len(spy.checked) == 2
    assert all(h.startswith("$argon2id$") for h in spy.checked)


def test_unknown_users_lock_like_known_ones(client: TestClient) -> None:
    """Guessing a username that does not exist ends in the same 423: the lock does not
    tell which accounts exist."""
    assert _guess(client, "nobody") == [401] * 10
    r = client.post(LOGIN, json={"username": "nobody", "password": "x"})
    assert (r.status_code, r.json()["code"]) == (423, "account_locked")
