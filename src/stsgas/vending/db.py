"""Engines and sessions for SQLite and PostgreSQL, with durable commits (A11, A12).

SQLite: WAL, ``synchronous=FULL`` (a committed sale survives power loss),
``busy_timeout``, foreign keys on, text with NUL and integers past 64 bits
refused as PostgreSQL refuses them (``DataError``), and every transaction opened with
``BEGIN IMMEDIATE`` so a read-then-write never fails with SQLITE_BUSY
half-way (pass ``execution_options(sqlite_begin="DEFERRED")`` for a pure
read). PostgreSQL: psycopg 3, READ COMMITTED plus row locks and unique
constraints. Which failures run a unit of work again, and where it commits,
is :mod:`stsgas.vending.transaction`.
"""

from __future__ import annotations

import threading
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to the "begin" hook below (pysqlite's own
    # implicit BEGIN is deferred and would be too late to take the write lock).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


_INT64 = range(-(2**63), 2**63)


def _refused(value: Any) -> str | None:
    if isinstance(value, str) and "\x00" in value:
        return "a NUL character in text"
    if isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
        return "an integer past 64 bits"
    return None


def _sqlite_like_postgresql(
    _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool
) -> None:
    """Refuse what PostgreSQL refuses and SQLite would keep (a NUL in text) or crash on
    (an integer past 64 bits): both databases then answer such input with 422."""
    rows = parameters if executemany else [parameters]
    for row in rows:
        if isinstance(row, dict):
            values = list(row.values())
        else:
            values = list(row) if isinstance(row, list | tuple) else [row]
        for value in values:
            why = _refused(value)
            if why is not None:
                raise DataError(statement, parameters, ValueError(f"{why} cannot be stored"))


def _sqlite_on_begin(conn: Any) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """Create the engine for ``url`` (``sqlite:///file`` or ``postgresql+psycopg://``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=pool_size,
            max_overflow=2 * pool_size,
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        event.listen(engine, "before_cursor_execute", _sqlite_like_postgresql)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(
            parsed,
            echo=echo,
            pool_size=pool_size,
            max_overflow=2 * pool_size,
            pool_pre_ping=True,
        )
    raise ValueError(f"unsupported database {parsed.get_backend_name()!r}")


class _WriterLock:
    """One process's queue for SQLite's single writer: a waiting thread wakes as
    soon as the writer before it commits, instead of sleeping and polling in
    SQLite's busy handler (whose back-off grows to 100 ms a try)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        if not self._lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise OperationalError("writer queue", None, Exception("database is locked"))

    def __exit__(self, *_exc: object) -> None:
        self._lock.release()


_WRITERS: weakref.WeakKeyDictionary[Any, _WriterLock] = weakref.WeakKeyDictionary()
_WRITERS_LOCK = threading.Lock()


def sqlite_writer(engine: Any) -> _WriterLock:
    """The writer lock of a SQLite engine (one per engine, so per database file here)."""
    with _WRITERS_LOCK:
        lock = _WRITERS.get(engine)
        if lock is None:
            lock = _WRITERS[engine] = _WriterLock()
        return lock


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (responses are built after it)."""
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)
