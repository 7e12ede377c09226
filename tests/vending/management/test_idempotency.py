"""Retrying management requests is safe (V1): Idempotency-Key on asks, repeated decisions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from stsgas.vending import transaction
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.management import requests, service
from stsgas.vending.models import (
    AuditEntry,
    ManagementKind,
    ManagementRequest,
    Meter,
    Operator,
    Token,
)
from tests.problems import problem
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop

URL = "/api/v1/management/requests"
THREADS = 8


def _body(pan: str, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "meter_number": pan,
        "kind": "key_change",
        "params": {"ti": "07"},
        "reason": "tariff index move",
    }
    body.update(over)
    return body


def _ask(client: TestClient, token: str, body: dict[str, Any], key: str | None) -> Any:
    headers = auth(token) | ({"Idempotency-Key": key} if key is not None else {})
    return client.post(URL, json=body, headers=headers)


def _count(engine: Engine, model: type, *where: Any) -> int:
    with make_sessionmaker(engine)() as s:
        return int(s.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def _operator_id(engine: Engine, username: str) -> int:
    with make_sessionmaker(engine)() as s:
        return int(s.execute(select(Operator.id).where(Operator.username == username)).scalar_one())


def test_retry_with_the_same_key_returns_the_same_request(
    client: TestClient, shop: Shop, engine: Engine
) -> None:
    """Same key, same data: the same body again, flagged replayed; one row, one audit entry."""
    first = _ask(client, shop.supervisor_token, _body(shop.volume_pan), "mgmt-1")
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    # the meter number written with spaces and dashes is the same meter number
    pan = shop.volume_pan
    spaced = f"{pan[:4]} {pan[4:8]}-{pan[8:]}"
    again = _ask(client, shop.supervisor_token, _body(spaced), "mgmt-1")
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert _count(engine, ManagementRequest) == 1
    assert _count(engine, AuditEntry, AuditEntry.action == "mgmt.request") == 1
    with make_sessionmaker(engine)() as s:
        row = s.execute(select(ManagementRequest)).scalar_one()
        assert row.idempotency_key == "mgmt-1"
        assert row.request_fingerprint is not None
        assert len(row.request_fingerprint) == 64


def test_replay_after_approval_shows_the_request_as_it_is_now(
    client: TestClient, shop: Shop, approver_token: str, engine: Engine
) -> None:
    """A late retry returns the same request, now issued with its tokens; nothing new."""
    first = _ask(client, shop.supervisor_token, _body(shop.volume_pan), "late")
    issued = client.post(f"{URL}/{first.json()['id']}/approve", headers=auth(approver_token))
    assert issued.status_code == 200, issued.text
    again = _ask(client, shop.supervisor_token, _body(shop.volume_pan), "late")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == issued.json()
    assert again.json()["status"] == "issued"
    assert _count(engine, ManagementRequest) == 1
    assert _count(engine, Token) == 2


@pytest.mark.parametrize(
    "change",
    [
        {"reason": "another reason"},
        {"params": {"ti": "08"}},
        {"kind": "clear_tamper", "params": {}},
        {"meter_number": "amount"},
    ],
)
def test_same_key_with_other_data_is_refused(
    client: TestClient, shop: Shop, engine: Engine, change: dict[str, Any]
) -> None:
    """The key reused for a different meter, kind, params or reason: 422, nothing written."""
    assert _ask(client, shop.supervisor_token, _body(shop.volume_pan), "k").status_code == 201
    if change.get("meter_number") == "amount":
        change = {"meter_number": shop.amount_pan}
    r = _ask(client, shop.supervisor_token, _body(shop.volume_pan, **change), "k")
    problem(r, 422, "idempotency_mismatch")
    assert _count(engine, ManagementRequest) == 1
    assert _count(engine, AuditEntry, AuditEntry.action == "mgmt.request") == 1


def test_keys_belong_to_one_operator(
    client: TestClient, shop: Shop, approver_token: str, engine: Engine
) -> None:
    """Two operators may use the same key text: two requests, neither replayed."""
    a = _ask(client, shop.supervisor_token, _body(shop.volume_pan), "shared")
    b = _ask(client, approver_token, _body(shop.volume_pan), "shared")
    assert a.status_code == b.status_code == 201
    assert "Idempotent-Replayed" not in b.headers
    assert a.json()["id"] != b.json()["id"]
    assert _count(engine, ManagementRequest) == 2


@pytest.mark.parametrize("key", ["", "   ", "x" * 256])
def test_empty_or_overlong_key_is_refused(
    client: TestClient, shop: Shop, engine: Engine, key: str
) -> None:
    """An empty, blank or over-long Idempotency-Key: 422 invalid_input, nothing written."""
    r = _ask(client, shop.supervisor_token, _body(shop.volume_pan), key)
    problem(r, 422, "invalid_input")
    assert _count(engine, ManagementRequest) == 0
    assert _count(engine, AuditEntry, AuditEntry.action == "mgmt.request") == 0


def test_without_a_key_each_ask_is_a_new_request(
    client: TestClient, shop: Shop, engine: Engine
) -> None:
    """No key: no deduplication (as before)."""
    for _ in range(2):
        assert _ask(client, shop.supervisor_token, _body(shop.volume_pan), None).status_code == 201
    assert _count(engine, ManagementRequest) == 2


def _asker(engine: Engine, operator_id: int, pan: str) -> Callable[[str], tuple[int, bool]]:
    """Ask in a thread of its own (own session, own transaction), as a server worker would."""
    barrier = threading.Barrier(THREADS)

    def ask(key: str) -> tuple[int, bool]:
        with make_sessionmaker(engine)() as s:
            operator = s.get(Operator, operator_id)
            assert operator is not None
            s.commit()  # give the connection back: the pool may be smaller than THREADS
            barrier.wait(timeout=30)

            def unit() -> tuple[int, bool]:
                asked = service.ask(
                    s,
                    operator=operator,
                    meter_number=pan,
                    kind=ManagementKind.KEY_CHANGE,
                    params={"ti": "07"},
                    reason="twins",
                    idempotency_key=key,
                )
                return asked.request.id, asked.replayed

            return transaction.run(s, unit, idempotent=True)

    return ask


def test_concurrent_twins_make_one_request(shop: Shop, engine: Engine) -> None:
    """One key sent by N threads at once: one row and one audit entry; all answer it."""
    ask = _asker(engine, _operator_id(engine, "shopsuper"), shop.volume_pan)
    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(ask, ["twin"] * THREADS))
    assert len({rid for rid, _ in answers}) == 1
    assert sorted(replayed for _, replayed in answers) == [False] + [True] * (THREADS - 1)
    assert _count(engine, ManagementRequest) == 1
    assert _count(engine, AuditEntry, AuditEntry.action == "mgmt.request") == 1


def test_twin_that_loses_the_insert_replays_the_winner(
    shop: Shop, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race made certain: the look-up misses a twin that has committed meanwhile,
    the insert hits the unique key, and the re-run transaction replays the twin."""
    operator_id = _operator_id(engine, "shopsuper")
    with make_sessionmaker(engine)() as s:
        op = s.get(Operator, operator_id)
        assert op is not None

        def ask() -> service.Asked:
            return service.ask(
                s,
                operator=op,
                meter_number=shop.volume_pan,
                kind=ManagementKind.CLEAR_TAMPER,
                params={},
                reason="twin",
                idempotency_key="race",
            )

        winner = transaction.run(s, ask, idempotent=True)
        winner_id = winner.request.id
        real = requests.by_key
        calls: list[int] = []

        def miss_once(session: Any, oid: int, key: str) -> ManagementRequest | None:
            calls.append(oid)
            return None if len(calls) == 1 else real(session, oid, key)

        monkeypatch.setattr(requests, "by_key", miss_once)
        loser = transaction.run(s, ask, idempotent=True)
        assert len(calls) == 2  # the first try failed on the unique key and was re-run
        assert loser.replayed
        assert loser.request.id == winner_id
    assert _count(engine, ManagementRequest) == 1
    assert _count(engine, AuditEntry, AuditEntry.action == "mgmt.request") == 1


