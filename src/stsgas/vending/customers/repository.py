"""SQL of customers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select

from stsgas.vending.kit.repository import RepositoryBase
from stsgas.vending.models import Customer


class CustomerRepository(RepositoryBase[Customer]):
    """Customers by id, or searched by name or phone."""

    model = Customer

    def search(
        self, text: str | None, *, limit: int, offset: int
    ) -> tuple[Sequence[Customer], int]:
        """A page of customers whose name or phone contains ``text``."""
        stmt = select(Customer).order_by(Customer.id)
        if text:
            like = f"%{text.lower()}%"
            stmt = stmt.where(or_(Customer.name.ilike(like), Customer.phone.like(f"%{text}%")))
        return self.paginate(stmt, limit=limit, offset=offset)
