"""Idempotency keys are the operator's own: nobody squats another's next key.

The same key from two operators makes two independent sales, on the FastAPI
route (both backends) and on PostgreSQL's event-loop path, also when both
send it at the same moment; each operator's retries still replay its own sale.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from stsgas.vending.app import create_app
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import Operator, Role, Sale, Token
from stsgas.vending.sales.fast import SalePool
from stsgas.vending.settings import Settings
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop

TWINS = 6


@pytest.fixture
def other_cashier(shop: Shop, make_operator: Callable[..., tuple[Operator, str]]) -> str:
    """A second cashier of the shop's vendor (same float, another person)."""
    return make_operator(Role.CASHIER, username="othercashier", vendor_id=shop.vendor_id)[1]


def _sell(client: TestClient, token: str, pan: str, key: str, channel: str = "api") -> Any:
    return client.post(
        "/api/v1/sales",
        headers={**auth(token), "Idempotency-Key": key},
        json={"meter_number": pan, "amount": "5.00", "channel": channel},
    )


def test_one_key_from_two_operators_makes_two_sales(
    client: TestClient, shop: Shop, other_cashier: str, engine: Engine
) -> None:
    """The second operator's key is not the first one's replay: its own sale and token."""
    first = _sell(client, shop.cashier_token, shop.amount_pan, "sms-42", channel="sms")
    second = _sell(client, other_cashier, shop.amount_pan, "sms-42", channel="sms")
    assert (first.status_code, second.status_code) == (201, 201), second.text
    assert "idempotent-replayed" not in second.headers
    assert first.json()["sale_id"] != second.json()["sale_id"]
    assert first.json()["token"] != second.json()["token"]
    again = _sell(client, other_cashier, shop.amount_pan, "sms-42", channel="sms")
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json()["sale_id"] == second.json()["sale_id"]
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(Sale)).scalar_one() == 2


def test_the_outcome_of_a_key_is_its_operator_s_only(
    client: TestClient, shop: Shop, other_cashier: str
) -> None:
    """Another operator asking what became of a key sees nothing (it may use the key)."""
    assert _sell(client, shop.cashier_token, shop.amount_pan, "lost-1").status_code == 201
    own = client.get(
        "/api/v1/sales/outcome", params={"key": "lost-1"}, headers=auth(shop.cashier_token)
    )
    assert own.status_code == 200
    other = client.get(
        "/api/v1/sales/outcome", params={"key": "lost-1"}, headers=auth(other_cashier)
    )
    assert (other.status_code, other.json()["code"]) == (404, "sale_not_found")


def test_two_operators_racing_one_key_get_one_sale_each(
    client: TestClient, shop: Shop, other_cashier: str, engine: Engine
) -> None:
    """Both operators send the key from several threads at once (the route path):
    exactly one sale per operator, every twin answers it."""
    tokens = [shop.cashier_token, other_cashier] * TWINS
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda t: _sell(client, t, shop.volume_pan, "shared"), tokens))
    _assert_one_sale_each(answers, tokens, engine)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_the_event_loop_path_scopes_keys_under_concurrency(
    shop: Shop,
    other_cashier: str,
    engine: Engine,
    settings: Settings,
    security_module: SoftwareSecurityModule,
) -> None:
    """The same race on PostgreSQL's event-loop sale path (``sales.fast``)."""
    app = create_app(settings, engine=engine, security_module=security_module)
    tokens = [shop.cashier_token, other_cashier] * TWINS

    async def run() -> tuple[list[httpx.Response], int]:
        dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        app.state.sale_pool = pool = await SalePool.open(dsn, size=8)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:

                async def post(token: str, key: str) -> httpx.Response:
                    return await c.post(
                        "/api/v1/sales",
                        headers={**auth(token), "Idempotency-Key": key},
                        json={"meter_number": shop.amount_pan, "amount": "2.00"},
                    )

                assert (await post(shop.cashier_token, "warm")).status_code == 201
                answers = await asyncio.gather(*(post(t, "shared") for t in tokens))
            return list(answers), pool.stats["fast"]
        finally:
            app.state.sale_pool = None
            await pool.close()

    answers, fast = asyncio.run(run())
    assert fast >= 2  # the event loop sold (not only the route)
    _assert_one_sale_each(answers, tokens, engine, warm=1)


def _assert_one_sale_each(
    answers: list[Any], tokens: list[str], engine: Engine, warm: int = 0
) -> None:
    assert [r.status_code for r in answers] == [201] * len(answers), [r.text for r in answers]
    by_token: dict[str, set[int]] = {}
    for token, r in zip(tokens, answers, strict=True):
        by_token.setdefault(token, set()).add(r.json()["sale_id"])
    assert [len(ids) for ids in by_token.values()] == [1, 1]
    assert len(set.union(*by_token.values())) == 2
    with make_sessionmaker(engine)() as s:
        keyed = s.execute(select(Sale.operator_id).where(Sale.idempotency_key == "shared"))
        assert len(set(keyed.scalars().all())) == 2
        assert s.execute(select(func.count()).select_from(Sale)).scalar_one() == 2 + warm
        assert s.execute(select(func.count()).select_from(Token)).scalar_one() == 2 + warm
