"""SQL of operators, vendors and API tokens."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from stsgas.vending.kit.repository import RepositoryBase
from stsgas.vending.models import ApiToken, Operator, Vendor


class OperatorRepository(RepositoryBase[Operator]):
    """Operators by name or id."""

    model = Operator

    def by_username(self, username: str, *, for_update: bool = False) -> Operator | None:
        """The operator called ``username``."""
        stmt = select(Operator).where(Operator.username == username)
        if for_update:
            stmt = stmt.with_for_update()
        return self.get_one_or_none(stmt)


class ApiTokenRepository(RepositoryBase[ApiToken]):
    """API tokens by hash."""

    model = ApiToken

    def by_hash(self, token_hash: str) -> ApiToken | None:
        """The token with this SHA-256, with its operator loaded."""
        stmt = (
            select(ApiToken)
            .where(ApiToken.token_hash == token_hash)
            .options(joinedload(ApiToken.operator))
        )
        return self.get_one_or_none(stmt)


class VendorRepository(RepositoryBase[Vendor]):
    """Vendors by id or name."""

    model = Vendor

    def by_name(self, name: str) -> Vendor | None:
        """The vendor called ``name``."""
        return self.get_one_or_none(select(Vendor).where(Vendor.name == name))
