"""Declarative base, naming convention and the column types every model shares.

Money is ``BigInteger`` minor units (never float). Timestamps are stored as
UTC and always come back timezone-aware, on SQLite too (``UTCDateTime``).
Relationships default to ``lazy="raise"`` so a missing eager load is a bug
found in tests, not a silent query.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A ``DateTime(timezone=True)`` that refuses naive values and returns aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: A 64-bit key that is still SQLite's ROWID alias (INTEGER PRIMARY KEY).
BigIntId = BigInteger().with_variant(Integer(), "sqlite")

IntPK = Annotated[int, mapped_column(BigIntId, primary_key=True, autoincrement=True)]
Money = Annotated[int, mapped_column(BigInteger, nullable=False, default=0)]


def utcnow() -> datetime:
    """The wall clock in UTC (the vending side may read it; ``sts`` may not)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Base of every stsgas.vending table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012
