"""The ORM queries of sales: look-ups, history, reprints, take-backs (the sale
itself runs on ``store``). Meters live in ``meters.repository``, vendors in
``operators.repository``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from stsgas.vending.kit.repository import RepositoryBase
from stsgas.vending.models import (
    Customer,
    ManagementKind,
    ManagementRequest,
    RequestStatus,
    Sale,
    SaleStatus,
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