def test_approve_retried_returns_the_same_tokens(
    client: TestClient, shop: Shop, approver_token: str, engine: Engine
) -> None:
    """The approver sending approve again gets the issued tokens again: one token set."""
    rid = _ask(client, shop.supervisor_token, _body(shop.volume_pan), "a").json()["id"]
    first = client.post(f"{URL}/{rid}/approve", headers=auth(approver_token))
    assert first.status_code == 200, first.text
    assert "Idempotent-Replayed" not in first.headers
    with make_sessionmaker(engine)() as s:
        meter = s.execute(select(Meter).where(Meter.pan == shop.volume_pan)).scalar_one()
        after_first = (meter.ti, meter.last_tid, meter.supply_group_id)
    again = client.post(f"{URL}/{rid}/approve", headers=auth(approver_token))
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert [t["kind"] for t in again.json()["tokens"]] == ["kct", "kct"]
    assert _count(engine, Token) == 2
    assert _count(engine, AuditEntry, AuditEntry.action == "mgmt.approve") == 1
    with make_sessionmaker(engine)() as s:
        meter = s.execute(select(Meter).where(Meter.pan == shop.volume_pan)).scalar_one()
        assert (meter.ti, meter.last_tid, meter.supply_group_id) == after_first
        assert meter.ti == "07"


