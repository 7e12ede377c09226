"""SQL of supply groups."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update

from stsgas.vending.kit.repository import RepositoryBase
from stsgas.vending.models import Meter, MeterStatus, SupplyGroup


class SupplyGroupRepository(RepositoryBase[SupplyGroup]):
    """Supply groups by id or (SGC, KRN)."""

    model = SupplyGroup

    def by_code(self, sgc: str, krn: int) -> SupplyGroup | None:
        """The group with this SGC and key revision."""
        stmt = select(SupplyGroup).where(SupplyGroup.sgc == sgc, SupplyGroup.krn == krn)
        return self.get_one_or_none(stmt)

    def all(self) -> Sequence[SupplyGroup]:
        """Every group, by SGC then KRN."""
        return self.list(select(SupplyGroup).order_by(SupplyGroup.sgc, SupplyGroup.krn))

    def schedule_move(self, from_id: int, to_id: int) -> int:
        """Set the pending supply group of every active meter on ``from_id``."""
        result = self.session.execute(
            update(Meter)
            .where(Meter.supply_group_id == from_id, Meter.status == MeterStatus.ACTIVE.value)
            .values(pending_supply_group_id=to_id)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
