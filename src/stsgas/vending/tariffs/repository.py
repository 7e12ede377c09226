"""SQL of tariffs and their versions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from stsgas.vending.kit.repository import RepositoryBase
from stsgas.vending.models import Tariff, TariffVersion


class TariffRepository(RepositoryBase[Tariff]):
    """Tariffs with their versions and steps loaded."""

    model = Tariff

    def _full(self) -> Select[Tariff]:
        return select(Tariff).options(
            selectinload(Tariff.versions).selectinload(TariffVersion.steps)
        )

    def full(self, tariff_id: int) -> Tariff | None:
        """One tariff with versions and steps."""
        return self.get_one_or_none(self._full().where(Tariff.id == tariff_id))

    def by_name(self, name: str) -> Tariff | None:
        """The tariff called ``name``."""
        return self.get_one_or_none(select(Tariff).where(Tariff.name == name))

    def all_full(self) -> Sequence[Tariff]:
        """Every tariff with versions and steps."""
        return self.list(self._full().order_by(Tariff.id))

    def next_version(self, tariff_id: int) -> int:
        """The number the next version of the tariff gets."""
        stmt = select(func.max(TariffVersion.version)).where(TariffVersion.tariff_id == tariff_id)
        return int(self.session.execute(stmt).scalar() or 0) + 1

    def in_force(self, tariff_id: int, at: datetime) -> TariffVersion | None:
        """The version in force at ``at`` (the latest ``effective_from`` not after it)."""
        stmt = (
            select(TariffVersion)
            .where(TariffVersion.tariff_id == tariff_id, TariffVersion.effective_from <= at)
            .order_by(TariffVersion.effective_from.desc())
            .limit(1)
            .options(selectinload(TariffVersion.steps))
        )
        return self.session.execute(stmt).scalars().first()
