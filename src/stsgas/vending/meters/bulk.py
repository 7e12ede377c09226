"""SQL of a meter book import: the look-ups and the batched writes.

A book of a million meters must not cost a million round trips: the PANs
already registered are found a chunk at a time, and customers, meters and
their links are written in bulk (COPY on PostgreSQL, executemany on SQLite).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from stsgas.vending.models import (
    Customer,
    CustomerMeter,
    Meter,
    MeterStatus,
    SupplyGroup,
    Tariff,
)

__all__ = ["BookRow", "GroupKey", "groups", "registered", "tariffs", "write"]

#: under SQLite's bound-parameter limit on every version still in use
CHUNK = 900
T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupKey:
    """What a meter takes from its supply group."""

    id: int
    ken: int
    base_date: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BookRow:
    """One checked line of a book, ready to write."""

    line: int
    pan: str
    iin: str
    drn: str
    mode: str
    group: GroupKey
    ti: str
    tariff_id: int | None
    customer: tuple[str, str, str] | None  #: name, phone, address


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def groups(session: Session) -> dict[tuple[str, int], GroupKey]:
    """Every supply group by (SGC, KRN)."""
    rows = session.execute(
        select(
            SupplyGroup.id, SupplyGroup.sgc, SupplyGroup.krn, SupplyGroup.ken, SupplyGroup.base_date
        )
    )
    return {(sgc, krn): GroupKey(id=i, ken=ken, base_date=bd) for i, sgc, krn, ken, bd in rows}


def tariffs(session: Session) -> dict[str, tuple[int, str]]:
    """Every tariff's (id, mode) by name."""
    return {
        name: (i, mode)
        for i, name, mode in session.execute(select(Tariff.id, Tariff.name, Tariff.mode))
    }


def registered(session: Session, pans: Iterable[str]) -> set[str]:
    """Those of ``pans`` that are registered meters already."""
    found: set[str] = set()
    if session.get_bind().dialect.name == "postgresql":  # one array parameter a chunk
        stmt = text("SELECT pan FROM meters WHERE pan = ANY(:pans)")
        for chunk in _chunks(list(pans), 50_000):
            found.update(session.execute(stmt, {"pans": list(chunk)}).scalars())
        return found
    for chunk in _chunks(list(pans)):
        found.update(session.execute(select(Meter.pan).where(Meter.pan.in_(chunk))).scalars())
    return found


def write(session: Session, rows: Sequence[BookRow], *, now: datetime) -> int:
    """Insert the customers, meters and links of ``rows``; the number of customers.

    Ids are taken first (PostgreSQL: from the table's sequence; SQLite: after the
    highest, safe because the transaction began with the write lock), so the rows
    go in without a round trip each: COPY on PostgreSQL, one executemany on SQLite.
    A PAN registered meanwhile by someone else fails the unique index here
    (``IntegrityError``); the caller lists it."""
    with_customer = [r for r in rows if r.customer is not None]
    customer_ids = _new_ids(session, "customers", len(with_customer))
    meter_ids = _new_ids(session, "meters", len(rows))
    meter_of = {r.line: m for r, m in zip(rows, meter_ids, strict=True)}
    link_ids = _new_ids(session, "customer_meters", len(with_customer))
    _put(
        session,
        Customer,
        (
            "id",
            "name",
            "phone",
            "address",
            "debt_balance",
            "rate_window",
            "rate_count",
            "created_at",
        ),
        (
            (i, *r.customer, 0, 0, 0, now)
            for i, r in zip(customer_ids, with_customer, strict=True)
            if r.customer is not None
        ),
    )
    _put(
        session,
        Meter,
        (
            "id",
            "pan",
            "iin",
            "drn",
            "mode",
            "status",
            "supply_group_id",
            "ti",
            "ken",
            "base_date",
            "tariff_id",
            "last_tid",
            "created_at",
            "updated_at",
        ),
        (
            (
                i,
                r.pan,
                r.iin,
                r.drn,
                r.mode,
                MeterStatus.ACTIVE.value,
                r.group.id,
                r.ti,
                r.group.ken,
                r.group.base_date,
                r.tariff_id,
                0,
                now,
                now,
            )
            for i, r in zip(meter_ids, rows, strict=True)
        ),
    )
    _put(
        session,
        CustomerMeter,
        ("id", "customer_id", "meter_id", "linked_at", "active"),
        (
            (i, c, meter_of[r.line], now, 1)
            for i, c, r in zip(link_ids, customer_ids, with_customer, strict=True)
        ),
    )
    return len(customer_ids)


def _new_ids(session: Session, table: str, n: int) -> list[int]:
    """``n`` fresh primary keys of ``table``."""
    if n == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        stmt = text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)")
        return list(session.execute(stmt, {"t": table, "n": n}).scalars())
    top = session.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one()
    return list(range(top + 1, top + 1 + n))


def _put(
    session: Session, model: Any, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]
) -> None:
    """Write ``rows`` (values in ``columns`` order) into ``model``'s table."""
    table = model.__table__
    if session.get_bind().dialect.name != "postgresql":
        _executemany(session, table, columns, rows)
        return
    conn = session.connection()
    driver = conn.connection.driver_connection
    assert driver is not None
    sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    try:
        with driver.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise DBAPIError.instance(
            sql, None, exc, psycopg.Error, hide_parameters=True, dialect=conn.dialect
        ) from None


def _executemany(
    session: Session, table: Any, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]
) -> None:
    """One executemany of plain tuples (SQLite): each column's value is converted by the
    column's own type, as SQLAlchemy would bind it, once per distinct value in a row
    (the time columns hold one value for the whole book)."""
    conn = session.connection()
    dialect = conn.dialect
    procs = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    last: list[tuple[Any, Any]] = [(object(), None)] * len(columns)

    def bind(row: tuple[Any, ...]) -> tuple[Any, ...]:
        out = list(row)
        for i, proc in enumerate(procs):
            if proc is not None:
                seen, done = last[i]
                if out[i] is not seen:
                    done = proc(out[i])
                    last[i] = (out[i], done)
                out[i] = done
        return tuple(out)

    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    batch = [bind(r) for r in rows]
    for part in _chunks(batch, 20_000):
        conn.exec_driver_sql(sql, list(part))
