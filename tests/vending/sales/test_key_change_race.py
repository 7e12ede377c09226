"""Two counter sales to a meter whose key changes: the second waits, then sells.

On PostgreSQL the sale that waited on the meter used to re-check the locked row
against the supply group it joined before the wait; the sale ahead had moved
the meter to its new group, so the second found no meter (404) although the
meter was there. Both paths run the one lock statement: the event loop and the
route in a worker thread.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select, text

from stsgas.sts import CreditToken, decode
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import Meter, Sale
from stsgas.vending.settings import Settings
from tests.vending import factories
from tests.vending.conftest import app_with, auth
from tests.vending.locks import lock_waiters
from tests.vending.sales.conftest import Shop, meter_config
from tests.vending.sales.live import serve

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize("fast", [True, False], ids=["event-loop", "route"])
def test_a_sale_waiting_on_a_key_change_sells_under_the_new_key(
    fast: bool,
    shop: Shop,
    engine: Engine,
    settings: Settings,
    security_module: SoftwareSecurityModule,
) -> None:
    """The first sale carries the key change tokens, the second (which waited on the
    meter) only its credit; both credits decode under the new key, with their own TIDs."""
    pan = shop.volume_pan
    with make_sessionmaker(engine).begin() as s:
        new_group = factories.supply_group(s, security_module, krn=2)
        meter = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
        meter.pending_supply_group_id = new_group_id = new_group.id
    app = app_with(settings, engine, security_module, fast_sales=fast)
    barrier = threading.Barrier(2)

    def sell(base_url: str) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=60) as c:
            barrier.wait(timeout=30)
            return c.post(
                "/api/v1/sales",
                json={"meter_number": pan, "amount": "15.00", "channel": "pos"},
                headers=auth(shop.cashier_token),
            )

    with engine.connect() as holder, serve(app) as base_url, ThreadPoolExecutor(2) as pool:
        # the meter is held until both sales wait on it, so each reads it before the
        # one ahead of it commits
        holder.execute(text("SELECT id FROM meters WHERE pan = :pan FOR UPDATE"), {"pan": pan})
        answers = [pool.submit(sell, base_url) for _ in range(2)]
        for _ in range(6_000):
            if len(lock_waiters(engine)) >= 2:
                break
            time.sleep(0.01)
        else:
            raise AssertionError("the two sales never both waited on the meter")
        holder.rollback()
        results = [a.result() for a in answers]
    assert [r.status_code for r in results] == [201, 201], [r.text for r in results]
    with make_sessionmaker(engine)() as s:
        sales = s.execute(select(Sale).order_by(Sale.id)).scalars().all()
        receipts: list[dict[str, Any]] = [x.response or {} for x in sales]
        assert [[t["kind"] for t in r["tokens"]] for r in receipts] == [
            ["kct", "kct", "credit"],
            ["credit"],
        ]
        m = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
        assert (m.supply_group_id, m.pending_supply_group_id) == (new_group_id, None)
        key = meter_config(s, security_module, pan).key()
        credits = [decode(r["tokens"][-1]["digits"], key) for r in receipts]
        assert all(isinstance(c, CreditToken) for c in credits)
        tids = {r["tid"] for r in receipts}
        assert (len(tids), m.last_tid) == (2, max(tids))
