"""A small typed repository base: every SQL statement lives in a repository."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from stsgas.vending.models import Base

M = TypeVar("M", bound=Base)


class RepositoryBase(Generic[M]):
    """Common queries for one model; subclasses set ``model`` and add their own."""

    model: type[M]

    def __init__(self, session: Session) -> None:
        self.session = session

    def select(self) -> Select[tuple[M]]:
        """A SELECT of this model."""
        return select(self.model)

    def get(self, id_: int, *, for_update: bool = False) -> M | None:
        """The row with primary key ``id_`` (locked on PostgreSQL when ``for_update``)."""
        stmt = self.select().where(self.model.id == id_)  # type: ignore[attr-defined]
        if for_update:
            stmt = stmt.with_for_update()
        return self.get_one_or_none(stmt)

    def get_or_raise(
        self, id_: int, error: Callable[[str], Exception], what: str, *, for_update: bool = False
    ) -> M:
        """The row with primary key ``id_``, or ``error("<what> <id_> not found")`` raised:
        the one lookup behind every service's ``get``."""
        row = self.get(id_, for_update=for_update)
        if row is None:
            raise error(f"{what} {id_} not found")
        return row

    def get_one_or_none(self, statement: Select[Any]) -> M | None:
        """One row of ``statement`` or None."""
        return self.session.execute(statement).scalars().one_or_none()

    def list(self, statement: Select[Any]) -> Sequence[M]:
        """All rows of ``statement``."""
        return self.session.execute(statement).scalars().all()

    def paginate(
        self, statement: Select[Any], *, limit: int, offset: int
    ) -> tuple[Sequence[M], int]:
        """A page of ``statement`` and the total row count."""
        total = self.session.execute(
            select(func.count()).select_from(statement.order_by(None).subquery())
        ).scalar_one()
        rows = self.session.execute(statement.limit(limit).offset(offset)).scalars().all()
        return rows, int(total)

    def create(self, obj: M, *, flush: bool = False) -> M:
        """Add ``obj``; flush when the caller needs its id now."""
        self.session.add(obj)
        if flush:
            self.session.flush()
        return obj
