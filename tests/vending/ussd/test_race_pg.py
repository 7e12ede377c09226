"""A gateway firing the confirm step of one session many times at once sells once
(PostgreSQL, real concurrent HTTP requests against a live server)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Sale
from tests.vending.sales.live import serve
from tests.vending.ussd.conftest import dial

pytestmark = pytest.mark.postgres
CONCURRENT = 8


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_concurrent_confirms_of_one_session_sell_once(ussd_app: FastAPI, engine: Engine) -> None:
    with serve(ussd_app) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert dial(client, "race-1", "").status_code == 200
        with ThreadPoolExecutor(CONCURRENT) as pool:
            answers = list(pool.map(lambda _: dial(client, "race-1", "2*30*1"), range(CONCURRENT)))
        again = dial(client, "race-1", "2*30*1").text
    assert all(a.status_code == 200 for a in answers)
    texts = {a.text for a in answers}
    sold = {t for t in texts if t.startswith("END Meter ..")}
    # every answer is the receipt, or "being processed" for a twin still waiting on the first
    assert len(sold) == 1
    assert texts - sold <= {
        "END Your purchase is being processed. The token comes by SMS or menu 3."
    }
    assert again in sold
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(Sale)).scalar_one() == 1
