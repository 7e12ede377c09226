"""Sales the meter would reject are refused at the counter: a credit over the meter's
recharge limit, a meter with no tariff in force; the lookup says so before payment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import Meter, SupplyGroup
from tests.vending import factories
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop, counts
from tests.vending.sales.test_service import refused, sell


def meter_id(engine: Engine, pan: str) -> int:
    """The id of the meter ``pan``."""
    with make_sessionmaker(engine)() as s:
        return int(s.execute(select(Meter.id).where(Meter.pan == pan)).scalar_one())


def set_limit(client: TestClient, token: str, engine: Engine, pan: str, limit: int | None) -> Any:
    """Set the meter's recharge limit through the API."""
    return client.post(
        f"/api/v1/meters/{meter_id(engine, pan)}/recharge-limit",
        json={"recharge_limit": limit},
        headers=auth(token),
    )


def meter_without_tariff_in_force(engine: Engine, shop: Shop, *, future: bool) -> str:
    """A meter on a tariff whose only version starts in 2099 (or on no tariff at all)."""
    with make_sessionmaker(engine).begin() as s:
        sg = s.get(SupplyGroup, shop.group_id)
        assert sg is not None
        later = datetime(2099, 1, 1, tzinfo=UTC)
        tariff = factories.tariff(s, effective_from=later) if future else None
        return factories.meter(s, sg, tariff=tariff).pan


def test_a_volume_credit_over_the_recharge_limit_is_refused(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    supervisor_token: str,
) -> None:
    """Limit 5 m³: 10.00 buys 4.6 m³ and sells; 20.00 would credit 10.3 m³, which the
    meter would reject, so it is 422 over_recharge_limit and nothing is written."""
    r = set_limit(client, supervisor_token, engine, shop.volume_pan, 5_000)
    assert r.status_code == 200, r.text
    assert r.json()["recharge_limit"] == 5_000
    ok = sell(client, shop.cashier_token, shop.volume_pan, "10")
    assert ok.status_code == 201, ok.text
    assert ok.json()["units_credited"] == "4.6"
    before = counts(engine)
    r = sell(client, shop.cashier_token, shop.volume_pan, "20")
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "over_recharge_limit"
    assert "recharge limit of 5 m³" in r.json()["detail"]
    assert counts(engine) == before
    # no limit (the meter model's default) sells it again
    assert set_limit(client, supervisor_token, engine, shop.volume_pan, None).status_code == 200
    assert sell(client, shop.cashier_token, shop.volume_pan, "20").status_code == 201


def test_a_money_credit_over_the_recharge_limit_is_refused(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    supervisor_token: str,
) -> None:
    """Limit 10.00: 11.49 credits 9.99 (sold); 11.50 credits 10.00 rounded up to the
    token's 10^-5, above the limit, so the meter would reject it: refused."""
    assert set_limit(client, supervisor_token, engine, shop.amount_pan, 1_000).status_code == 200
    assert sell(client, shop.cashier_token, shop.amount_pan, "11.49").status_code == 201
    before = counts(engine)
    r = sell(client, shop.cashier_token, shop.amount_pan, "11.50")
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "over_recharge_limit"
    assert counts(engine) == before


@pytest.mark.parametrize("limit", [0, -1, 10**13, "5"])
def test_a_bad_recharge_limit_is_refused(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    supervisor_token: str,
    limit: Any,
) -> None:
    """Limits are positive whole litres or minor units."""
    r = set_limit(client, supervisor_token, engine, shop.volume_pan, limit)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_input"


@pytest.mark.parametrize("future", [True, False], ids=["version-not-yet", "no-tariff"])
def test_a_meter_with_no_tariff_in_force_is_refused_and_the_lookup_says_why(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    future: bool,
) -> None:
    """Before payment the lookup says the meter cannot be sold to and why (the code the
    sale would answer); the sale is 409 no_tariff_in_force and writes nothing."""
    pan = meter_without_tariff_in_force(engine, shop, future=future)
    look = client.get(f"/api/v1/meters/{pan}/lookup", headers=auth(shop.cashier_token)).json()
    assert look["can_sell"] is False
    assert [r["code"] for r in look["cannot_sell"]] == ["no_tariff_in_force"]
    assert "no tariff in force" in look["cannot_sell"][0]["detail"]
    refused(client, shop.cashier_token, pan, "10", engine, 409, "no_tariff_in_force")


def test_the_lookup_names_every_reason_and_none_when_a_sale_would_go_through(
    client: TestClient,
    shop: Shop,
    make_operator: Any,
) -> None:
    """A blocked meter looked up by an account without a vendor: both reasons."""
    from stsgas.vending.models import Role

    _sup, token = make_operator(Role.SUPERVISOR, username="lookernovendor")
    look = client.get(f"/api/v1/meters/{shop.blocked_pan}/lookup", headers=auth(token)).json()
    assert [r["code"] for r in look["cannot_sell"]] == ["meter_not_active", "no_float"]
    ok = client.get(
        f"/api/v1/meters/{shop.volume_pan}/lookup", headers=auth(shop.cashier_token)
    ).json()
    assert (ok["can_sell"], ok["cannot_sell"], ok["recharge_limit"]) == (True, [], None)


def test_a_recharge_limit_can_be_set_when_the_meter_is_registered(
    client: TestClient,
    shop: Shop,
    supervisor_token: str,
    security_module: SoftwareSecurityModule,
) -> None:
    """POST /meters takes the limit too."""
    from stsgas.sts import drn_with_check

    r = client.post(
        "/api/v1/meters",
        json={
            "number": drn_with_check("0177777777"),
            "mode": "volume",
            "supply_group_id": shop.group_id,
            "recharge_limit": 500_000,
        },
        headers=auth(supervisor_token),
    )
    assert r.status_code == 201, r.text
    assert r.json()["recharge_limit"] == 500_000
