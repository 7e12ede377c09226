"""``/healthz`` and ``/readyz``: alive without the database; ready only when the database
answers and the master key opens its vending keys; no authentication."""

from __future__ import annotations

import secrets

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine

from stsgas.vending.app import create_app
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.settings import Settings
from tests.problems import problem
from tests.vending.conftest import TEST_KEYS
from tests.vending.sales.conftest import Shop

#: nothing listens on port 1: a real, unreachable PostgreSQL server
UNREACHABLE = "postgresql+psycopg://stsgas:Unreach-pw-42@127.0.0.1:1/stsgas"


def test_unreachable_database_is_alive_but_not_ready() -> None:
    """The database cannot be reached: /healthz 200 (it never asks), /readyz 503
    ``database_unavailable``, and the password appears nowhere in the answer."""
    settings = Settings(database_url=UNREACHABLE, master_key=SecretStr(TEST_KEYS["master_key"]))
    app = create_app(settings)
    with TestClient(app) as client:
        alive = client.get("/healthz")
        assert (alive.status_code, alive.json()) == (200, {"status": "alive"})
        r = client.get("/readyz")
        problem(r, 503, "database_unavailable")
        assert r.headers["retry-after"] == "5"
        assert "Unreach-pw-42" not in r.text


def test_ready_with_database_and_keys(client: TestClient, shop: Shop) -> None:
    """A migrated database whose supply group's key opens: 200, without a bearer token."""
    r = client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "status": "ready",
        "database": "ok",
        "key_custody": "ok",
        "supply_groups": 1,
    }


def test_wrong_master_key_is_not_ready(engine: Engine, settings: Settings, shop: Shop) -> None:
    """A master key that does not open the supply group's vending key: 503
    ``key_custody_failed`` naming the group."""
    other = SoftwareSecurityModule(secrets.token_bytes(32))
    with TestClient(create_app(settings, engine=engine, security_module=other)) as client:
        body = problem(client.get("/readyz"), 503, "key_custody_failed")
        assert "supply group" in str(body["detail"])
        assert client.get("/healthz").status_code == 200


def test_no_master_key_is_not_ready(engine: Engine, db_url: str) -> None:
    """No master key configured: 503 ``no_master_key``."""
    settings = Settings(database_url=db_url, master_key=None, master_key_file=None)
    with TestClient(create_app(settings, engine=engine)) as client:
        problem(client.get("/readyz"), 503, "no_master_key")
