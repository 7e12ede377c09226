"""A request whose meter stays locked by a twin: 409 in_progress with a key, else 503."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from stsgas.vending import transaction
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Meter
from tests.vending.sales.conftest import Shop, counts
from tests.vending.sales.test_service import sell

pytestmark = pytest.mark.postgres


@pytest.fixture
def backend() -> str:
    """Row-lock timeouts are PostgreSQL's (SQLite waits on its busy timeout)."""
    return "postgresql"


def test_locked_meter_answers_in_progress(
    client: TestClient, shop: Shop, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While another transaction holds the meter, a keyed sale is 409, an unkeyed one 503."""
    monkeypatch.setattr(transaction, "LOCK_TIMEOUT", "300ms")
    before = counts(engine)
    with make_sessionmaker(engine)() as holder:
        holder.execute(select(Meter).where(Meter.pan == shop.volume_pan).with_for_update())
        keyed = sell(client, shop.cashier_token, shop.volume_pan, "10", key="busy-1")
        plain = sell(client, shop.cashier_token, shop.volume_pan, "10")
        holder.rollback()
    assert keyed.status_code == 409
    assert keyed.json()["code"] == "in_progress"
    assert plain.status_code == 503
    assert plain.json()["code"] == "retry_later"
    assert counts(engine) == before
    assert sell(client, shop.cashier_token, shop.volume_pan, "10", key="busy-1").status_code == 201
