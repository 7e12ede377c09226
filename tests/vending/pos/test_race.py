"""The same queued POS sale sent twice at once (two drains, two tabs, a resend racing
a slow first send) against PostgreSQL over real HTTP: one sale, both answers name it."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select

from stsgas.vending import web
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Sale
from tests.vending.conftest import PASSWORD
from tests.vending.sales.conftest import Shop
from tests.vending.sales.live import serve

pytestmark = pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgres)]
)
ATTEMPTS = 6


@pytest.fixture
def live(app: FastAPI, shop: Shop) -> Iterator[str]:
    """A real uvicorn server on the test's PostgreSQL database, with the POS."""
    web.install(app)
    with serve(app) as url:
        yield url


def _signed_in(url: str) -> tuple[dict[str, str], str]:
    """The cashier's session cookie and CSRF value, as the POS page holds them."""
    with httpx.Client(base_url=url) as c:
        r = c.post("/console/login", data={"username": "shopcashier", "password": PASSWORD})
        assert r.status_code in (200, 303), r.text
        session = c.get("/pos/api/session").json()
        return dict(c.cookies), session["csrf"]


def _send(url: str, cookies: dict[str, str], csrf: str, key: str, meter: str) -> httpx.Response:
    with httpx.Client(base_url=url, cookies=cookies, timeout=30) as c:
        return c.post(
            "/pos/api/sell",
            json={"meter": meter, "amount": "10"},
            headers={"Idempotency-Key": key, "X-CSRF-Token": csrf},
        )


def test_same_queued_sale_sent_twice_at_once_sells_once(
    live: str, shop: Shop, engine: Engine
) -> None:
    """Per key: two concurrent sends; every 200 names the same sale, a 409 in_progress
    resent names it too, and the database holds one sale per key."""
    cookies, csrf = _signed_in(live)
    for _ in range(ATTEMPTS):
        key = str(uuid.uuid4())
        start = threading.Barrier(2)
        answers: list[httpx.Response] = []

        def send(
            key: str = key,
            start: threading.Barrier = start,
            answers: list[httpx.Response] = answers,
        ) -> None:
            start.wait()
            answers.append(_send(live, cookies, csrf, key, shop.volume_pan))

        threads = [threading.Thread(target=send) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert len(answers) == 2
        ids = set()
        for answer in answers:
            if answer.status_code == 409:
                assert answer.json()["code"] == "in_progress"
                answer = _send(live, cookies, csrf, key, shop.volume_pan)
            assert answer.status_code == 200, answer.text
            ids.add(answer.json()["sale_id"])
        assert len(ids) == 1
        with make_sessionmaker(engine)() as s:
            keyed = s.execute(
                select(func.count()).select_from(Sale).where(Sale.idempotency_key == f"pos-{key}")
            ).scalar_one()
        assert keyed == 1
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(Sale)).scalar_one() == ATTEMPTS
