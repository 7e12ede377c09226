"""SQL of meters and their customer links: the one ``MeterRepository`` (lookup, lists,
links, and the per-meter lock that serialises a meter's sales and take-backs)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from stsgas.vending.kit.repository import RepositoryBase
from stsgas.vending.models import Customer, CustomerMeter, Meter, Sale, SupplyGroup, utcnow


class MeterRepository(RepositoryBase[Meter]):
    """Meters by id or PAN, with what the lookup needs."""

    model = Meter

    def by_pan(self, pan: str, *, full: bool = False) -> Meter | None:
        """The meter with this PAN; ``full`` loads its supply group and tariff."""
        stmt = select(Meter).where(Meter.pan == pan)
        if full:
            stmt = stmt.options(joinedload(Meter.supply_group), joinedload(Meter.tariff))
        return self.get_one_or_none(stmt)

    def lock(self, meter_id: int) -> Meter:
        """Re-read a meter with a row lock (PostgreSQL ``FOR UPDATE``; SQLite is
        already serialised by ``BEGIN IMMEDIATE``)."""
        stmt = (
            self.select()
            .where(Meter.id == meter_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        meter = self.get_one_or_none(stmt)
        assert meter is not None
        return meter

    def supply_group(self, group_id: int) -> SupplyGroup:
        """A supply group by id (a meter's always exists: the foreign key says so)."""
        group = self.session.get(SupplyGroup, group_id)
        assert group is not None
        return group

    def page(
        self, *, status: str | None, customer_id: int | None, limit: int, offset: int
    ) -> tuple[Sequence[Meter], int]:
        """A page of meters, optionally by status or customer."""
        stmt = select(Meter).order_by(Meter.id)
        if status:
            stmt = stmt.where(Meter.status == status)
        if customer_id is not None:
            stmt = stmt.join(CustomerMeter, CustomerMeter.meter_id == Meter.id).where(
                CustomerMeter.customer_id == customer_id, CustomerMeter.active == 1
            )
        return self.paginate(stmt, limit=limit, offset=offset)

    def customer_of(self, meter_id: int, *, for_update: bool = False) -> Customer | None:
        """The customer the meter is linked to now."""
        stmt = (
            select(Customer)
            .join(CustomerMeter, CustomerMeter.customer_id == Customer.id)
            .where(CustomerMeter.meter_id == meter_id, CustomerMeter.active == 1)
        )
        if for_update:
            stmt = stmt.with_for_update(of=Customer)
        return self.session.execute(stmt).scalars().one_or_none()

    def unlink(self, meter_id: int) -> None:
        """End the meter's current customer link, if any."""
        self.session.execute(
            update(CustomerMeter)
            .where(CustomerMeter.meter_id == meter_id, CustomerMeter.active == 1)
            .values(active=None, unlinked_at=utcnow())
        )

    def link(self, meter_id: int, customer_id: int) -> CustomerMeter:
        """Start a link (end the old one first)."""
        self.unlink(meter_id)
        link = CustomerMeter(customer_id=customer_id, meter_id=meter_id, active=1)
        self.session.add(link)
        self.session.flush()
        return link

    def last_sale(self, meter_id: int) -> Sale | None:
        """The meter's newest sale."""
        stmt = select(Sale).where(Sale.meter_id == meter_id).order_by(Sale.id.desc()).limit(1)
        return self.session.execute(stmt).scalars().first()
