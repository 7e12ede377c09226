"""Scale-out: two API server processes on one PostgreSQL selling to the same meters.

The servers are real ``stsgas serve`` processes (127.0.0.1 only);
every idempotency key is sent to both at once.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.ledger.repository import LedgerRepository
from stsgas.vending.models import Meter, Sale, Token, TokenKind
from tests.processes import answer, free_port, spawn, stop
from tests.vending.conftest import TEST_KEYS, auth
from tests.vending.sales.conftest import Shop

pytestmark = pytest.mark.postgres


class Server:
    """One ``stsgas serve`` process on 127.0.0.1 that can be killed and restarted."""

    def __init__(self, db_url: str, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "STSGAS_DATABASE_URL": db_url,
            "STSGAS_MASTER_KEY": TEST_KEYS["master_key"],
            "STSGAS_POOL_SIZE": "8",
            # these runs hammer one shop's meters: lift the per-customer limit
            "STSGAS_CUSTOMER_SALES_PER_HOUR": "1000000",
            "STSGAS_VENDOR_SALES_PER_MINUTE": "1000000",
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> None:
        """Start the process and wait until it accepts connections."""
        self.proc = spawn(
            [
                sys.executable,
                "-m",
                "stsgas",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        openapi = f"{self.url}/api/v1/openapi.json"
        answer(lambda: httpx.get(openapi, timeout=1.0), self.proc, seconds=timeout)

    def kill(self) -> None:
        """SIGKILL to the process group: no shutdown, no flush, as a power cut would."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM, SIGKILL if that is not enough, always reaped (tests' cleanup)."""
        if self.proc is not None:
            stop(self.proc)


@contextmanager
def servers(db_url: str, n: int) -> Iterator[list[Server]]:
    """``n`` running servers on the database, stopped afterwards."""
    started = [Server(db_url, free_port()) for _ in range(n)]
    try:
        for s in started:
            s.start()
        yield started
    finally:
        for s in started:
            s.stop()


def check_invariants(engine: Engine, keys: set[str]) -> None:
    """One sale and one credit token per key, per-meter TIDs strictly increasing, ledger ok."""
    with make_sessionmaker(engine)() as s:
        per_key = dict(
            s.execute(
                select(Sale.idempotency_key, func.count(Sale.id)).group_by(Sale.idempotency_key)
            ).all()
        )
        assert set(per_key) == keys
        assert set(per_key.values()) == {1}
        credit = s.execute(
            select(Token.sale_id, func.count(Token.id))
            .where(Token.kind == TokenKind.CREDIT.value)
            .group_by(Token.sale_id)
        ).all()
        assert len(credit) == len(keys)
        assert {n for _, n in credit} == {1}
        for meter_id in s.execute(select(Meter.id)).scalars():
            tids = list(
                s.execute(
                    select(Token.tid)
                    .join(Sale, Sale.id == Token.sale_id)
                    .where(Token.meter_id == meter_id)
                    .order_by(Sale.id)
                ).scalars()
            )
            assert all(
                a is not None and b is not None and a < b for a, b in itertools.pairwise(tids)
            ), tids
        debit, credit_sum = LedgerRepository(s).totals()
        assert debit == credit_sum
        assert LedgerRepository(s).unbalanced_journals() == []


@pytest.fixture
def backend() -> str:
    """Scale-out is a PostgreSQL deployment: this module runs on PostgreSQL only."""
    return "postgresql"


@pytest.mark.usefixtures("admin_token")  # serve needs an admin to start (stsgas init)
def test_two_servers_one_database(engine: Engine, db_url: str, shop: Shop) -> None:
    """Each key sent to both servers at once: one sale per key, TIDs increase per meter."""
    keys = [f"so-{i}" for i in range(40)]
    with servers(db_url, 2) as (a, b):

        def post(job: tuple[str, str]) -> Any:
            key, base = job
            pan = shop.volume_pan if int(key.split("-")[1]) % 2 else shop.amount_pan
            for _ in range(20):
                r = httpx.post(
                    f"{base}/api/v1/sales",
                    timeout=30.0,
                    json={"meter_number": pan, "amount": "5", "channel": "pos"},
                    headers={**auth(shop.cashier_token), "Idempotency-Key": key},
                )
                if r.status_code != 409:
                    return r
                time.sleep(0.05)
            return r

        jobs = [(k, srv.url) for k in keys for srv in (a, b)]
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(post, jobs))
    assert {r.status_code for r in results} == {201}
    by_key: dict[str, set[int]] = {}
    for (key, _), r in zip(jobs, results, strict=True):
        by_key.setdefault(key, set()).add(r.json()["sale_id"])
    assert all(len(ids) == 1 for ids in by_key.values())
    check_invariants(engine, set(keys))
