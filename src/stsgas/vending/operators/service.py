"""Operator rules: creation, password login with lockout, API tokens.

Lockout (A10, PCI DSS 8.3.4): after ``max_failed_logins`` wrong passwords
in a row the account is locked for ``lockout_minutes``; a correct password
resets the count. A failed login is *returned* (not raised) so the session
dependency still commits the new failure count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from stsgas.vending.audit import service as audit
from stsgas.vending.errors import (
    AccountLocked,
    AlreadyExists,
    BadAmount,
    Forbidden,
    NotAuthenticated,
    NotFound,
    VendingError,
)
from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import ApiToken, Operator, Role, Vendor, utcnow
from stsgas.vending.operators.passwords import (
    hash_password,
    new_api_token,
    token_hash,
    verify_password,
)
from stsgas.vending.operators.repository import (
    ApiTokenRepository,
    OperatorRepository,
    PrincipalRow,
    VendorRepository,
    principal_row,
)
from stsgas.vending.settings import Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedApiToken:
    """A new bearer token: the secret (shown once) and its stored row."""

    secret: str
    row: ApiToken
    operator: Operator


def create_operator(
    session: Session,
    *,
    actor: Operator | None,
    username: str,
    role: Role,
    password: str,
    display_name: str = "",
    vendor_id: int | None = None,
) -> Operator:
    """Add an operator (audited). A cashier must belong to a vendor."""
    repo = OperatorRepository(session)
    if repo.by_username(username) is not None:
        raise AlreadyExists(f"operator {username!r} exists")
    if role is Role.CASHIER and vendor_id is None:
        raise VendingError("a cashier must belong to a vendor")
    if vendor_id is not None and VendorRepository(session).get(vendor_id) is None:
        raise NotFound(f"vendor {vendor_id} not found")
    op = repo.create(
        Operator(
            username=username,
            display_name=display_name,
            role=role.value,
            password_hash=hash_password(password),
            vendor_id=vendor_id,
        ),
        flush=True,
    )
    audit.record(
        session,
        actor=actor,
        action="operator.create",
        object_type="operator",
        object_id=op.id,
        data={"username": username, "role": role.value, "vendor_id": vendor_id},
    )
    return op


def create_vendor(session: Session, *, actor: Operator | None, name: str) -> Vendor:
    """Add a vendor with an empty float (audited)."""
    repo = VendorRepository(session)
    if repo.by_name(name) is not None:
        raise AlreadyExists(f"vendor {name!r} exists")
    vendor = repo.create(Vendor(name=name, float_balance=0), flush=True)
    audit.record(
        session,
        actor=actor,
        action="vendor.create",
        object_type="vendor",
        object_id=vendor.id,
        data={"name": name},
    )
    return vendor


def issue_token(
    session: Session,
    operator: Operator,
    *,
    ttl: timedelta | None,
    name: str = "login",
    now: datetime | None = None,
) -> IssuedApiToken:
    """Make a bearer token for ``operator``; only its hash is stored."""
    secret = new_api_token()
    now = now or utcnow()
    row = ApiTokenRepository(session).create(
        ApiToken(
            operator_id=operator.id,
            token_hash=token_hash(secret),
            name=name,
            created_at=now,
            expires_at=None if ttl is None else now + ttl,
        ),
        flush=True,
    )
    return IssuedApiToken(secret=secret, row=row, operator=operator)


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordCheck:
    """A password verified against the hash read before the login's write."""

    password_hash: str | None
    matches: bool


def check_password(session: Session, *, username: str, password: str) -> PasswordCheck:
    """Read the operator's hash without locking anything and verify ``password``.

    Verifying (argon2id) is the slow part of a login. Done here, before the
    login's write transaction, it holds no lock: on SQLite a login no longer
    keeps the one write lock, and sales, waiting.
    """
    op = OperatorRepository(session).by_username(username)
    stored = None if op is None else op.password_hash
    return PasswordCheck(password_hash=stored, matches=verify_password(stored, password))


