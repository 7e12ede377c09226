"""Supply groups over HTTP: keys go in wrapped and never come out."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import AuditEntry, Meter, MeterStatus, SupplyGroup
from tests.vending import factories
from tests.vending.conftest import TEST_KEYS, auth

VK4 = TEST_KEYS["vending_key_dkga04"]


def _body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sgc": "600001",
        "krn": 1,
        "ea": 7,
        "dkga": 4,
        "base_date": 2014,
        "vending_key": VK4,
    }
    body.update(over)
    return body


def test_admin_creates_group_and_key_is_never_returned(
    client: TestClient, admin_token: str, engine: Engine
) -> None:
    """The response, the list, the stored row and the audit log hold no key."""
    r = client.post("/api/v1/supply-groups", json=_body(), headers=auth(admin_token))
    assert r.status_code == 201, r.text
    assert VK4 not in r.text
    listed = client.get("/api/v1/supply-groups", headers=auth(admin_token))
    assert VK4 not in listed.text
    with make_sessionmaker(engine)() as s:
        sg = s.execute(select(SupplyGroup)).scalar_one()
        assert bytes.fromhex(VK4) not in sg.vending_key_enc
        audit_text = str(s.execute(select(AuditEntry.data)).scalars().all())
    assert VK4 not in audit_text


def test_bad_algorithm_set_is_refused_with_the_sts_code(
    client: TestClient, admin_token: str, engine: Engine
) -> None:
    """A DKGA02 group with a 20-byte key is refused (422, code "key") and nothing is stored."""
    r = client.post("/api/v1/supply-groups", json=_body(dkga=2), headers=auth(admin_token))
    assert r.status_code == 422
    assert r.json()["code"] == "key"
    assert VK4 not in r.text
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(SupplyGroup)).scalar() == 0


def test_misty1_needs_dkga04(client: TestClient, admin_token: str) -> None:
    """EA11 with DKGA02 is refused by the sts library's rules."""
    body = _body(ea=11, dkga=2, vending_key=TEST_KEYS["vending_key_dkga02"])
    r = client.post("/api/v1/supply-groups", json=body, headers=auth(admin_token))
    assert r.status_code == 422


def test_non_hex_key_is_invalid_input(client: TestClient, admin_token: str) -> None:
    """A key that is not hex is refused without echoing it."""
    r = client.post(
        "/api/v1/supply-groups", json=_body(vending_key="zz-secret"), headers=auth(admin_token)
    )
    assert r.status_code == 422
    assert "zz-secret" not in r.text


def test_duplicate_sgc_krn_is_409(client: TestClient, admin_token: str) -> None:
    """The same SGC and KRN twice is already_exists."""
    assert (
        client.post("/api/v1/supply-groups", json=_body(), headers=auth(admin_token)).status_code
        == 201
    )
    r = client.post("/api/v1/supply-groups", json=_body(), headers=auth(admin_token))
    assert r.status_code == 409
    assert r.json()["code"] == "already_exists"


def test_expiring_key_is_warned_to_cashier(
    client: TestClient, admin_token: str, cashier_token: str
) -> None:
    """A key expiring within the warning window shows up in /supply-groups/warnings."""
    body = _body(key_expires_at="2000-01-01T00:00:00Z")
    assert (
        client.post("/api/v1/supply-groups", json=body, headers=auth(admin_token)).status_code
        == 201
    )
    r = client.get("/api/v1/supply-groups/warnings", headers=auth(cashier_token))
    assert r.status_code == 200
    assert [w["code"] for w in r.json()] == ["vending_key_expired"]


def test_cashier_cannot_create_groups(client: TestClient, cashier_token: str) -> None:
    """Creating supply groups is for admins only."""
    r = client.post("/api/v1/supply-groups", json=_body(), headers=auth(cashier_token))
    assert r.status_code == 403


def test_new_key_revision_is_rolled_out_to_active_meters(
    client: TestClient,
    admin_token: str,
    session: Session,
    security_module: SoftwareSecurityModule,
) -> None:
    """migrate-meters schedules a key change for active meters only, and audits it."""
    old = factories.supply_group(session, security_module, krn=1)
    new = factories.supply_group(session, security_module, krn=2)
    active = factories.meter(session, old)
    retired = factories.meter(session, old, status=MeterStatus.RETIRED)
    session.commit()
    r = client.post(
        f"/api/v1/supply-groups/{old.id}/migrate-meters",
        json={"to_supply_group_id": new.id},
        headers=auth(admin_token),
    )
    assert r.json() == {"meters": 1}
    session.expire_all()
    assert session.get(Meter, active.id).pending_supply_group_id == new.id  # type: ignore[union-attr]
    assert session.get(Meter, retired.id).pending_supply_group_id is None  # type: ignore[union-attr]


def test_key_never_reaches_the_logs(
    client: TestClient, admin_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Two supply groups are made (DKGA04 and DKGA02) with every statement and its
    parameters logged: the log holds the INSERTs, and neither vending key."""
    vk2 = TEST_KEYS["vending_key_dkga02"]
    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.INFO, "sqlalchemy.engine"):
        first = client.post("/api/v1/supply-groups", json=_body(), headers=auth(admin_token))
        second = client.post(
            "/api/v1/supply-groups",
            json=_body(sgc="600002", dkga=2, vending_key=vk2),
            headers=auth(admin_token),
        )
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    inserts = [
        r
        for r in caplog.records
        if r.name.startswith("sqlalchemy.engine") and "INSERT INTO supply_groups" in r.getMessage()
    ]
    assert len(inserts) == 2, "the statements were not captured: the test would prove nothing"
    text = caplog.text.lower()
    for key in (VK4, vk2):
        assert key.lower() not in text
        assert bytes.fromhex(key).hex(" ") not in text


def test_without_master_key_key_operations_answer_503(
    engine: Engine, db_url: str, admin_token: str
) -> None:
    """An app started with no master key refuses to store keys (503 no_master_key)."""
    from fastapi.testclient import TestClient as Client

    from stsgas.vending.app import create_app
    from stsgas.vending.settings import Settings

    app = create_app(
        Settings(database_url=db_url, master_key=None, master_key_file=None), engine=engine
    )
    with Client(app) as client:
        r = client.post("/api/v1/supply-groups", json=_body(), headers=auth(admin_token))
    assert (r.status_code, r.json()["code"]) == (503, "no_master_key")
