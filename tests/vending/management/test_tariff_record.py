"""When the vending side loads a tariff into a meter, its own record of that meter's
tariff follows once the load is issued (issue 10 point 11), and never before."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from stsgas.sts import TariffRate, datetime_for_tid, decode
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import AuditEntry, Meter, MeterMode, Role, TariffVersion
from tests.vending import factories
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop, meter_config

URL = "/api/v1/management/requests"


def _meter(engine: Engine, pan: str) -> Meter:
    with make_sessionmaker(engine)() as s:
        m = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
        s.expunge(m)
        return m


def _ask(client: TestClient, token: str, pan: str, kind: str, params: dict[str, Any]) -> Any:
    return client.post(
        URL,
        json={"meter_number": pan, "kind": kind, "params": params, "reason": "new prices"},
        headers=auth(token),
    )


def test_load_tariff_moves_the_record_when_issued(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    make_operator: Any,
) -> None:
    """Loading a version of another by-amount tariff: nothing moves while the request
    waits or when it is rejected; once issued the meter is on that tariff, with the
    version, its activation time and the IR counter recorded, and the move audited. The
    same counter again is 422 tariff_seq (the meter would answer a replay)."""
    with make_sessionmaker(engine).begin() as s:
        other = factories.tariff(s, mode=MeterMode.AMOUNT, steps=[(None, 310)])
        version_id = s.execute(
            select(TariffVersion.id).where(TariffVersion.tariff_id == other.id)
        ).scalar_one()
        other_id = other.id
    before = _meter(engine, shop.amount_pan)
    params = {"seq": 4, "activate_at": "2030-01-01T00:00:00Z", "tariff_version_id": version_id}
    second = auth(make_operator(Role.SUPERVISOR)[1])

    rejected = _ask(client, shop.supervisor_token, shop.amount_pan, "load_tariff", params).json()
    client.post(f"{URL}/{rejected['id']}/reject", json={"reason": "wrong"}, headers=second)
    asked = _ask(client, shop.supervisor_token, shop.amount_pan, "load_tariff", params)
    assert asked.status_code == 201, asked.text
    waiting = _meter(engine, shop.amount_pan)
    assert (waiting.tariff_id, waiting.loaded_tariff_version_id) == (before.tariff_id, None)

    done = client.post(f"{URL}/{asked.json()['id']}/approve", headers=second)
    assert done.status_code == 200, done.text
    assert done.json()["ir_command"].startswith("tariff 4 2030-01-01T00:00:00Z ")
    after = _meter(engine, shop.amount_pan)
    assert after.tariff_id == other_id
    assert after.loaded_tariff_version_id == version_id
    assert after.loaded_tariff_from == datetime(2030, 1, 1, tzinfo=UTC)
    assert after.loaded_tariff_seq == 4
    shown = client.get(f"/api/v1/meters/{after.id}", headers=auth(shop.supervisor_token)).json()
    assert (shown["tariff_id"], shown["loaded_tariff_seq"]) == (other_id, 4)
    with make_sessionmaker(engine)() as s:
        moved = s.execute(select(AuditEntry).where(AuditEntry.action == "meter.tariff")).scalars()
        assert [(a.data["from"], a.data["to"]) for a in moved] == [(before.tariff_id, other_id)]

    again = _ask(client, shop.supervisor_token, shop.amount_pan, "load_tariff", params)
    assert again.status_code == 422, again.text
    assert again.json()["code"] == "tariff_seq"


def test_tariff_rate_token_is_recorded_and_refused_for_a_volume_meter(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    make_operator: Any,
) -> None:
    """A TariffRate token to a by-amount meter records the flat rate it runs from the
    token's minute; a volume meter (which does not price its gas) is 422 tariff_rate_mode."""
    refused = _ask(client, shop.supervisor_token, shop.volume_pan, "set_tariff", {"rate": 150})
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "tariff_rate_mode"
    asked = _ask(client, shop.supervisor_token, shop.amount_pan, "set_tariff", {"rate": 150})
    assert asked.status_code == 201, asked.text
    assert _meter(engine, shop.amount_pan).loaded_tariff_rate is None
    done = client.post(
        f"{URL}/{asked.json()['id']}/approve", headers=auth(make_operator(Role.SUPERVISOR)[1])
    )
    assert done.status_code == 200, done.text
    m = _meter(engine, shop.amount_pan)
    with make_sessionmaker(engine)() as s:
        cfg = meter_config(s, security_module, shop.amount_pan)
    tok = decode(done.json()["tokens"][0]["digits"], cfg.key())
    assert isinstance(tok, TariffRate)
    assert (m.loaded_tariff_rate, m.loaded_tariff_version_id) == (150, None)
    assert m.loaded_tariff_from == datetime_for_tid(tok.tid, cfg.base_date)