def login(
    session: Session,
    settings: Settings,
    *,
    username: str,
    password: str,
    checked: PasswordCheck | None = None,
    now: datetime | None = None,
) -> IssuedApiToken | VendingError:
    """Check a password; return a token, or the error to show (counted, not raised).

    ``checked`` is :func:`check_password`'s verdict, made before this transaction;
    it stands only if the hash is still the one it was checked against.
    """
    now = now or utcnow()
    op = OperatorRepository(session).by_username(username, for_update=True)
    if op is None or not op.is_active:
        if checked is None:
            verify_password(None, password)
        return NotAuthenticated("wrong username or password")
    if op.locked_until is not None and op.locked_until > now:
        return AccountLocked(
            "account locked after repeated failures", locked_until=op.locked_until.isoformat()
        )
    if checked is not None and checked.password_hash != op.password_hash:
        # the password changed between the check and now: not the user's failure
        return NotAuthenticated("wrong username or password")
    matches = checked.matches if checked is not None else verify_password(
        op.password_hash, password)
    if not matches:
        op.failed_logins += 1
        if op.failed_logins >= settings.max_failed_logins:
            op.locked_until = now + timedelta(minutes=settings.lockout_minutes)
            op.failed_logins = 0
            audit.record(
                session,
                actor=None,
                action="operator.locked",
                object_type="operator",
                object_id=op.id,
                data={"until": op.locked_until.isoformat()},
                at=now,
            )
        return NotAuthenticated("wrong username or password")
    op.failed_logins = 0
    op.locked_until = None
    return issue_token(session, op, ttl=timedelta(hours=settings.token_ttl_hours), now=now)


def _check_bearer(
    *, revoked_at: datetime | None, expires_at: datetime | None, is_active: bool,
    locked_until: datetime | None, now: datetime,
) -> None:
    """The rules a bearer token and its operator must pass (both lookups below)."""
    if revoked_at is not None:
        raise NotAuthenticated("unknown or revoked token")
    if expires_at is not None and expires_at <= now:
        raise NotAuthenticated("token expired")
    if not is_active:
        raise NotAuthenticated("operator disabled")
    if locked_until is not None and locked_until > now:
        raise AccountLocked("account locked", locked_until=locked_until.isoformat())


def authenticate(session: Session, secret: str, *, now: datetime | None = None) -> Operator:
    """The operator a bearer token belongs to, or :class:`NotAuthenticated`."""
    row = ApiTokenRepository(session).by_hash(token_hash(secret))
    if row is None:
        raise NotAuthenticated("unknown or revoked token")
    op = row.operator
    _check_bearer(revoked_at=row.revoked_at, expires_at=row.expires_at, is_active=op.is_active,
                  locked_until=op.locked_until, now=now or utcnow())
    return op


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who a bearer token speaks for: the operator columns a sale needs."""

    id: int
    username: str
    role: str
    vendor_id: int | None


def principal(session: Session, secret: str, *, now: datetime | None = None) -> Principal:
    """Like :func:`authenticate`, with the same checks, but without loading ORM objects."""
    return principal_from_row(principal_row(session, token_hash(secret)), now=now or utcnow())


def principal_from_row(row: PrincipalRow | None, *, now: datetime) -> Principal:
    """The bearer's operator from its token row (None: no such token), or 401/423."""
    if row is None:
        raise NotAuthenticated("unknown or revoked token")
    _check_bearer(revoked_at=row.revoked_at, expires_at=row.expires_at, is_active=row.is_active,
                  locked_until=row.locked_until, now=now)
    return Principal(id=row.id, username=row.username, role=row.role, vendor_id=row.vendor_id)


def revoke_token(session: Session, secret: str, *, now: datetime | None = None) -> None:
    """Revoke a bearer token (logout)."""
    row = ApiTokenRepository(session).by_hash(token_hash(secret))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now or utcnow()


def get_vendor(session: Session, operator: Operator, vendor_id: int) -> Vendor:
    """A vendor, with the object check: a cashier sees only its own vendor."""
    if operator.role == Role.CASHIER.value and operator.vendor_id != vendor_id:
        raise Forbidden("a cashier sees only its own vendor")
    vendor = VendorRepository(session).get(vendor_id)
    if vendor is None:
        raise NotFound(f"vendor {vendor_id} not found")
    return vendor


def top_up_float(
    session: Session, *, actor: Operator | None, vendor_id: int, amount: int
) -> Vendor:
    """Add ``amount`` (minor units) to a vendor's float: cash in, float liability up."""
    if amount <= 0:
        raise BadAmount("a float top-up must be positive")
    vendor = VendorRepository(session).get(vendor_id, for_update=True)
    if vendor is None:
        raise NotFound(f"vendor {vendor_id} not found")
    vendor.float_balance += amount
    ledger.post(
        session,
        [
            ledger.Line(account=ledger.clearing_account("float_topup"), debit=amount),
            ledger.Line(account=ledger.vendor_float_account(vendor_id), credit=amount),
        ],
        sale_id=None,
        memo=f"float top-up vendor {vendor_id}",
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="vendor.float_topup",
        object_type="vendor",
        object_id=vendor_id,
        data={"amount": amount, "balance": vendor.float_balance},
    )
    return vendor
