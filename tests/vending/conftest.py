"""Fixtures for the vending tests: every test runs on SQLite and on PostgreSQL.

* ``backend`` — "sqlite" or "postgresql" (the latter marked ``postgres``).
* ``engine`` — an empty database built by Alembic for this test: SQLite is a
  copy of a per-worker migrated file in /dev/shm (else ``tmp_path``); PostgreSQL is a
  per-worker database (``<db>_<worker>_<pid>``), migrated once, with every table
  emptied (and its ids restarted) before each test.
* ``session`` — a Session on ``engine`` (commit yourself; rolled back at the end).
* ``settings``, ``security_module``, ``app``, ``client`` (a TestClient).
* ``admin_token``, ``supervisor_token``, ``approver_token`` (a second
  supervisor), ``cashier_token``, ``auditor_token`` — bearer tokens of fresh
  operators; ``auth(token)`` makes the header.
* ``vendor`` — the vendor the cashier sells for.

PostgreSQL unreachable: the PG tests skip, or FAIL when STSGAS_REQUIRE_PG=1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from stsgas.vending.app import create_app
from stsgas.vending.db import make_engine, make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.migrations import upgrade
from stsgas.vending.models import Base, Operator, Role, Vendor
from stsgas.vending.operators import service as operators
from stsgas.vending.settings import Settings

if TYPE_CHECKING:
    from tests.vending.sales.conftest import Shop

DATA = Path(__file__).resolve().parent.parent / "data" / "vending"
TEST_KEYS: dict[str, str] = json.loads((DATA / "test-keys.json").read_text())
with warnings.catch_warnings():
    # Starlette asks for the httpx2 fork; plain httpx still works for the test client.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PG_URL = os.environ.get("STSGAS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("STSGAS_REQUIRE_PG") == "1"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
PASSWORD = "correct horse battery"
#: Where a test's SQLite file lives: in memory (tmpfs) when the machine has one, so the
#: engine's full-sync commits (kept: the application's setting) skip the disk's fsync,
#: ~1 ms a commit; removed when the test ends.
_MEMORY = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def _tables() -> list[str]:
    return [t.name for t in reversed(Base.metadata.sorted_tables)]


#: What ``TRUNCATE <every table> RESTART IDENTITY`` did, at a fraction of its cost: a
#: test leaves a few rows, and DELETE (children before parents) removes them in
#: milliseconds where TRUNCATE makes new files for every table and index (0.1-0.4 s a
#: test). Every sequence (each one belongs to an id column) then starts again at 1.
EMPTY_PG = "".join(f"DELETE FROM {t}; " for t in _tables()) + (
    "SELECT setval((quote_ident(schemaname) || '.' || quote_ident(sequencename))::regclass, "
    "1, false) "
    "FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL"
)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per worker; tests copy it."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url, pool_size=1)
    upgrade(url, engine=engine)
    engine.dispose()
    return path


def _stale_databases(conn: Any, prefix: str) -> list[str]:
    """Test databases left by runs whose process is gone (killed runs leave them)."""
    pattern = re.compile(rf"^{re.escape(prefix)}_(?:gw\d+|master)_(\d+)$")
    stale = []
    for (name,) in conn.execute(text("SELECT datname FROM pg_database")):
        match = pattern.match(name)
        if match is None:
            continue
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            stale.append(name)
        except PermissionError:
            pass  # alive, owned by someone else
    return stale


@pytest.fixture(scope="session")
def pg_engine(worker_id: str) -> Iterator[Engine]:
    """A per-worker PostgreSQL database migrated to head once (dropped at the end)."""
    base = make_url(PG_URL)
    # the pid keeps concurrent pytest runs on one server apart
    name = f"{base.database or 'test'}_{worker_id}_{os.getpid()}".replace("-", "_")
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for stale in _stale_databases(conn, base.database or "test"):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)'))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            # A throwaway database: a commit need not wait for the WAL to reach the disk
            # (only a crash of the server could lose it). Every connection, the servers the
            # tests start included, takes this; it saves a disk flush per commit.
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    except Exception as exc:
        admin.dispose()
        message = f"PostgreSQL at {PG_URL} is unreachable: {exc.__class__.__name__}: {exc}"
        if REQUIRE_PG:
            pytest.fail(f"STSGAS_REQUIRE_PG=1 but {message}", pytrace=False)
        pytest.skip(message)
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=10)
    upgrade(url, engine=engine)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test run."""
    return str(request.param)


