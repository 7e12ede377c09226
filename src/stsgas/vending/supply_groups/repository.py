"""SQL of supply groups."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, func, select, update

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

    def one_meter_per_key_setting(self, group_id: int) -> Sequence[Meter]:
        """One active meter of the group for each (base date, TI) its meters are on."""
        firsts = (
            select(func.min(Meter.id))
            .where(Meter.supply_group_id == group_id, Meter.status == MeterStatus.ACTIVE.value)
            .group_by(Meter.base_date, Meter.ti)
        )
        return (
            self.session.execute(select(Meter).where(Meter.id.in_(firsts)).order_by(Meter.id))
            .scalars()
            .all()
        )

    def schedule_move(self, from_id: int, to_id: int, *, base_date: int) -> int:
        """Set the pending supply group of every active meter on ``from_id``, and the
        pending base date of those on another base date than ``base_date``."""
        result = self.session.execute(
            update(Meter)
            .where(Meter.supply_group_id == from_id, Meter.status == MeterStatus.ACTIVE.value)
            .values(
                pending_supply_group_id=to_id,
                pending_base_date=case((Meter.base_date != base_date, base_date), else_=None),
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
