"""A login verifies the password (slow argon2id) without holding a write lock.

On SQLite a login used to take the database's one write lock before hashing,
so every sale waited behind every login. The probe runs while the password is
being verified and tries to write itself: it must get the lock at once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from stsgas.vending.models import Operator, Role
from stsgas.vending.operators import access, passwords
from tests.vending.conftest import PASSWORD


def _can_write_now(engine: Engine, operator_id: int) -> bool:
    """Whether another connection could write the operator's row without waiting."""
    if engine.dialect.name == "sqlite":
        conn = sqlite3.connect(str(engine.url.database), timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError as exc:
            return "locked" not in str(exc)  # any other failure fails the test too
        finally:
            conn.close()
    with engine.connect() as pg:
        try:
            pg.execute(
                text("SELECT id FROM operators WHERE id = :i FOR UPDATE NOWAIT"), {"i": operator_id}
            )
            return True
        except OperationalError:
            return False
        finally:
            pg.rollback()


@pytest.mark.parametrize(("password", "status"), [(PASSWORD, 200), ("not the password", 401)])
def test_the_password_is_verified_outside_any_write_lock(
    client: TestClient,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    make_operator: Callable[..., tuple[Operator, str]],
    password: str,
    status: int,
) -> None:
    """While argon2id runs, the database (SQLite) or the operator's row (PostgreSQL) is free."""
    op, _ = make_operator(Role.CASHIER, username="hasher")
    free: list[bool] = []
    real = passwords.verify_password  # the function access imported and calls

    def verify_and_probe(stored: str | None, given: str) -> bool:
        free.append(_can_write_now(engine, op.id))
        return real(stored, given)

    monkeypatch.setattr(access, "verify_password", verify_and_probe)
    r = client.post("/api/v1/auth/login", json={"username": "hasher", "password": password})
    assert r.status_code == status, r.text
    assert free == [True]  # verified once, and nothing was locked meanwhile


def test_a_wrong_password_still_counts_and_locks(
    client: TestClient,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """Moving the hash out of the write changes nothing of the lockout: ten failures lock."""
    make_operator(Role.CASHIER, username="guessed")
    codes = [
        client.post("/api/v1/auth/login", json={"username": "guessed", "password": "x"}).json()[
            "code"
        ]
        for _ in range(11)
    ]
    assert codes == ["not_authenticated"] * 10 + ["account_locked"]
