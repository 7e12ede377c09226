"""Engine settings: durable SQLite commits, write locks taken at BEGIN, retry rules; the
per-test PostgreSQL reset."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from stsgas.vending import transaction
from stsgas.vending.db import make_engine, make_sessionmaker
from stsgas.vending.errors import RetryLater
from stsgas.vending.models import Vendor
from stsgas.vending.operators import service as operators
from stsgas.vending.transaction import Failure
from tests.vending.conftest import EMPTY_PG


def test_sqlite_is_wal_with_full_sync(tmp_path: Path) -> None:
    """A SQLite engine runs in WAL mode with synchronous=FULL and a busy timeout."""
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_sqlite_transactions_take_the_write_lock_at_begin(tmp_path: Path) -> None:
    """While one transaction is open, a second writer cannot begin (BEGIN IMMEDIATE)."""
    path = tmp_path / "b.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    with engine.connect() as first:
        first.execute(text("SELECT count(*) FROM t"))  # a read, inside BEGIN IMMEDIATE
        second = sqlite3.connect(path, timeout=0.05, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            second.execute("BEGIN IMMEDIATE")
        second.close()
        first.rollback()
    engine.dispose()


def _sqlite_session(tmp_path: Path) -> Session:
    return make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'r.db'}"))()


def test_a_unit_is_run_again_after_a_lock_timeout(tmp_path: Path) -> None:
    """A retryable failure runs the whole unit again; its first success is returned."""
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("BEGIN", {}, Exception("database is locked"))
        return "done"

    with _sqlite_session(tmp_path) as session:
        assert transaction.run(session, flaky) == "done"
    assert len(calls) == 3


def test_a_unit_is_not_run_again_after_other_errors(tmp_path: Path) -> None:
    """A database error nobody can cure by waiting is raised at once."""
    calls = []

    def broken() -> None:
        calls.append(1)
        raise OperationalError("SELECT", {}, Exception("no such table: x"))

    with _sqlite_session(tmp_path) as session, pytest.raises(OperationalError):
        transaction.run(session, broken)
    assert len(calls) == 1


def test_a_unit_that_keeps_failing_answers_retry_later(tmp_path: Path) -> None:
    def locked() -> None:
        raise OperationalError("BEGIN", {}, Exception("database is locked"))

    with _sqlite_session(tmp_path) as session, pytest.raises(RetryLater):
        transaction.run(session, locked)


@pytest.mark.parametrize(
    ("exc", "failure"),
    [
        (ValueError("x"), Failure.OTHER),
        (transaction.ReadChanged("x"), Failure.RETRY),
        (ConnectionResetError("peer"), Failure.LOST),
        (OperationalError("x", {}, Exception("database is locked")), Failure.RETRY),
        (IntegrityError("x", {}, Exception("UNIQUE constraint failed")), Failure.DUPLICATE),
        (DataError("x", {}, Exception("a NUL character")), Failure.OTHER),
    ],
)
def test_one_classifier_for_every_driver(exc: BaseException, failure: Failure) -> None:
    assert transaction.classify(exc) is failure


def test_engine_commits_on_both_backends(engine: Engine) -> None:
    """A committed row is visible from a new connection."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO vendors (name, float_balance, is_active, created_at) "
                "VALUES ('v', 0, true, CURRENT_TIMESTAMP)"
            )
        )
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM vendors")).scalar() == 1


def test_deferred_option_leaves_the_write_lock_free(tmp_path: Path) -> None:
    """A connection opened with sqlite_begin=DEFERRED does not block another writer."""
    path = tmp_path / "c.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as reader:
        reader.execute(text("SELECT count(*) FROM t"))
        writer = sqlite3.connect(path, timeout=0.05, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO t VALUES (1)")
        writer.execute("COMMIT")
        writer.close()
        reader.rollback()
    engine.dispose()


@pytest.mark.postgres
def test_postgres_deadlock_is_retried(pg_engine: Engine) -> None:
    """A real PostgreSQL deadlock (40P01) runs the victim's unit again; both updates land once."""
    import threading

    engine = pg_engine
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE vendors RESTART IDENTITY CASCADE"))
        conn.execute(
            text(
                "INSERT INTO vendors (id, name, float_balance, is_active, created_at) "
                "VALUES (1, 'a', 0, true, now()), (2, 'b', 0, true, now())"
            )
        )
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    tries: list[int] = []

    def worker(first: int, second: int) -> None:
        attempts: list[int] = []
        session = make_sessionmaker(engine)()

        def txn() -> None:
            attempts.append(1)
            tries.append(first)
            bump = text("UPDATE vendors SET float_balance = float_balance + 1 WHERE id = :i")
            session.execute(bump, {"i": first})
            if len(attempts) == 1:  # both hold one row lock, then cross: a deadlock
                barrier.wait(timeout=10)
            session.execute(bump, {"i": second})

        try:
            transaction.run(session, txn)
        except BaseException as exc:
            errors.append(exc)
        finally:
            session.close()

    threads = [threading.Thread(target=worker, args=a) for a in ((1, 2), (2, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(tries) == 3  # one side was chosen as the deadlock victim and retried
    with engine.connect() as conn:
        total = conn.execute(text("SELECT sum(float_balance) FROM vendors")).scalar()
    assert total == 4  # both transactions applied exactly once


@pytest.mark.postgres
def test_each_test_gets_empty_tables_with_ids_from_one(pg_engine: Engine) -> None:
    """The per-test reset (``EMPTY_PG``) leaves no row behind and restarts every id, as
    ``TRUNCATE ... RESTART IDENTITY`` did: rows written before it are gone after it."""
    with pg_engine.begin() as conn:
        conn.exec_driver_sql(EMPTY_PG)  # other tests here use the database directly
    with make_sessionmaker(pg_engine).begin() as s:
        for name in ("a", "b", "c"):
            operators.create_vendor(s, actor=None, name=name)
    with pg_engine.begin() as conn:
        conn.exec_driver_sql(EMPTY_PG)
    with pg_engine.connect() as conn:
        tables = inspect(conn).get_table_names()
        left = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}
    assert {t: n for t, n in left.items() if n and t != "alembic_version"} == {}
    with make_sessionmaker(pg_engine).begin() as s:
        assert operators.create_vendor(s, actor=None, name="first").id == 1
        assert s.execute(select(func.count()).select_from(Vendor)).scalar_one() == 1
    with pg_engine.begin() as conn:
        conn.exec_driver_sql(EMPTY_PG)
