"""A float top-up happens once per ``Idempotency-Key`` (issue 11/13): a double click
or a retry after a timeout replays the first answer instead of paying in twice."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import Account, AuditEntry, LedgerEntry, Operator, Role, Vendor
from tests.vending.conftest import auth
from tests.vending.sales.live import serve

RACERS = 6


def _vendor(client: TestClient, token: str, name: str = "Kiosk") -> int:
    r = client.post("/api/v1/vendors", json={"name": name}, headers=auth(token))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _top_up(
    client: TestClient, token: str, vid: int, amount: Any, key: str | None
) -> httpx.Response:
    headers = auth(token) | ({"Idempotency-Key": key} if key is not None else {})
    r: httpx.Response = client.post(
        f"/api/v1/vendors/{vid}/float", json={"amount": amount}, headers=headers
    )
    return r


def _float_moves(engine: Engine, vid: int) -> list[int]:
    """Credits to the vendor's float account in the ledger (one per top-up)."""
    account = ledger.vendor_float_account(vid)
    with make_sessionmaker(engine)() as s:
        return list(
            s.execute(
                select(LedgerEntry.credit)
                .join(Account, Account.id == LedgerEntry.account_id)
                .where(Account.code == account)
            ).scalars()
        )


def _balance(engine: Engine, vid: int) -> int:
    with make_sessionmaker(engine)() as s:
        vendor = s.get(Vendor, vid)
        assert vendor is not None
        return vendor.float_balance


def test_the_same_key_twice_tops_up_once_and_replays_the_answer(
    client: TestClient, admin_token: str, engine: Engine
) -> None:
    """The retry answers the first top-up's body (marked replayed); the float, the
    ledger and the audit trail hold one top-up."""
    vid = _vendor(client, admin_token)
    first = _top_up(client, admin_token, vid, "500", "till-7-topup-1")
    again = _top_up(client, admin_token, vid, "500", "till-7-topup-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert first.json()["float_balance"] == 50_000
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _balance(engine, vid) == 50_000
    assert _float_moves(engine, vid) == [50_000]
    with make_sessionmaker(engine)() as s:
        audited = s.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "vendor.float_topup")
        ).scalar_one()
    assert audited == 1


def test_a_replay_answers_the_first_body_after_later_top_ups(
    client: TestClient, admin_token: str, engine: Engine
) -> None:
    """A late retry gets the balance its own top-up left, not today's float."""
    vid = _vendor(client, admin_token)
    first = _top_up(client, admin_token, vid, "100", "k-1")
    assert _top_up(client, admin_token, vid, "50", "k-2").json()["float_balance"] == 15_000
    late = _top_up(client, admin_token, vid, "100", "k-1")
    assert late.json() == first.json() == {**first.json(), "float_balance": 10_000}
    assert _balance(engine, vid) == 15_000


@pytest.mark.parametrize(
    ("amount", "other_vendor"), [("501", False), ("500", True)], ids=["amount", "vendor"]
)
def test_the_key_with_other_data_is_refused_and_writes_nothing(
    client: TestClient, admin_token: str, engine: Engine, amount: str, other_vendor: bool
) -> None:
    """Another amount or another vendor under a used key is 422 idempotency_mismatch
    (the code sales answer), and nothing moves."""
    vid = _vendor(client, admin_token)
    other = _vendor(client, admin_token, "Other kiosk")
    assert _top_up(client, admin_token, vid, "500", "k-1").status_code == 200
    r = _top_up(client, admin_token, other if other_vendor else vid, amount, "k-1")
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "idempotency_mismatch"
    assert _balance(engine, vid) == 50_000
    assert _balance(engine, other) == 0
    assert _float_moves(engine, vid) == [50_000]
    assert _float_moves(engine, other) == []


def test_keys_are_scoped_to_the_operator(
    client: TestClient,
    admin_token: str,
    engine: Engine,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """Two admins who happen to pick the same key each top up (like sales' keys)."""
    other_admin = make_operator(Role.ADMIN, username="admin2")[1]
    vid = _vendor(client, admin_token)
    assert _top_up(client, admin_token, vid, "10", "shared").status_code == 200
    r = _top_up(client, other_admin, vid, "10", "shared")
    assert r.status_code == 200
    assert "Idempotent-Replayed" not in r.headers
    assert _balance(engine, vid) == 2_000


def test_without_a_key_each_request_tops_up_and_an_empty_key_is_refused(
    client: TestClient, admin_token: str, engine: Engine
) -> None:
    """The header is optional, as for sales; a blank one is 422 invalid_input."""
    vid = _vendor(client, admin_token)
    assert _top_up(client, admin_token, vid, "10", None).status_code == 200
    assert _top_up(client, admin_token, vid, "10", None).status_code == 200
    blank = _top_up(client, admin_token, vid, "10", "  ")
    assert blank.status_code == 422
    assert blank.json()["code"] == "invalid_input"
    assert _balance(engine, vid) == 2_000


def test_a_refused_top_up_does_not_use_up_its_key(
    client: TestClient, admin_token: str, engine: Engine
) -> None:
    """A top-up of an unknown vendor is 404 and keeps nothing: the key then works."""
    vid = _vendor(client, admin_token)
    assert _top_up(client, admin_token, vid + 1000, "10", "k").status_code == 404
    assert _top_up(client, admin_token, vid, "10", "k").status_code == 200
    assert _balance(engine, vid) == 1_000


@pytest.fixture
def live(app: Any, client: TestClient) -> Iterator[str]:
    """The app on a real uvicorn server (``client`` only seeds through the API)."""
    with serve(app) as base_url:
        yield base_url


def test_racing_posts_of_one_key_top_up_once(
    client: TestClient, admin_token: str, engine: Engine, live: str
) -> None:
    """RACERS threads post the same key at once to a live server: one ledger
    movement, the float raised once, every answer the same body."""
    vid = _vendor(client, admin_token)
    barrier = threading.Barrier(RACERS)
    headers = auth(admin_token) | {"Idempotency-Key": "double-click"}

    def post(_: int) -> httpx.Response:
        with httpx.Client(base_url=live, timeout=60) as c:
            barrier.wait(timeout=30)
            return c.post(f"/api/v1/vendors/{vid}/float", json={"amount": "700"}, headers=headers)

    with ThreadPoolExecutor(RACERS) as pool:
        answers = list(pool.map(post, range(RACERS)))
    assert [r.status_code for r in answers] == [200] * RACERS, [r.text for r in answers]
    assert {r.json()["float_balance"] for r in answers} == {70_000}
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers) == RACERS - 1
    assert _float_moves(engine, vid) == [70_000]
    assert _balance(engine, vid) == 70_000
