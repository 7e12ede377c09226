"""The customer's opt-in to tokens by SMS over HTTP: off by default, set on create or
change, audited, never shown to a cashier, bad values refused."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import AuditEntry
from tests.vending.conftest import auth


def test_off_by_default_set_on_create_and_change(
    client: TestClient, supervisor_token: str, engine: Engine
) -> None:
    h = auth(supervisor_token)
    plain = client.post("/api/v1/customers", json={"name": "Alan"}, headers=h).json()
    assert plain["sms_tokens"] is False
    keen = client.post(
        "/api/v1/customers",
        json={"name": "Grace", "phone": "+255711000111", "sms_tokens": True},
        headers=h,
    ).json()
    assert keen["sms_tokens"] is True
    off = client.patch(f"/api/v1/customers/{keen['id']}", json={"sms_tokens": False}, headers=h)
    assert off.json()["sms_tokens"] is False
    assert client.get(f"/api/v1/customers/{keen['id']}", headers=h).json()["sms_tokens"] is False
    with make_sessionmaker(engine)() as s:
        last = s.execute(
            select(AuditEntry)
            .where(AuditEntry.object_type == "customer")
            .order_by(AuditEntry.id.desc())
            .limit(1)
        ).scalar_one()
    assert last.data == {"before": {"sms_tokens": True}, "after": {"sms_tokens": False}}


def test_bad_values_are_refused(client: TestClient, supervisor_token: str) -> None:
    h = auth(supervisor_token)
    bad: object
    for bad in ("maybe", 2, [], None):
        r = client.post("/api/v1/customers", json={"name": "X", "sms_tokens": bad}, headers=h)
        assert r.status_code == 422, bad


def test_cashier_view_does_not_show_it(
    client: TestClient, supervisor_token: str, cashier_token: str
) -> None:
    made = client.post(
        "/api/v1/customers",
        json={"name": "Ada", "sms_tokens": True},
        headers=auth(supervisor_token),
    ).json()
    seen = client.get(f"/api/v1/customers/{made['id']}", headers=auth(cashier_token)).json()
    assert "sms_tokens" not in seen