def test_decided_otherwise_is_still_a_conflict(
    client: TestClient,
    shop: Shop,
    approver_token: str,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """Only the same decision by the same operator is a retry; anything else is 409."""
    from stsgas.vending.models import Role

    _other, other_token = make_operator(Role.SUPERVISOR, username="third")
    rid = _ask(
        client, shop.supervisor_token, _body(shop.volume_pan, kind="clear_tamper", params={}), "c"
    ).json()["id"]
    assert client.post(f"{URL}/{rid}/approve", headers=auth(approver_token)).status_code == 200
    by_other = client.post(f"{URL}/{rid}/approve", headers=auth(other_token))
    assert by_other.status_code == 409
    assert by_other.json()["code"] == "conflict"
    assert "already issued" in by_other.json()["detail"]
    rejected_after = client.post(
        f"{URL}/{rid}/reject", json={"reason": "late"}, headers=auth(approver_token)
    )
    assert rejected_after.status_code == 409

    rid2 = _ask(
        client, shop.supervisor_token, _body(shop.volume_pan, kind="clear_tamper", params={}), "d"
    ).json()["id"]
    no = client.post(f"{URL}/{rid2}/reject", json={"reason": "no"}, headers=auth(approver_token))
    assert no.status_code == 200
    no_again = client.post(
        f"{URL}/{rid2}/reject", json={"reason": "no"}, headers=auth(approver_token)
    )
    assert no_again.status_code == 200
    assert no_again.headers["Idempotent-Replayed"] == "true"
    assert no_again.json() == no.json()
    assert client.post(f"{URL}/{rid2}/approve", headers=auth(approver_token)).status_code == 409
    assert (
        client.post(
            f"{URL}/{rid2}/reject", json={"reason": "no"}, headers=auth(other_token)
        ).status_code
        == 409
    )


def test_concurrent_approvals_issue_one_token_set(
    client: TestClient,
    shop: Shop,
    approver_token: str,
    engine: Engine,
    security_module: SoftwareSecurityModule,
) -> None:
    """The approver's approval sent by N threads at once: one token set, all see it."""
    rid = _ask(client, shop.supervisor_token, _body(shop.volume_pan), "p").json()["id"]
    approver_id = _operator_id(engine, "approver")
    barrier = threading.Barrier(THREADS)

    def approve(_: int) -> list[str]:
        with make_sessionmaker(engine)() as s:
            operator = s.get(Operator, approver_id)
            assert operator is not None
            s.commit()  # give the connection back: the pool may be smaller than THREADS
            barrier.wait(timeout=30)
            decided = transaction.run(
                s, lambda: service.approve(s, rid, operator, security=security_module)
            )
            return [t["digits"] for t in decided.view["tokens"]]

    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(approve, range(THREADS)))
    assert all(a == answers[0] for a in answers)
    assert len(answers[0]) == 2
    assert _count(engine, Token) == 2
    assert _count(engine, AuditEntry, AuditEntry.action == "mgmt.approve") == 1
