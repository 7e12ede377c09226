"""The base-date rollover moves a meter for real (issue 10 point 3): `migrate-meters`
to a group on the next base date issues a set with RO=1 under a key that really
changes, the vending record follows (group, base date, TID count), and the sale
after it is vended under the new key and base date: a real meter takes both."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from stsgas.meter import MemoryStateStore
from stsgas.meter import Meter as VirtualMeter
from stsgas.meter.events import TokenAccepted
from stsgas.sts import BaseDate, CreditToken, KeyChange1, datetime_for_tid, decode
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import Meter, Role
from tests.vending import factories
from tests.vending.conftest import TEST_KEYS, auth
from tests.vending.sales.conftest import Shop, meter_config
from tests.vending.sales.test_service import sell

CASE = json.loads((Path(__file__).parents[2] / "data/vending/rollover.json").read_text())


def _setup(engine: Engine, security: SoftwareSecurityModule, shop: Shop) -> tuple[int, int, str]:
    """Groups on 1993 and 2014 and a volume meter on the 1993 one (the shop's tariff)."""
    with make_sessionmaker(engine).begin() as s:
        old = factories.supply_group(s, security, **CASE["old_group"])
        new = factories.supply_group(s, security, **CASE["new_group"])
        tariff_id = s.execute(select(Meter.tariff_id).where(Meter.pan == shop.volume_pan)).scalar()
        m = factories.meter(s, old, base_date=1993)
        m.tariff_id = tariff_id
        return old.id, new.id, m.pan


def _virtual_meter(pan: str) -> VirtualMeter:
    g = CASE["old_group"]
    doc = {
        "pan": pan,
        "key_type": g["key_type"],
        "sgc": g["sgc"],
        "ti": "01",
        "krn": g["krn"],
        "ken": 255,
        "base_date": g["base_date"],
        "ea": "07",
        "dkga": "04",
        "mode": "volume",
        "vending_key": TEST_KEYS["vending_key_dkga04"],
    }
    at = datetime.fromisoformat(CASE["commissioned_at"])
    return VirtualMeter.from_json(doc, store=MemoryStateStore(), now=at)


def _enter(meter: VirtualMeter, digits: str, now: datetime) -> list[Any]:
    events = meter.enter_token(digits, now)
    return [e for e in events if isinstance(e, TokenAccepted)]


def test_migrate_moves_a_1993_meter_onto_2014_and_the_next_sale_works(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    admin_token: str,
) -> None:
    """After the migration the sale carries KCTs with RO=1 under the 1993 key, then credit
    dated on base date 2014 under the new key; the record says 2014 and KRN 2, and a real
    meter accepts the set, the credit, and the next sale's credit."""
    old_id, new_id, pan = _setup(engine, security_module, shop)
    with make_sessionmaker(engine)() as s:
        old_cfg = meter_config(s, security_module, pan)
    vm = _virtual_meter(pan)

    r = client.post(
        f"/api/v1/supply-groups/{old_id}/migrate-meters",
        json={"to_supply_group_id": new_id},
        headers=auth(admin_token),
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"meters": 1}
    look = client.get(f"/api/v1/meters/{pan}/lookup", headers=auth(shop.cashier_token)).json()
    assert "new base date (TID rollover)" in look["key_change_reasons"]
    assert look["can_sell"] is True

    first = sell(client, shop.cashier_token, pan, CASE["sales"][0])
    assert first.status_code == 201, first.text
    body = first.json()
    assert [t["kind"] for t in body["tokens"]] == ["kct", "kct", "credit"]
    k1 = decode(body["tokens"][0]["digits"], old_cfg.key())
    assert isinstance(k1, KeyChange1)
    assert k1.rollover is True
    assert k1.krn == CASE["new_group"]["krn"]
    with make_sessionmaker(engine)() as s:
        m = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
        assert (m.supply_group_id, m.base_date, m.needs_key_change) == (new_id, 2014, False)
        assert m.last_tid == body["tid"]
        new_cfg = meter_config(s, security_module, pan)
    assert new_cfg.key() != old_cfg.key()
    credit = decode(body["tokens"][2]["digits"], new_cfg.key())
    assert isinstance(credit, CreditToken)
    sold_at = datetime_for_tid(credit.tid, BaseDate.BD2014)
    assert abs((sold_at - datetime.now(UTC)).total_seconds()) < 3600

    now = datetime.now(UTC)
    accepted = [_enter(vm, t["digits"], now) for t in body["tokens"]]
    assert [a[-1].kind if a else None for a in accepted] == [
        "key_change_part",
        "key_change",
        "CreditToken",
    ]
    assert vm.key.base_date == 2014
    assert vm.key.krn == CASE["new_group"]["krn"]
    second = sell(client, shop.cashier_token, pan, CASE["sales"][1]).json()
    assert [t["kind"] for t in second["tokens"]] == ["credit"]
    got = _enter(vm, second["tokens"][0]["digits"], now)
    assert got
    assert got[-1].kind == "CreditToken"
    assert got[-1].tid == second["tid"]


def test_migrated_in_2021_the_sale_is_dated_on_2014(
    engine: Engine,
    shop: Shop,
    security_module: SoftwareSecurityModule,
    make_operator: Any,
) -> None:
    """In 2021 (1993's TIDs not yet run out) the move is the same: RO=1, the record on
    2014, and the credit's TID counts minutes from 2014, so it names the sale's minute
    under the new base date; the TID count restarted (a 2014 TID of 2021 is smaller
    than the 1993 TID of the sale before). A real meter follows: it moves to 2014 on the
    set, takes the new credit and refuses the token vended before the change."""
    from stsgas.vending.operators import service as ops
    from stsgas.vending.sales import service as sales
    from stsgas.vending.supply_groups import service as groups

    old_id, new_id, pan = _setup(engine, security_module, shop)
    vm = _virtual_meter(pan)
    admin, _ = make_operator(Role.ADMIN)
    before = datetime(2021, 5, 3, 10, 0, tzinfo=UTC)
    moved = datetime(2021, 6, 1, 9, 0, tzinfo=UTC)
    sold = datetime(2021, 6, 1, 9, 30, tzinfo=UTC)
    sm = make_sessionmaker(engine)

    def sale(at: datetime) -> dict[str, Any]:
        with sm.begin() as s:
            cashier = ops.authenticate(s, shop.cashier_token)
            req = sales.SaleRequest(
                meter_number=pan, paid=1000, channel="pos", idempotency_key=None
            )
            return sales.sell(s, req, operator=cashier, security=security_module, now=at).body

    first = sale(before)
    assert first["tid"] == int((before - BaseDate.BD1993.start).total_seconds() // 60)
    assert [a.kind for a in _enter(vm, first["tokens"][-1]["digits"], before)] == ["CreditToken"]
    with sm.begin() as s:
        old_cfg = meter_config(s, security_module, pan)
        assert (
            groups.migrate_meters(
                s, security_module, actor=admin, from_id=old_id, to_id=new_id, now=moved
            )
            == 1
        )
    body = sale(sold)
    k1 = decode(body["tokens"][0]["digits"], old_cfg.key())
    assert isinstance(k1, KeyChange1)
    assert k1.rollover is True
    with sm() as s:
        m = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
        assert (m.supply_group_id, m.base_date, m.last_tid) == (new_id, 2014, body["tid"])
        new_cfg = meter_config(s, security_module, pan)
    credit = decode(body["tokens"][-1]["digits"], new_cfg.key())
    assert isinstance(credit, CreditToken)
    assert datetime_for_tid(credit.tid, BaseDate.BD2014) == sold
    assert credit.tid < first["tid"]
    # the meter applies the same rule: RO=1 steps it to 2014, by the set and not by
    # how much of 1993 is left; the credit is taken, the token from before is not
    for t in body["tokens"][:-1]:
        _enter(vm, t["digits"], sold)
    assert vm.key.base_date == 2014
    assert [a.kind for a in _enter(vm, body["tokens"][-1]["digits"], sold)] == ["CreditToken"]
    assert _enter(vm, first["tokens"][-1]["digits"], sold) == []
