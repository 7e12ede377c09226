"""The vending side never issues what a meter must refuse (issue 10 points 2, 4, 5):
key changes the one key-change rule refuses, credit under a key type that may not
carry it, clear-credit for a register the meter does not have. Each is a problem
with a stable code, and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from stsgas.sts import ClearCredit, CreditToken, decode
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import ManagementRequest, Meter, Role
from tests.problems import problem
from tests.vending import factories
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop, counts, meter_config
from tests.vending.sales.test_service import refused, sell

DATA = json.loads((Path(__file__).parents[2] / "data/vending/key-rules.json").read_text())
URL = "/api/v1/management/requests"
REFUSED = DATA["refused_key_changes"]
REGISTERS = DATA["clear_credit_registers"]


def _meter_for(
    engine: Engine, security: SoftwareSecurityModule, shop: Shop, case: dict[str, Any]
) -> tuple[int, str, dict[str, Any]]:
    """The case's meter (the shop's volume tariff) and the key change params to ask."""
    with make_sessionmaker(engine).begin() as s:
        group = factories.supply_group(s, security, **case["group"])
        tariff_id = s.execute(select(Meter.tariff_id).where(Meter.pan == shop.volume_pan)).scalar()
        m = factories.meter(s, group, base_date=case["meter_base_date"])
        m.tariff_id = tariff_id
        params = dict(case["params"])
        if "target" in case:
            params["supply_group_id"] = factories.supply_group(s, security, **case["target"]).id
        return m.id, m.pan, params


def _requests(engine: Engine) -> int:
    with make_sessionmaker(engine)() as s:
        return int(s.execute(select(func.count()).select_from(ManagementRequest)).scalar_one())


@pytest.mark.parametrize("case", REFUSED, ids=[c["id"] for c in REFUSED])
def test_refused_key_change_is_never_asked(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    case: dict[str, Any],
) -> None:
    """Asked on either endpoint, a set the meter must refuse is 422 with its code and
    no request is recorded."""
    meter_id, pan, params = _meter_for(engine, security_module, shop, case)
    before = _requests(engine)
    by_meter = client.post(
        f"/api/v1/meters/{meter_id}/key-change", json=params, headers=auth(shop.supervisor_token)
    )
    problem(by_meter, 422, case["code"])
    by_mgmt = client.post(
        URL,
        json={"meter_number": pan, "kind": "key_change", "params": params, "reason": "rollover"},
        headers=auth(shop.supervisor_token),
    )
    assert by_mgmt.status_code == 422, by_mgmt.text
    assert by_mgmt.json()["code"] == case["code"]
    assert _requests(engine) == before


def test_a_pending_same_key_rollover_is_never_issued_with_a_sale(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    security_module: SoftwareSecurityModule,
) -> None:
    """A base-date-only change under DKGA02 (the decoder key does not depend on the base
    date) left pending in the database: the sale is refused with its code and nothing is
    written, rather than handing out a RO=1 set that re-opens every used token."""
    case = REFUSED[0]
    _id, pan, params = _meter_for(engine, security_module, shop, case)
    with make_sessionmaker(engine).begin() as s:
        m = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
        m.pending_base_date = params["base_date"]
    refused(client, shop.cashier_token, pan, "10", engine, 422, "key_change_same_key")


def test_migrate_to_a_key_type_0_group_schedules_nothing(
    client: TestClient,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    admin_token: str,
) -> None:
    """migrate-meters refuses a move the rule refuses, for every meter, before any is moved."""
    with make_sessionmaker(engine).begin() as s:
        old = factories.supply_group(s, security_module, sgc="600121", krn=1)
        new = factories.supply_group(s, security_module, sgc="600121", krn=2, key_type=0)
        pan = factories.meter(s, old).pan
    r = client.post(
        f"/api/v1/supply-groups/{old.id}/migrate-meters",
        json={"to_supply_group_id": new.id},
        headers=auth(admin_token),
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "key_change_key_type"
    with make_sessionmaker(engine)() as s:
        m = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
        assert m.needs_key_change is False


@pytest.mark.parametrize("key_type", [0, 1, 3])
def test_no_credit_under_a_key_that_may_not_carry_it(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    make_operator: Any,
    key_type: int,
) -> None:
    """A meter on a key type 0 (initialisation), 1 (DDTK) or 3 (common) group gets no
    credit token: 409 credit_key_type, nothing written. Once a key change to a key type 2
    group is approved, the next sale carries the set and the credit under the new key."""
    with make_sessionmaker(engine).begin() as s:
        ddtk = factories.supply_group(s, security_module, sgc="600131", krn=1, key_type=key_type)
        dutk = factories.supply_group(s, security_module, sgc="600131", krn=2, key_type=2)
        tariff_id = s.execute(select(Meter.tariff_id).where(Meter.pan == shop.volume_pan)).scalar()
        m = factories.meter(s, ddtk)
        m.tariff_id = tariff_id
        meter_id, pan = m.id, m.pan
    before = counts(engine)
    refused = sell(client, shop.cashier_token, pan, "10")
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "credit_key_type"
    assert counts(engine) == before

    asked = client.post(
        f"/api/v1/meters/{meter_id}/key-change",
        json={"supply_group_id": dutk.id},
        headers=auth(shop.supervisor_token),
    )
    assert asked.status_code == 202, asked.text
    other = make_operator(Role.SUPERVISOR)[1]
    ok = client.post(f"{URL}/{asked.json()['id']}/approve", headers=auth(other))
    assert ok.status_code == 200, ok.text
    sold = sell(client, shop.cashier_token, pan, "10")
    assert sold.status_code == 201, sold.text
    assert [t["kind"] for t in sold.json()["tokens"]] == ["kct", "kct", "credit"]
    with make_sessionmaker(engine)() as s:
        cfg = meter_config(s, security_module, pan)
    assert cfg.key_type == 2
    assert isinstance(decode(sold.json()["tokens"][-1]["digits"], cfg.key()), CreditToken)


@pytest.mark.parametrize(
    "case", REGISTERS, ids=[f"{c['meter']}-{c['register']}" for c in REGISTERS]
)
def test_clear_credit_only_for_the_meters_own_register(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    make_operator: Any,
    case: dict[str, Any],
) -> None:
    """A volume meter has the gas units register (2), an amount meter the gas currency
    register (6); 65535 names every register. Any other is 422 no_such_register."""
    pan = shop.volume_pan if case["meter"] == "volume" else shop.amount_pan
    before = _requests(engine)
    r = client.post(
        URL,
        json={
            "meter_number": pan,
            "kind": "clear_credit",
            "params": {"register": case["register"]},
            "reason": "service",
        },
        headers=auth(shop.supervisor_token),
    )
    assert r.status_code == case["status"], r.text
    if case["status"] != 201:
        assert r.json()["code"] == case["code"]
        assert _requests(engine) == before
        return
    other = make_operator(Role.SUPERVISOR)[1]
    done = client.post(f"{URL}/{r.json()['id']}/approve", headers=auth(other))
    assert done.status_code == 200, done.text
    with make_sessionmaker(engine)() as s:
        cfg = meter_config(s, security_module, pan)
    token = decode(done.json()["tokens"][0]["digits"], cfg.key())
    assert isinstance(token, ClearCredit)
    assert token.register == case["register"]


def test_no_management_token_under_the_initialisation_key(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    make_operator: Any,
) -> None:
    """Key type 0 carries key changes only: approving a clear-tamper token for such a
    meter is 409 management_key_type and issues nothing."""
    with make_sessionmaker(engine).begin() as s:
        idk = factories.supply_group(s, security_module, sgc="600141", krn=1, key_type=0)
        pan = factories.meter(s, idk).pan
    asked = client.post(
        URL,
        json={"meter_number": pan, "kind": "clear_tamper", "params": {}, "reason": "field visit"},
        headers=auth(shop.supervisor_token),
    )
    assert asked.status_code == 201, asked.text
    other = auth(make_operator(Role.SUPERVISOR)[1])
    before = counts(engine)
    r = client.post(f"{URL}/{asked.json()['id']}/approve", headers=other)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "management_key_type"
    assert counts(engine) == before
