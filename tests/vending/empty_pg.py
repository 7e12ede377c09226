"""An empty, unmigrated PostgreSQL database for one test: made, handed over, dropped.

For tests that run ``stsgas init`` or ``serve --migrate`` themselves (the shared
``pg_engine`` fixture is already migrated)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import URL, create_engine, text
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("STSGAS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("STSGAS_REQUIRE_PG") == "1"


@contextmanager
def empty_database(prefix: str) -> Iterator[URL]:
    """A new database named PREFIX_pid_random; skipped (failed under STSGAS_REQUIRE_PG=1)
    when the server cannot be reached."""
    base = make_url(PG_URL)
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        if REQUIRE_PG:
            pytest.fail(f"STSGAS_REQUIRE_PG=1 but PostgreSQL is unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    try:
        yield base.set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
