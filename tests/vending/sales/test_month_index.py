"""A sale's lock sums its own meter's units of this month from an index range
(migration 0018).

The sale pool plans its statements once per connection (a generic plan). With
an index on ``meter_id`` and another on ``created_at``, the month's sum read all
of the meter's sales ever (or, where the meter had many, joined the index of
every sale's time), so a sale cost more as its meter, or the utility, sold
more. The composite index bounds the read to the meter's rows of the month.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, Table, text

from stsgas.vending.models import Meter, Sale
from stsgas.vending.sales import store_pg
from stsgas.vending.sales.compose import month_start
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop
from tests.vending.sales.plans import generic_plan

pytestmark = pytest.mark.postgres

#: other sales of the month, on other meters: enough for the planner to see them
OTHERS = 20_000
METERS = 2_000


def _fill_month(engine: Engine, shop: Shop, client: object) -> None:
    """One real sale on the amount meter, copied over ``METERS`` other meters this month."""
    r = client.post(  # type: ignore[attr-defined]
        "/api/v1/sales",
        json={"meter_number": shop.amount_pan, "amount": "10.00", "channel": "pos"},
        headers=auth(shop.cashier_token),
    )
    assert r.status_code == 201, r.text
    meters: Table = Meter.__table__  # type: ignore[assignment]
    sales: Table = Sale.__table__  # type: ignore[assignment]
    meter_cols = ", ".join(c.name for c in meters.columns if c.name not in ("id", "pan"))
    sale_cols = [c.name for c in sales.columns if c.name not in ("id", "idempotency_key")]
    spread = ", ".join("n.id" if c == "meter_id" else f"s.{c}" for c in sale_cols)
    with engine.begin() as conn:
        # a utility's worth of other meters (copies of the amount meter), each with sales
        conn.execute(
            text(
                f"INSERT INTO meters (pan, {meter_cols}) SELECT "
                f"'9' || lpad(g::text, 17, '0'), {meter_cols} FROM meters, "
                f"generate_series(1, {METERS}) g WHERE pan = :pan"
            ),
            {"pan": shop.amount_pan},
        )
        conn.execute(
            text(
                f"INSERT INTO sales ({', '.join(sale_cols)}) SELECT {spread} FROM sales s "
                f"CROSS JOIN meters n CROSS JOIN generate_series(1, {OTHERS // METERS}) "
                "WHERE n.pan LIKE '9%'"
            )
        )
        conn.execute(text("ANALYZE"))


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_the_sale_lock_reads_only_its_meters_month(
    engine: Engine, shop: Shop, client: object
) -> None:
    """With thousands of other sales this month, the lock's month sum reads the meter's
    own rows from the month's start, never the index of every sale's time."""
    _fill_month(engine, shop, client)
    now = datetime.now(UTC)
    lock = generic_plan(
        engine,
        store_pg.LOCK,
        store_pg.lock_params(
            shop.volume_pan,
            channel="pos",
            key=None,
            now=now,
            month_start=month_start(now),
            operator_id=shop.cashier_id,
        ),
    )
    # the month's units: an index range on the meter's own rows from the month's start
    # (a bitmap or a plain index scan, as the statistics of the moment make it cheaper)
    assert re.search(
        r"(Bitmap Index Scan on|Index Scan using) ix_sales_meter_id_created_at.*\n.*"
        r"Index Cond: \(\(meter_id = m\.id\) AND \(created_at >= \$\d+\)\)",
        lock,
    ), lock
    # and nothing walks the index of every sale's time
    assert "ix_sales_created_at" not in lock, lock
