"""Operator rules: creation, API tokens and what a bearer token must pass.

Password login and lockout are in :mod:`.access`; what admins do to accounts
(disable, reset, activate...) in :mod:`.admin`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from stsgas.vending.audit import service as audit
from stsgas.vending.errors import (
    AlreadyExists,
    BadAmount,
    Forbidden,
    IdempotencyMismatch,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    VendingError,
)
from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import ApiToken, Operator, Role, Vendor, utcnow
from stsgas.vending.operators.passwords import hash_password, new_api_token, token_hash
from stsgas.vending.operators.repository import (
    ApiTokenRepository,
    OperatorRepository,
    PrincipalRow,
    TopUpKeyRepository,
    VendorRepository,
    principal_row,
)


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
    """Add an operator (audited). A cashier must belong to a vendor.

    An account an admin creates approves nothing until a second admin
    activates it; one set up without an actor (the command line, the first
    admin) is active at once.
    """
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
            enabled_by_id=None if actor is None else actor.id,
            activated_at=utcnow() if actor is None else None,
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


def _check_bearer(
    *,
    revoked_at: datetime | None,
    expires_at: datetime | None,
    is_active: bool,
    now: datetime,
) -> None:
    """The rules a bearer token and its operator must pass (both lookups below).

    A password lockout is not among them: it stops password logins from one
    source, never the tokens already issued (an admin disables the account or
    revokes a token to take access away).
    """
    if revoked_at is not None:
        raise NotAuthenticated("unknown or revoked token")
    if expires_at is not None and expires_at <= now:
        raise NotAuthenticated("token expired")
    if not is_active:
        raise NotAuthenticated("operator disabled")


def authenticate(session: Session, secret: str, *, now: datetime | None = None) -> Operator:
    """The operator a bearer token belongs to, or :class:`NotAuthenticated`."""
    row = ApiTokenRepository(session).by_hash(token_hash(secret))
    if row is None:
        raise NotAuthenticated("unknown or revoked token")
    op = row.operator
    _check_bearer(
        revoked_at=row.revoked_at,
        expires_at=row.expires_at,
        is_active=op.is_active,
        now=now or utcnow(),
    )
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
    _check_bearer(
        revoked_at=row.revoked_at, expires_at=row.expires_at, is_active=row.is_active, now=now
    )
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
    return VendorRepository(session).get_or_raise(vendor_id, NotFound, "vendor")


def top_up_float(
    session: Session, *, actor: Operator | None, vendor_id: int, amount: int
) -> Vendor:
    """Add ``amount`` (minor units) to a vendor's float: cash in, float liability up."""
    if amount <= 0:
        raise BadAmount("a float top-up must be positive")
    vendor = VendorRepository(session).get_or_raise(vendor_id, NotFound, "vendor", for_update=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
class TopUpResult:
    """The vendor as the top-up left it, and whether this answers a replayed key."""

    body: dict[str, Any]
    replayed: bool


def vendor_body(vendor: Vendor) -> dict[str, Any]:
    """The API's view of a vendor (``VendorOut``), as stored for a replay."""
    return {
        "id": vendor.id,
        "name": vendor.name,
        "float_balance": vendor.float_balance,
        "is_active": vendor.is_active,
    }


def top_up_fingerprint(vendor_id: int, amount: int) -> str:
    """SHA-256 of what makes two top-ups under one key the same request."""
    doc = {"vendor": vendor_id, "amount": amount}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def top_up(
    session: Session,
    *,
    actor: Operator,
    vendor_id: int,
    amount: int,
    idempotency_key: str | None,
) -> TopUpResult:
    """Top a float up at most once per ``idempotency_key`` of ``actor``.

    The same key again answers the first top-up's body (``replayed``); with
    another vendor or amount it is ``IdempotencyMismatch``. Twins racing on one
    key queue on the vendor's row lock; the one that waited then finds the key
    (READ COMMITTED reads what committed meanwhile) and replays. The unique key
    is the last guard: a twin's insert fails and the caller's retry replays.
    Without a key every call tops up, as a sale without one sells.
    """
    if idempotency_key is None:
        vendor = top_up_float(session, actor=actor, vendor_id=vendor_id, amount=amount)
        return TopUpResult(body=vendor_body(vendor), replayed=False)
    if not idempotency_key.strip():
        raise InvalidInput("the Idempotency-Key header is empty")
    keys = TopUpKeyRepository(session)
    fp = top_up_fingerprint(vendor_id, amount)
    done = keys.find(actor.id, idempotency_key)
    if done is None:
        VendorRepository(session).get(vendor_id, for_update=True)  # queue behind a twin
        done = keys.find(actor.id, idempotency_key)
    if done is not None:
        if done.fingerprint != fp or done.response_body is None:
            raise IdempotencyMismatch("this idempotency key was used for a different top-up")
        return TopUpResult(body=done.response_body, replayed=True)
    vendor = top_up_float(session, actor=actor, vendor_id=vendor_id, amount=amount)
    body = vendor_body(vendor)
    keys.add(actor.id, idempotency_key, fingerprint=fp, body=body)
    return TopUpResult(body=body, replayed=False)
