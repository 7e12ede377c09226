"""The one sale pipeline on every path: what used to need the route now sells anywhere.

A credit-policy customer's sale writes the same receipt, grant, debt, policy and
journal whether the event loop (PostgreSQL, asyncpg) or the route (psycopg,
SQLite) sells it, and the event loop no longer hands it to the route. A key
change that rolls the base date forward starts the TID count again under the new
base date on both engines.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from stsgas.sts import BaseDate, CreditToken, decode, tid_for
from stsgas.vending.app import create_app
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import (
    CustomerMeter,
    Meter,
    Operator,
    Sale,
)
from stsgas.vending.sales import service
from stsgas.vending.settings import Settings
from tests.vending import factories
from tests.vending.conftest import auth
from tests.vending.policies.conftest import ledger_balanced, policies_written
from tests.vending.sales.conftest import Shop, meter_config

DEBT = 5_000  # the shop customer's debt, minor units
ASKED = 200  # the emergency credit the customer asked for


def _customer_of(engine: Engine, pan: str) -> int:
    with make_sessionmaker(engine)() as s:
        return s.execute(
            select(CustomerMeter.customer_id)
            .join(Meter, Meter.id == CustomerMeter.meter_id)
            .where(Meter.pan == pan)
        ).scalar_one()


def _give_policy(engine: Engine, customer_id: int) -> None:
    """1 m³ of free gas a month, a 3.00 instalment per sale, 2.00 of emergency credit asked."""
    with make_sessionmaker(engine).begin() as s:
        factories.lifeline_policy(s, customer_id, instalment=300, emergency_asked=ASKED)


def _minor(text: str) -> int:
    return int(Decimal(text) * 100)


@pytest.mark.parametrize("fast", [True, False], ids=["fast-on", "fast-off"])
def test_a_credit_policy_sale_is_the_same_on_every_path(
    fast: bool,
    shop: Shop,
    engine: Engine,
    settings: Settings,
    security_module: SoftwareSecurityModule,
) -> None:
    customer_id = _customer_of(engine, shop.volume_pan)
    _give_policy(engine, customer_id)
    app = create_app(
        settings.model_copy(update={"fast_sales": fast}),
        engine=engine,
        security_module=security_module,
    )
    with TestClient(app) as client:
        r = client.post(
            "/api/v1/sales",
            json={"meter_number": shop.volume_pan, "amount": "20.00", "channel": "pos"},
            headers=auth(shop.cashier_token),
        )
        pool = app.state.sale_pool
        stats = Counter() if pool is None else Counter(pool.stats)
    assert r.status_code == 201, r.text
    receipt: dict[str, Any] = r.json()
    lines = {ln["kind"]: ln for ln in receipt["policy_lines"]}
    assert list(lines) == ["free_gas", "debt_instalment", "emergency_credit"]
    assert lines["free_gas"]["units"] == "1.0"
    assert lines["debt_instalment"]["amount"] == "3.00"
    given = _minor(lines["emergency_credit"]["amount"])
    assert 0 < given <= ASKED
    with make_sessionmaker(engine)() as s:
        sale = s.get(Sale, receipt["sale_id"])
        assert sale is not None
        assert sale.response == receipt
        cfg = meter_config(s, security_module, shop.volume_pan)
        credit = decode(receipt["tokens"][-1]["digits"], cfg.key())
        assert isinstance(credit, CreditToken)
        assert credit.units == sale.credit_units
    # the journal: free gas (2 lines) and the advance on credit (3 lines)
    policies_written(
        engine, sale, customer_id, debt_before=DEBT, instalment=300, given=given, journal=5
    )
    ledger_balanced(engine)
    if pool is not None and fast:  # sold on the event loop, not handed to the route
        assert stats == Counter({"fast": 1})


def test_a_rollover_key_change_counts_tids_under_the_new_base_date(
    shop: Shop, engine: Engine, security_module: SoftwareSecurityModule
) -> None:
    """A meter on base date 1993 moved to 2014 (DKGA04, so RO=1): its sale carries the
    key change tokens, then a credit whose TID is the minute since 2014, and the meter
    records the new base date and that TID (the rollover cleared its TID memory)."""
    at = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)  # 1993's TIDs still fit in 24 bits
    with make_sessionmaker(engine).begin() as s:
        old = factories.supply_group(s, security_module, sgc="600114", dkga=4, base_date=1993)
        tariff = factories.tariff(s)
        meter = factories.meter(s, old, tariff=tariff, last_tid=16_000_000)
        meter.pending_base_date = 2014
        pan = meter.pan
    with make_sessionmaker(engine)() as s:
        seller = s.get(Operator, shop.cashier_id)
        assert seller is not None
        req = service.SaleRequest(meter_number=pan, paid=1_000, channel="pos", idempotency_key=None)
        receipt = service.sell(s, req, operator=seller, security=security_module, now=at).receipt
        s.commit()
    kinds = [t.kind for t in receipt.tokens]
    assert kinds[-1] == "credit"
    assert set(kinds[:-1]) == {"kct"}
    assert len(kinds) >= 2
    assert receipt.tid == tid_for(at, BaseDate(2014))
    with make_sessionmaker(engine)() as s:
        m = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
        assert (m.base_date, m.pending_base_date, m.last_tid) == (2014, None, receipt.tid)
        cfg = meter_config(s, security_module, pan)
        credit = decode(receipt.tokens[-1].digits, cfg.key())
        assert isinstance(credit, CreditToken)
        assert credit.tid == receipt.tid
