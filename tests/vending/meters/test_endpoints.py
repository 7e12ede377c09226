"""Meters over HTTP: registration, bad numbers, lookup before payment, status, key change."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import Meter, MeterMode, Role, Sale
from tests.vending import factories
from tests.vending.conftest import auth


@pytest.fixture
def world(session: Session, security_module: SoftwareSecurityModule) -> dict[str, Any]:
    """A supply group, a volume and an amount tariff, a customer."""
    sg = factories.supply_group(session, security_module)
    vt = factories.tariff(session, mode=MeterMode.VOLUME, name="Residential")
    at = factories.tariff(session, mode=MeterMode.AMOUNT, name="Prepaid money")
    c = factories.customer(session, name="Ada Lovelace")
    session.commit()
    return {"sg": sg.id, "vt": vt.id, "at": at.id, "customer": c.id}


def _register(client: TestClient, token: str, world: dict[str, Any], **over: Any) -> Any:
    _iin, drn = factories.new_drn()
    body = {
        "number": drn,
        "mode": "volume",
        "supply_group_id": world["sg"],
        "tariff_id": world["vt"],
        "customer_id": world["customer"],
    }
    body.update(over)
    return client.post("/api/v1/meters", json=body, headers=auth(token))


def test_register_and_look_up_a_meter(
    client: TestClient, supervisor_token: str, cashier_token: str, world: dict[str, Any]
) -> None:
    """A registered meter's lookup shows the masked name, mode, status, group, no last sale."""
    r = _register(client, supervisor_token, world)
    assert r.status_code == 201, r.text
    drn = r.json()["drn"]
    look = client.get(f"/api/v1/meters/{drn}/lookup", headers=auth(cashier_token))
    assert look.status_code == 200, look.text
    body = look.json()
    assert body["customer_name"] == "A** L*******"
    assert body["mode"] == "volume"
    assert body["status"] == "active"
    assert body["supply_group"]["sgc"] == "123456"
    assert body["last_sale"] is None
    assert body["key_change_needed"] is False
    assert body["can_sell"] is True


def test_bad_meter_number_is_422_and_nothing_written(
    client: TestClient, supervisor_token: str, world: dict[str, Any], engine: Engine
) -> None:
    """A DRN with a wrong check digit is refused with bad_meter_number; no meter is stored."""
    _iin, drn = factories.new_drn()
    bad = drn[:-1] + str((int(drn[-1]) + 1) % 10)
    r = _register(client, supervisor_token, world, number=bad)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "bad_meter_number"
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(Meter)).scalar() == 0


def test_lookup_of_bad_and_unknown_numbers(
    client: TestClient, cashier_token: str, world: dict[str, Any]
) -> None:
    """A typo is 422 bad_meter_number; a valid but unregistered number is 404 meter_not_found."""
    _iin, drn = factories.new_drn()
    bad = drn[:-1] + str((int(drn[-1]) + 1) % 10)
    r = client.get(f"/api/v1/meters/{bad}/lookup", headers=auth(cashier_token))
    assert (r.status_code, r.json()["code"]) == (422, "bad_meter_number")
    r = client.get(f"/api/v1/meters/{drn}/lookup", headers=auth(cashier_token))
    assert (r.status_code, r.json()["code"]) == (404, "meter_not_found")


def test_duplicate_meter_is_409(
    client: TestClient, supervisor_token: str, world: dict[str, Any]
) -> None:
    """Registering the same number twice is already_exists."""
    r = _register(client, supervisor_token, world)
    r2 = _register(client, supervisor_token, world, number=r.json()["pan"])
    assert (r2.status_code, r2.json()["code"]) == (409, "already_exists")


def test_tariff_mode_must_match_meter_mode(
    client: TestClient, supervisor_token: str, world: dict[str, Any]
) -> None:
    """An amount meter cannot be put on a volume tariff."""
    r = _register(client, supervisor_token, world, mode="amount")
    assert r.status_code == 422
    assert (
        _register(client, supervisor_token, world, mode="amount", tariff_id=world["at"]).status_code
        == 201
    )


def test_blocked_meter_cannot_be_sold_and_retired_stays_retired(
    client: TestClient, supervisor_token: str, cashier_token: str, world: dict[str, Any]
) -> None:
    """Blocking shows can_sell false at lookup; a retired meter cannot be reactivated."""
    m = _register(client, supervisor_token, world).json()
    url = f"/api/v1/meters/{m['id']}/status"
    r = client.post(
        url, json={"status": "blocked", "reason": "tamper"}, headers=auth(supervisor_token)
    )
    assert r.json()["status"] == "blocked"
    look = client.get(f"/api/v1/meters/{m['drn']}/lookup", headers=auth(cashier_token)).json()
    assert (look["status"], look["can_sell"]) == ("blocked", False)
    client.post(url, json={"status": "retired"}, headers=auth(supervisor_token))
    r = client.post(url, json={"status": "active"}, headers=auth(supervisor_token))
    assert r.status_code == 422


