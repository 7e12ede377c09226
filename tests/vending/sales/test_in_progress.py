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


@pytest.fixture(autouse=True)
def short_lock_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lock waits give up after 300 ms, not 10 s, on both sale paths. Autouse, so it is
    set before ``client`` starts the app: the event-loop path's pool (``sales.fast``)
    takes its ``lock_timeout`` when the lifespan opens it."""
    monkeypatch.setattr(transaction, "LOCK_TIMEOUT", "300ms")


def test_locked_meter_answers_in_progress(client: TestClient, shop: Shop, engine: Engine) -> None:
    """While another transaction holds the meter, a keyed sale is 409, an unkeyed one 503."""
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
