"""The daily report counts the utility's local day (STSGAS_TIMEZONE), on SQLite and
PostgreSQL: a sale at 23:30 UTC is on the next day east of UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Sale
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop
from tests.vending.sales.test_service import sell


def _sales_on(client: TestClient, token: str, day: str) -> int:
    rows = client.get(f"/api/v1/reports/daily?day={day}", headers=auth(token)).json()
    return sum(int(r["sales"]) for r in rows)


def test_the_daily_report_counts_local_days(
    client: TestClient, shop: Shop, auditor_token: str, engine: Engine
) -> None:
    """UTC puts the sale on 31 January; Africa/Johannesburg (UTC+2) on 1 February."""
    sale = sell(client, shop.cashier_token, shop.volume_pan, "10").json()
    late = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    with make_sessionmaker(engine).begin() as s:
        s.execute(update(Sale).where(Sale.id == sale["sale_id"]).values(created_at=late))
    state = client.app.state  # type: ignore[attr-defined]
    utc = state.settings
    days = ("2026-01-31", "2026-02-01")
    assert [_sales_on(client, auditor_token, d) for d in days] == [1, 0]
    state.settings = utc.model_copy(update={"timezone": "Africa/Johannesburg"})
    assert [_sales_on(client, auditor_token, d) for d in days] == [0, 1]
