"""Key change bundles, reprints and who may see a sale (cancelling: ``test_cancel``)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from stsgas.sts import CreditToken, KeyChange1, decode
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import Meter, Operator, Role, Sale
from stsgas.vending.sales import chain
from tests.vending import factories
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop, meter_config
from tests.vending.sales.test_service import sell


def test_sale_due_a_key_change_returns_the_set_then_the_credit(
    client: TestClient, shop: Shop, engine: Engine, security_module: SoftwareSecurityModule
) -> None:
    """A pending KRN change: KCTs under the old key first, the credit under the new key."""
    with make_sessionmaker(engine).begin() as s:
        old_cfg = meter_config(s, security_module, shop.volume_pan)
        new_sg = factories.supply_group(s, security_module, krn=2)
        m = s.execute(select(Meter).where(Meter.pan == shop.volume_pan)).scalar_one()
        m.pending_supply_group_id = new_sg.id
    r = sell(client, shop.cashier_token, shop.volume_pan, "10")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["key_change"] is True
    assert "KEY CHANGE" in body["notes"][0]
    kinds = [t["kind"] for t in body["tokens"]]
    assert kinds == ["kct", "kct", "credit"]
    assert isinstance(decode(body["tokens"][0]["digits"], old_cfg.key()), KeyChange1)
    with make_sessionmaker(engine)() as s:
        new_cfg = meter_config(s, security_module, shop.volume_pan)
        m = s.execute(select(Meter).where(Meter.pan == shop.volume_pan)).scalar_one()
        assert new_cfg.krn == 2
        assert not m.needs_key_change
        assert m.sales_head == s.get(Sale, body["sale_id"]).chain_hash  # type: ignore[union-attr]
        assert chain.broken_meters(s) == []  # the key-change sale links like any other
    credit = decode(body["tokens"][2]["digits"], new_cfg.key())
    assert isinstance(credit, CreditToken)
    assert credit.tid == body["tid"]


def test_reprint_is_the_same_token_marked_copy(client: TestClient, shop: Shop) -> None:
    """A reprint repeats the token, says COPY and counts."""
    sale = sell(client, shop.cashier_token, shop.volume_pan, "10").json()
    for n in (1, 2):
        r = client.post(
            f"/api/v1/sales/{sale['sale_id']}/reprint", headers=auth(shop.cashier_token)
        )
        assert r.status_code == 200, r.text
        assert r.json()["token"] == sale["token"]
        assert r.json()["copy"] is True
        assert r.json()["reprint_count"] == n


def test_other_vendors_cashier_cannot_see_the_sale(
    client: TestClient, shop: Shop, make_operator: Callable[..., tuple[Operator, str]]
) -> None:
    """A cashier of another vendor gets 404 for the sale, its reprint and the list."""
    sale = sell(client, shop.cashier_token, shop.volume_pan, "10").json()
    _op, other = make_operator(Role.CASHIER, username="othercashier")
    got = client.get(f"/api/v1/sales/{sale['sale_id']}", headers=auth(other))
    assert got.status_code == 404, got.text
    r = client.post(f"/api/v1/sales/{sale['sale_id']}/reprint", headers=auth(other))
    assert r.status_code == 404
    assert client.get("/api/v1/sales", headers=auth(other)).json() == []
    own = client.get("/api/v1/sales", headers=auth(shop.cashier_token)).json()
    assert [s["sale_id"] for s in own] == [sale["sale_id"]]