@pytest.fixture
def engine(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty, migrated database for this test."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        folder = Path(tempfile.mkdtemp(prefix="stsgas-test-", dir=_MEMORY)) if _MEMORY else tmp_path
        path = folder / "stsgas.db"
        shutil.copyfile(template, path)
        eng = make_engine(f"sqlite:///{path}", pool_size=5)
        try:
            yield eng
        finally:
            eng.dispose()
            if folder != tmp_path:
                shutil.rmtree(folder, ignore_errors=True)
        return
    eng = request.getfixturevalue("pg_engine")
    with eng.begin() as conn:
        conn.exec_driver_sql(EMPTY_PG)
    yield eng


@pytest.fixture
def db_url(engine: Engine) -> str:
    """The URL of this test's database (for subprocesses and Alembic)."""
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the test database; whatever is not committed is rolled back."""
    s = make_sessionmaker(engine)()
    yield s
    s.rollback()
    s.close()


@pytest.fixture
def master_key() -> bytes:
    """The test master key."""
    return bytes.fromhex(TEST_KEYS["master_key"])


@pytest.fixture
def security_module(master_key: bytes) -> SoftwareSecurityModule:
    """Key custody under the test master key."""
    return SoftwareSecurityModule(master_key)


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Settings pointing at the test database, with the test master key."""
    return Settings(database_url=db_url, master_key=SecretStr(TEST_KEYS["master_key"]))


def app_with(
    settings: Settings, engine: Engine, security_module: SoftwareSecurityModule, **changes: Any
) -> Any:
    """The vending app on the test database, ``changes`` made to its settings."""
    changed = settings.model_copy(update=changes) if changes else settings
    return create_app(changed, engine=engine, security_module=security_module)


@contextmanager
def client_with(
    settings: Settings, engine: Engine, security_module: SoftwareSecurityModule, **changes: Any
) -> Iterator[TestClient]:
    """An HTTP client (lifespan run) on :func:`app_with` for the ``with`` block."""
    with TestClient(app_with(settings, engine, security_module, **changes)) as c:
        yield c


@pytest.fixture
def app(settings: Settings, engine: Engine, security_module: SoftwareSecurityModule) -> Any:
    """The vending app on the test database."""
    return app_with(settings, engine, security_module)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    """An HTTP client on the app (lifespan run)."""
    with TestClient(app) as c:
        yield c


def integrity(db_url: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """``stsgas check``'s JSON report on the database, once it exited 0 (all sound)."""
    from stsgas.cli import main

    code = main(["check", "--database", db_url])
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert code == 0, report
    return report


def auth(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def vendor(engine: Engine) -> Vendor:
    """A vendor (no float) for the cashier."""
    with make_sessionmaker(engine).begin() as s:
        return operators.create_vendor(s, actor=None, name="Main Street Kiosk")


@pytest.fixture
def make_operator(engine: Engine) -> Callable[..., tuple[Operator, str]]:
    """Factory: ``make_operator(role, username=..., vendor_id=...)`` -> (operator, token)."""
    counter = iter(range(1, 10_000))

    def make(
        role: Role, *, username: str | None = None, vendor_id: int | None = None
    ) -> tuple[Operator, str]:
        name = username or f"{role.value}{next(counter)}"
        with make_sessionmaker(engine).begin() as s:
            if role is Role.CASHIER and vendor_id is None:
                vendor_id = operators.create_vendor(s, actor=None, name=f"vendor-{name}").id
            op = operators.create_operator(
                s, actor=None, username=name, role=role, password=PASSWORD, vendor_id=vendor_id
            )
            issued = operators.issue_token(s, op, ttl=None, name="test")
            return op, issued.secret

    return make


@pytest.fixture
def admin_token(make_operator: Callable[..., tuple[Operator, str]]) -> str:
    """Bearer token of an admin."""
    return make_operator(Role.ADMIN, username="admin")[1]


@pytest.fixture
def supervisor_token(make_operator: Callable[..., tuple[Operator, str]]) -> str:
    """Bearer token of a supervisor."""
    return make_operator(Role.SUPERVISOR, username="supervisor")[1]


@pytest.fixture
def approver_token(make_operator: Callable[..., tuple[Operator, str]]) -> str:
    """Bearer token of a second supervisor (activated): the other pair of eyes."""
    return make_operator(Role.SUPERVISOR, username="approver")[1]


@pytest.fixture
def cashier_token(make_operator: Callable[..., tuple[Operator, str]], vendor: Vendor) -> str:
    """Bearer token of a cashier selling for ``vendor``."""
    return make_operator(Role.CASHIER, username="cashier", vendor_id=vendor.id)[1]


@pytest.fixture
def auditor_token(make_operator: Callable[..., tuple[Operator, str]]) -> str:
    """Bearer token of an auditor."""
    return make_operator(Role.AUDITOR, username="auditor")[1]


@pytest.fixture
def shop(
    engine: Engine,
    security_module: SoftwareSecurityModule,
    make_operator: Callable[..., tuple[Operator, str]],
) -> Shop:
    """A committed shop: supply group, tariffs, customer, meters of both modes, a
    cashier with a float and a supervisor (``tests/vending/sales/conftest.py``)."""
    from tests.vending.sales.conftest import make_shop  # it imports factories, which import us

    return make_shop(engine, security_module, make_operator)
