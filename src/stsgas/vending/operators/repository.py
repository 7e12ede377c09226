"""SQL of operators, vendors and API tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from stsgas.vending.kit import pgraw
from stsgas.vending.kit.repository import RepositoryBase
from stsgas.vending.models import (
    ApiToken,
    IdempotencyRecord,
    IdempotencyState,
    LoginFailure,
    Operator,
    Role,
    Vendor,
)


class OperatorRepository(RepositoryBase[Operator]):
    """Operators by name or id."""

    model = Operator

    def admin_count(self) -> int:
        """How many admin accounts there are (none: the install is not set up)."""
        stmt = select(func.count()).select_from(Operator).where(Operator.role == Role.ADMIN.value)
        return int(self.session.execute(stmt).scalar() or 0)

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

    def of_operator(self, operator_id: int) -> Sequence[ApiToken]:
        """An operator's tokens, newest first."""
        return self.list(
            self.select().where(ApiToken.operator_id == operator_id).order_by(ApiToken.id.desc())
        )

    def revoke_all(self, operator_id: int, *, now: datetime, name: str | None = None) -> int:
        """Revoke an operator's live tokens (only those called ``name`` when given)."""
        stmt = (
            update(ApiToken)
            .where(ApiToken.operator_id == operator_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        if name is not None:
            stmt = stmt.where(ApiToken.name == name)
        result = self.session.execute(stmt, execution_options={"synchronize_session": False})
        return int(result.rowcount)  # type: ignore[attr-defined]


class LoginFailureRepository(RepositoryBase[LoginFailure]):
    """Failed-password counters per username and source."""

    model = LoginFailure

    def of(self, username: str, source: str, *, for_update: bool = False) -> LoginFailure | None:
        """The counter of ``(username, source)``."""
        stmt = self.select().where(LoginFailure.username == username, LoginFailure.source == source)
        if for_update:
            stmt = stmt.with_for_update()
        return self.get_one_or_none(stmt)

    def add(self, username: str, source: str) -> LoginFailure:
        """A new zero counter; a twin inserted meanwhile is found instead (savepoint)."""
        try:
            with self.session.begin_nested():
                row = self.create(
                    LoginFailure(username=username, source=source, failures=0), flush=True
                )
            return row
        except IntegrityError:
            found = self.of(username, source, for_update=True)
            assert found is not None
            return found

    def locked(self, username: str, now: datetime) -> Sequence[LoginFailure]:
        """The sources ``username`` is locked out from now."""
        return self.list(
            self.select().where(LoginFailure.username == username, LoginFailure.locked_until > now)
        )

    def clear(self, username: str, source: str | None = None) -> int:
        """Forget the failures of ``username`` (from ``source`` only, when given)."""
        stmt = delete(LoginFailure).where(LoginFailure.username == username)
        if source is not None:
            stmt = stmt.where(LoginFailure.source == source)
        result = self.session.execute(stmt, execution_options={"synchronize_session": False})
        return int(result.rowcount)  # type: ignore[attr-defined]


_PRINCIPAL = (
    select(
        ApiToken.revoked_at,
        ApiToken.expires_at,
        Operator.id,
        Operator.username,
        Operator.role,
        Operator.vendor_id,
        Operator.is_active,
        Operator.locked_until,
    )
    .join(Operator, Operator.id == ApiToken.operator_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


#: the bearer's token and operator (also the first half of the event-loop sale's read)
PRINCIPAL_SQL = """
SELECT t.revoked_at, t.expires_at, o.id, o.username, o.role, o.vendor_id, o.is_active,
       o.locked_until
FROM api_tokens t JOIN operators o ON o.id = t.operator_id
WHERE t.token_hash = %(token_hash)s
"""
#: the same columns for an active operator named in the configuration (who sales paid
#: by mobile money are recorded as): no token, so nothing to revoke or expire
SELLER_SQL = """
SELECT NULL::timestamptz, NULL::timestamptz, o.id, o.username, o.role, o.vendor_id,
       o.is_active, o.locked_until
FROM operators o
WHERE o.username = %(username)s AND o.is_active
"""


@dataclass(frozen=True, slots=True)
class PrincipalRow:
    """A bearer token's validity and its operator's columns."""

    revoked_at: datetime | None
    expires_at: datetime | None
    id: int
    username: str
    role: str
    vendor_id: int | None
    is_active: bool
    locked_until: datetime | None


def principal_row(session: Session, token_hash: str) -> PrincipalRow | None:
    """The token and its operator in one query and no ORM objects (runs on every sale)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        rows = pgraw.fetch(conn, PRINCIPAL_SQL, {"token_hash": token_hash})
        return PrincipalRow(*rows[0]) if rows else None
    row = conn.execute(_PRINCIPAL, {"token_hash": token_hash}).one_or_none()
    return None if row is None else PrincipalRow(*row)


class VendorRepository(RepositoryBase[Vendor]):
    """Vendors by id or name, and their floats."""

    model = Vendor

    def by_name(self, name: str) -> Vendor | None:
        """The vendor called ``name``."""
        return self.get_one_or_none(select(Vendor).where(Vendor.name == name))

    def refund(self, vendor_id: int, amount: int) -> None:
        """Give ``amount`` back to the float (a cancelled sale)."""
        self.session.execute(
            update(Vendor)
            .where(Vendor.id == vendor_id)
            .values(float_balance=Vendor.float_balance + amount)
        )


class TopUpKeyRepository(RepositoryBase[IdempotencyRecord]):
    """The ``Idempotency-Key`` of each keyed float top-up, with the answer it got.

    The scope holds the operator's id, so a key is the operator's own (as a
    sale's is) and the table's unique ``(scope, key)`` admits one top-up per key.
    """

    model = IdempotencyRecord

    @staticmethod
    def scope(operator_id: int) -> str:
        """The scope of one operator's top-up keys (at most 31 characters)."""
        return f"float_topup:{operator_id}"

    def find(self, operator_id: int, key: str) -> IdempotencyRecord | None:
        """The top-up this operator made under ``key``, if any."""
        return self.get_one_or_none(
            self.select().where(
                IdempotencyRecord.scope == self.scope(operator_id), IdempotencyRecord.key == key
            )
        )

    def add(
        self, operator_id: int, key: str, *, fingerprint: str, body: dict[str, Any]
    ) -> IdempotencyRecord:
        """Keep the key with its answer (flushed: a twin's key fails here, not at commit)."""
        return self.create(
            IdempotencyRecord(
                scope=self.scope(operator_id),
                key=key,
                fingerprint=fingerprint,
                state=IdempotencyState.DONE.value,
                response_status=200,
                response_body=body,
                operator_id=operator_id,
            ),
            flush=True,
        )