def test_key_change_is_asked_by_one_and_approved_by_another(
    client: TestClient,
    supervisor_token: str,
    cashier_token: str,
    world: dict[str, Any],
    session: Session,
    security_module: SoftwareSecurityModule,
    make_operator: Any,
) -> None:
    """`POST /meters/{id}/key-change` only asks (202, a pending four-eyes request):
    the asker cannot approve it, nothing is due at the lookup until a second
    supervisor approves; then the lookup says a key change comes first."""
    m = _register(client, supervisor_token, world).json()
    sg2 = factories.supply_group(session, security_module, krn=2)
    session.commit()
    r = client.post(
        f"/api/v1/meters/{m['id']}/key-change",
        json={"supply_group_id": sg2.id},
        headers=auth(supervisor_token),
    )
    assert r.status_code == 202, r.text
    asked = r.json()
    assert (asked["kind"], asked["status"], asked["tokens"]) == ("key_change", "pending", [])
    assert asked["params"] == {"supply_group_id": sg2.id, "with_next_sale": True}
    look = client.get(f"/api/v1/meters/{m['drn']}/lookup", headers=auth(cashier_token)).json()
    assert look["key_change_needed"] is False
    approve = f"/api/v1/management/requests/{asked['id']}/approve"
    alone = client.post(approve, headers=auth(supervisor_token))
    assert alone.status_code == 403
    assert alone.json()["code"] == "forbidden"
    other = make_operator(Role.SUPERVISOR)[1]
    done = client.post(approve, headers=auth(other))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "approved"
    assert done.json()["tokens"] == []  # with the next sale: nothing handed out yet
    look = client.get(f"/api/v1/meters/{m['drn']}/lookup", headers=auth(cashier_token)).json()
    assert look["key_change_needed"] is True
    assert look["key_change_reasons"] == ["new supply group or key revision"]


def test_cashier_cannot_ask_for_a_key_change(
    client: TestClient,
    supervisor_token: str,
    cashier_token: str,
    world: dict[str, Any],
) -> None:
    """Asking for a key change is a management permission."""
    m = _register(client, supervisor_token, world).json()
    r = client.post(
        f"/api/v1/meters/{m['id']}/key-change", json={"ti": "02"}, headers=auth(cashier_token)
    )
    assert r.status_code == 403


def test_lookup_shows_the_last_sale(
    client: TestClient,
    supervisor_token: str,
    cashier_token: str,
    world: dict[str, Any],
    session: Session,
    make_operator: Any,
) -> None:
    """The newest sale of the meter is in the lookup answer."""
    m = _register(client, supervisor_token, world).json()
    op, _ = make_operator(Role.CASHIER)
    session.add(
        Sale(
            channel="web",
            operator_id=op.id,
            meter_id=m["id"],
            amount_paid=1000,
            fixed_charge=0,
            debt_recovered=0,
            tax=0,
            energy_amount=1000,
            credit_units=66,
            tariff_steps=[],
        )
    )
    session.commit()
    look = client.get(f"/api/v1/meters/{m['drn']}/lookup", headers=auth(cashier_token)).json()
    assert look["last_sale"]["amount_paid"] == 1000
    assert look["last_sale"]["credit_units"] == 66


def test_cashier_cannot_register_meters(
    client: TestClient, cashier_token: str, world: dict[str, Any]
) -> None:
    """Meter registration is refused to cashiers."""
    assert _register(client, cashier_token, world).status_code == 403


def test_relinking_keeps_history_and_changes_lookup(
    client: TestClient,
    supervisor_token: str,
    cashier_token: str,
    world: dict[str, Any],
    session: Session,
) -> None:
    """Linking a meter to a new customer ends the old link (kept) and the lookup follows."""
    from stsgas.vending.models import CustomerMeter

    m = _register(client, supervisor_token, world).json()
    other = factories.customer(session, name="Bob Stone")
    session.commit()
    r = client.post(
        f"/api/v1/meters/{m['id']}/customer",
        json={"customer_id": other.id},
        headers=auth(supervisor_token),
    )
    assert r.status_code == 200
    look = client.get(f"/api/v1/meters/{m['drn']}/lookup", headers=auth(cashier_token)).json()
    assert look["customer_name"] == "B** S****"
    links = session.execute(
        select(CustomerMeter.customer_id, CustomerMeter.active)
        .where(CustomerMeter.meter_id == m["id"])
        .order_by(CustomerMeter.id)
    ).all()
    assert [tuple(x) for x in links] == [(world["customer"], None), (other.id, 1)]


def test_assigning_a_tariff_of_the_other_mode_is_refused(
    client: TestClient, supervisor_token: str, world: dict[str, Any]
) -> None:
    """A volume meter moves to another volume tariff but not to an amount tariff."""
    m = _register(client, supervisor_token, world).json()
    url = f"/api/v1/meters/{m['id']}/tariff"
    r = client.post(url, json={"tariff_id": world["at"]}, headers=auth(supervisor_token))
    assert (r.status_code, r.json()["code"]) == (422, "invalid_input")
    r = client.post(url, json={"tariff_id": world["vt"]}, headers=auth(supervisor_token))
    assert r.json()["tariff_id"] == world["vt"]
