"""A lost or unreachable database: the request is retried or answered 503 problem+json.

Real failures only: a PostgreSQL backend ended with ``pg_terminate_backend``
while it waits inside a request, a PostgreSQL port nobody listens on, and a
SQLite file that cannot be opened. Never a ``text/plain`` 500.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, func, select, text

from stsgas.vending.app import create_app
from stsgas.vending.db import make_engine, make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import AuditEntry, Customer, Sale
from stsgas.vending.settings import Settings
from tests.problems import problem
from tests.vending.conftest import TEST_KEYS, app_with, auth
from tests.vending.locks import lock_waiters
from tests.vending.sales.conftest import Shop

PG_ONLY = [pytest.param("postgresql", marks=pytest.mark.postgres)]


def _client(
    settings: Settings, engine: Engine, security: SoftwareSecurityModule, **changes: Any
) -> TestClient:
    return TestClient(
        app_with(settings, engine, security, **changes), raise_server_exceptions=False
    )


def _terminated_while_waiting(engine: Engine, table: str, call: Callable[[], Any]) -> Any:
    """Run ``call`` while ``table`` is locked; end its backend once it waits; then unlock."""
    with engine.connect() as locker, ThreadPoolExecutor(1) as pool:
        locker.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        running = pool.submit(call)
        pid = lock_waiters(engine)[0]
        with engine.connect() as admin:
            assert admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
            admin.commit()
        locker.commit()  # the lock goes: a retry now gets through
        return running.result(timeout=120)


def _assert_unavailable(r: Any) -> None:
    body = problem(r, 503, "database_unavailable")
    assert r.headers["retry-after"].isdigit()
    assert body.get("request_id", r.headers["x-request-id"]) == r.headers["x-request-id"]


@pytest.mark.parametrize("backend", PG_ONLY, indirect=True)
@pytest.mark.parametrize("fast", [True, False], ids=["fast-on", "fast-off"])
def test_a_sale_whose_backend_is_terminated_is_sold_once_on_a_new_one(
    shop: Shop,
    engine: Engine,
    settings: Settings,
    security_module: SoftwareSecurityModule,
    fast: bool,
) -> None:
    """The sale's session is killed while it waits for the meter: it runs again, sells once."""
    with _client(settings, engine, security_module, fast_sales=fast) as client:
        assert (
            client.post(
                "/api/v1/sales",
                json={"meter_number": shop.amount_pan, "amount": "5"},
                headers=auth(shop.cashier_token),
            ).status_code
            == 201
        )  # warm
        r = _terminated_while_waiting(
            engine,
            "meters",
            lambda: client.post(
                "/api/v1/sales",
                json={"meter_number": shop.volume_pan, "amount": "10.00"},
                headers={**auth(shop.cashier_token), "Idempotency-Key": "killed-once"},
            ),
        )
    assert r.status_code == 201, r.text
    with make_sessionmaker(engine)() as s:
        assert (
            s.execute(
                select(func.count()).select_from(Sale).where(Sale.idempotency_key == "killed-once")
            ).scalar_one()
            == 1
        )


@pytest.mark.parametrize("backend", PG_ONLY, indirect=True)
def test_a_write_whose_backend_is_terminated_runs_again_on_a_new_one(
    engine: Engine,
    settings: Settings,
    security_module: SoftwareSecurityModule,
    supervisor_token: str,
) -> None:
    """Every endpoint that writes commits through ``transaction.run``, as a sale does: a
    customer's change whose session is killed while it waits runs again, once."""
    with make_sessionmaker(engine).begin() as s:
        s.add(Customer(name="Ada", address="", phone="", debt_balance=0))
    with _client(settings, engine, security_module) as client:
        cid = client.get("/api/v1/customers", headers=auth(supervisor_token)).json()[0]["id"]
        r = _terminated_while_waiting(
            engine,
            "customers",
            lambda: client.patch(
                f"/api/v1/customers/{cid}", json={"name": "Changed"}, headers=auth(supervisor_token)
            ),
        )
    assert (r.status_code, r.json()["name"]) == (200, "Changed"), r.text
    with make_sessionmaker(engine)() as s:
        changes = s.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "customer.update", AuditEntry.object_id == str(cid))
        ).scalar_one()
    assert changes == 1  # the killed attempt left nothing; the second was kept once


@pytest.mark.parametrize("backend", PG_ONLY, indirect=True)
def test_a_read_whose_backend_is_terminated_is_503(
    engine: Engine,
    settings: Settings,
    security_module: SoftwareSecurityModule,
    supervisor_token: str,
) -> None:
    """A read is not run again: 503 database_unavailable problem+json, and the pool
    recovers for the next request."""
    with make_sessionmaker(engine).begin() as s:
        s.add(Customer(name="Ada", address="", phone="", debt_balance=0))
    with _client(settings, engine, security_module) as client:
        cid = client.get("/api/v1/customers", headers=auth(supervisor_token)).json()[0]["id"]
        r = _terminated_while_waiting(
            engine,
            "customers",
            lambda: client.get(f"/api/v1/customers/{cid}", headers=auth(supervisor_token)),
        )
        _assert_unavailable(r)
        after = client.get(f"/api/v1/customers/{cid}", headers=auth(supervisor_token))
    assert (after.status_code, after.json()["name"]) == (200, "Ada")  # the pool recovered


@pytest.fixture
def unreachable(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database that cannot be reached: a closed PostgreSQL port, or a
    SQLite path whose folder is a file."""
    if backend == "postgresql":
        engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/test", pool_size=1)
    else:
        (tmp_path / "db").write_text("a file where the database's folder should be")
        engine = create_engine(f"sqlite:///{tmp_path / 'db' / 'stsgas.db'}")
    yield engine
    engine.dispose()


UNREACHABLE_CALLS = [
    ("POST", "/api/v1/sales", {"meter_number": "600727000000000009", "amount": "10"}),
    ("GET", "/api/v1/customers", None),
    ("GET", "/api/v1/meters/600727000000000009/lookup", None),
    ("POST", "/api/v1/auth/login", {"username": "cashier", "password": "whatever it is"}),
]


@pytest.mark.parametrize("fast", [True, False], ids=["fast-on", "fast-off"])
@pytest.mark.parametrize(
    ("method", "path", "body"), UNREACHABLE_CALLS, ids=[c[1] for c in UNREACHABLE_CALLS]
)
def test_an_unreachable_database_is_503_on_every_path(
    unreachable: Engine,
    security_module: SoftwareSecurityModule,
    fast: bool,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    """Nothing answers: every endpoint says 503 database_unavailable, never a bare 500."""
    settings = Settings(
        database_url=unreachable.url.render_as_string(hide_password=False),
        master_key=SecretStr(TEST_KEYS["master_key"]),
        fast_sales=fast,
    )
    app = create_app(settings, engine=unreachable, security_module=security_module)
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.request(method, path, json=body, headers=auth("some-token-secret"))
    _assert_unavailable(r)
