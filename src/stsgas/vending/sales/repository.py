"""The ORM queries of sales: look-ups, history, reprints, refunds (the sale
itself runs on ``store``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from stsgas.vending.kit.repository import RepositoryBase
from stsgas.vending.models import (
    Customer,
    CustomerMeter,
    ManagementKind,
    ManagementRequest,
    Meter,
    RequestStatus,
    Sale,
    SaleStatus,
    SupplyGroup,
    Token,
    Vendor,
)


class SaleRepository(RepositoryBase[Sale]):
    """Sales with their tokens loaded (relationships are ``lazy="raise"``)."""

    model = Sale

    def by_id(self, sale_id: int) -> Sale | None:
        """A sale and its tokens."""
        stmt = self.select().where(Sale.id == sale_id).options(selectinload(Sale.tokens))
        return self.get_one_or_none(stmt)

    def by_idempotency_key(self, operator_id: int, channel: str, key: str) -> Sale | None:
        """The sale ``operator_id`` made under ``(channel, key)``, with its tokens."""
        stmt = (
            self.select()
            .where(
                Sale.operator_id == operator_id,
                Sale.channel == channel,
                Sale.idempotency_key == key,
            )
            .options(selectinload(Sale.tokens))
        )
        return self.get_one_or_none(stmt)

    def last_for_meter(self, meter_id: int) -> Sale | None:
        """The newest sale of a meter."""
        stmt = (
            self.select()
            .where(Sale.meter_id == meter_id)
            .order_by(Sale.id.desc())
            .limit(1)
            .options(selectinload(Sale.tokens))
        )
        return self.get_one_or_none(stmt)

    def for_meter(self, meter_id: int, *, limit: int = 200) -> Sequence[Sale]:
        """A meter's sales, newest first."""
        stmt = (
            self.select()
            .where(Sale.meter_id == meter_id)
            .order_by(Sale.id.desc())
            .limit(limit)
            .options(selectinload(Sale.tokens))
        )
        return self.list(stmt)

    def page(self, *, vendor_id: int | None, limit: int, offset: int) -> Sequence[Sale]:
        """Newest sales first, of one vendor when ``vendor_id`` is given."""
        stmt = self.select().order_by(Sale.id.desc()).limit(limit).offset(offset)
        if vendor_id is not None:
            stmt = stmt.where(Sale.vendor_id == vendor_id)
        return self.list(stmt)

    def bump_reprint(self, sale_id: int) -> int | None:
        """Count one more reprint of a completed sale; returns the new count, or
        None when the sale is cancelled (a cancel that committed first wins)."""
        stmt = (
            update(Sale)
            .where(Sale.id == sale_id, Sale.status == SaleStatus.COMPLETED.value)
            .values(reprint_count=Sale.reprint_count + 1)
            .returning(Sale.reprint_count)
        )
        count = self.session.execute(stmt).scalar_one_or_none()
        return None if count is None else int(count)

    def mark_cancelled(self, sale_id: int, operator_id: int, now: datetime) -> bool:
        """Completed -> cancelled in one conditional UPDATE; False when the sale was
        not completed (already cancelled: the caller must not move money again)."""
        stmt = (
            update(Sale)
            .where(Sale.id == sale_id, Sale.status == SaleStatus.COMPLETED.value)
            .values(
                status=SaleStatus.CANCELLED.value, cancelled_by_id=operator_id, cancelled_at=now
            )
            .execution_options(synchronize_session="fetch")
        )
        return bool(self.session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]

    def pending_cancel(self, sale_id: int) -> ManagementRequest | None:
        """The request to take the sale back that waits for a second person, if any."""
        stmt = (
            select(ManagementRequest)
            .where(
                ManagementRequest.sale_id == sale_id,
                ManagementRequest.kind == ManagementKind.CANCEL_SALE.value,
                ManagementRequest.status == RequestStatus.PENDING.value,
            )
            .limit(1)
        )
        return self.session.execute(stmt).scalars().first()

    def restore_debt(self, customer_id: int, amount: int) -> None:
        """Put debt a cancelled sale recovered back on its customer."""
        self.session.execute(
            update(Customer)
            .where(Customer.id == customer_id)
            .values(debt_balance=Customer.debt_balance + amount)
        )


class MeterRepository(RepositoryBase[Meter]):
    """Meter look-up and the per-meter lock that serialises its sales (V2)."""

    model = Meter

    def find_by_number(self, number: str) -> Meter | None:
        """A meter by its 18-digit PAN, or by its DRN when that is unique."""
        if len(number) == 18:
            return self.get_one_or_none(self.select().where(Meter.pan == number))
        rows = self.list(self.select().where(Meter.drn == number).limit(2))
        return rows[0] if len(rows) == 1 else None

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
        """A supply group by id."""
        group = self.session.get(SupplyGroup, group_id)
        assert group is not None
        return group

    def customer(self, meter_id: int, *, for_update: bool = False) -> Customer | None:
        """The customer linked to a meter now, if any."""
        stmt = (
            select(Customer)
            .join(CustomerMeter, CustomerMeter.customer_id == Customer.id)
            .where(CustomerMeter.meter_id == meter_id, CustomerMeter.active == 1)
        )
        if for_update:
            stmt = stmt.with_for_update(of=Customer)
        return self.session.execute(stmt).scalars().one_or_none()


class TokenRepository(RepositoryBase[Token]):
    """Issued tokens."""

    model = Token

    def for_meter(self, meter_id: int) -> Sequence[Token]:
        """All tokens of a meter in issue order."""
        return self.list(self.select().where(Token.meter_id == meter_id).order_by(Token.id))


class VendorRepository(RepositoryBase[Vendor]):
    """Vendor floats."""

    model = Vendor

    def refund(self, vendor_id: int, amount: int) -> None:
        """Give ``amount`` back to the float (a cancelled sale)."""
        self.session.execute(
            update(Vendor)
            .where(Vendor.id == vendor_id)
            .values(float_balance=Vendor.float_balance + amount)
        )
