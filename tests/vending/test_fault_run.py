"""Fault run (rule T3, loopback only, bounded): POS clients retry while the server
is SIGKILLed and restarted; afterwards every key has one sale and one token, TIDs
only increase per meter and the ledger balances — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import Engine, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Sale
from tests.processes import free_port
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop
from tests.vending.test_scaleout import Server, check_invariants

CLIENTS = 4
MAX_KEYS_PER_CLIENT = 300
KILLS = 3
DEADLINE_S = 45.0


@pytest.mark.usefixtures("admin_token")  # serve needs an admin to start (stsgas init)
def test_kill_and_restart_under_load(engine: Engine, db_url: str, shop: Shop) -> None:
    """Retried sales across 3 SIGKILLs: exactly-once per key, TIDs increase, ledger balances."""
    server = Server(db_url, free_port())
    server.start()
    stop = time.monotonic() + DEADLINE_S
    outcomes: dict[str, int] = {}
    errors: list[str] = []
    sent: set[str] = set()
    lock = threading.Lock()
    killed = threading.Event()

    def client(n: int) -> None:
        """Sell until the killer is done; each key retried until it succeeds."""
        with httpx.Client(timeout=5.0) as http:
            for i in range(MAX_KEYS_PER_CLIENT):
                if killed.is_set():
                    break
                key = f"fault-{n}-{i}"
                with lock:
                    sent.add(key)
                pan = shop.volume_pan if (n + i) % 2 else shop.amount_pan
                while time.monotonic() < stop:
                    try:
                        r = http.post(
                            f"{server.url}/api/v1/sales",
                            json={"meter_number": pan, "amount": "2", "channel": "pos"},
                            headers={**auth(shop.cashier_token), "Idempotency-Key": key},
                        )
                    except httpx.HTTPError as exc:
                        with lock:
                            errors.append(type(exc).__name__)
                        time.sleep(0.05)
                        continue
                    if r.status_code == 201:
                        with lock:
                            outcomes[key] = int(r.json()["sale_id"])
                        break
                    assert r.status_code in (409, 500, 502, 503), r.text
                    time.sleep(0.05)

    def killer() -> None:
        for _ in range(KILLS):
            time.sleep(1.2)
            server.kill()
            time.sleep(0.2)
            server.start()
        time.sleep(0.5)
        killed.set()

    try:
        with ThreadPoolExecutor(CLIENTS + 1) as pool:
            futures = [pool.submit(client, n) for n in range(CLIENTS)]
            futures.append(pool.submit(killer))
            for f in futures:
                f.result()
    finally:
        server.stop()
    assert errors, "the kills hit requests in flight"
    assert set(outcomes) == sent, "every key got its sale before the deadline"
    check_invariants(engine, sent)
    with make_sessionmaker(engine)() as s:
        stored = {str(k): int(i) for k, i in s.execute(select(Sale.idempotency_key, Sale.id))}
    assert stored == outcomes
