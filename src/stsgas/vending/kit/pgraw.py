"""Prepared statements straight on psycopg, for the few queries on every sale.

SQLAlchemy builds result metadata for each statement it runs; on the sale's
hot path that cost more than the statement. :func:`fetch` runs SQL on the
session's own psycopg connection (same transaction), maps driver errors to
SQLAlchemy's so retries and problem answers see the usual types, and
invalidates a lost connection in the pool as SQLAlchemy would.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


def fetch(conn: Connection, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Run ``sql`` (psycopg ``%(name)s`` style, prepared) and return all rows."""
    driver = conn.connection.driver_connection
    assert driver is not None
    try:
        with driver.cursor() as cur:
            cur.execute(sql, params, prepare=True)
            return cur.fetchall() if cur.description is not None else []
    except psycopg.Error as exc:
        gone = conn.dialect.is_disconnect(exc, driver, None)  # type: ignore[arg-type]
        if gone:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            sql,
            params,
            exc,
            psycopg.Error,
            hide_parameters=True,
            connection_invalidated=gone,
            dialect=conn.dialect,
        ) from None


_NAMED = re.compile(r"%\((\w+)\)s")


def positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """``%(name)s`` SQL as ``$n`` SQL (asyncpg's style) and the names in ``$n`` order,
    so one statement text serves both drivers."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAMED.sub(number, sql), tuple(names)
