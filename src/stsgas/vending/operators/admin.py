"""What admins do to accounts: disable, re-enable, activate, reset, unlock, revoke.

Segregation of duties (four eyes means two people):

* admins administer accounts and never ask for or approve management tokens;
* an account an admin creates, re-enables or resets approves nothing until a
  *second* admin activates it, so one admin cannot mint himself an approver;
* no admin does these things to his own account.

Every change is audited; disabling or resetting revokes the account's tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from stsgas.vending.audit import service as audit
from stsgas.vending.errors import Conflict, NotActivated, NotFound, SegregatedDuty
from stsgas.vending.models import ApiToken, LoginFailure, Operator, Role, utcnow
from stsgas.vending.operators.passwords import hash_password
from stsgas.vending.operators.repository import (
    ApiTokenRepository,
    LoginFailureRepository,
    OperatorRepository,
)


def ensure_may_decide(operator: Operator) -> None:
    """Refuse a management decision by an admin or by a not yet activated account."""
    if operator.role == Role.ADMIN.value:
        raise SegregatedDuty("people who administer accounts do not ask for or approve tokens")
    if operator.activated_at is None:
        raise NotActivated("a second admin must activate this account before it approves")


def _target(session: Session, actor: Operator, operator_id: int) -> Operator:
    if operator_id == actor.id:
        raise SegregatedDuty("an admin does not administer his own account")
    repo = OperatorRepository(session)
    return repo.get_or_raise(operator_id, NotFound, "operator", for_update=True)


def _pending(op: Operator, actor: Operator) -> None:
    """Back to 'needs a second admin': ``actor`` vouched last, another must activate."""
    op.enabled_by_id = actor.id
    op.activated_by_id = None
    op.activated_at = None


def _audit(session: Session, actor: Operator, action: str, op: Operator, **data: object) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        object_type="operator",
        object_id=op.id,
        data={"username": op.username, **data},
    )


def disable(
    session: Session, *, actor: Operator, operator_id: int, now: datetime | None = None
) -> Operator:
    """Take access away: no login, and every token of the account revoked."""
    op = _target(session, actor, operator_id)
    op.is_active = False
    revoked = ApiTokenRepository(session).revoke_all(op.id, now=now or utcnow())
    _audit(session, actor, "operator.disable", op, tokens_revoked=revoked)
    return op


def enable(session: Session, *, actor: Operator, operator_id: int) -> Operator:
    """Give access back; the account approves nothing until a second admin activates it."""
    op = _target(session, actor, operator_id)
    if op.is_active:
        raise Conflict(f"operator {op.username!r} is already enabled")
    op.is_active = True
    _pending(op, actor)
    _audit(session, actor, "operator.enable", op)
    return op


def activate(
    session: Session, *, actor: Operator, operator_id: int, now: datetime | None = None
) -> Operator:
    """The second admin's word: the account may now approve (if its role may)."""
    op = _target(session, actor, operator_id)
    if op.enabled_by_id == actor.id:
        raise SegregatedDuty(
            "the admin who created, re-enabled or reset an account does not activate it"
        )
    if not op.is_active:
        raise Conflict(f"operator {op.username!r} is disabled")
    if op.activated_at is None:
        op.activated_by_id, op.activated_at = actor.id, now or utcnow()
        _audit(session, actor, "operator.activate", op)
    return op


def reset_password(
    session: Session,
    *,
    actor: Operator,
    operator_id: int,
    password: str,
    now: datetime | None = None,
) -> Operator:
    """Set a temporary password: its owner must change it before signing in.

    Every token of the account is revoked and its lockouts cleared; since the
    admin now knows a password of the account, a second admin activates it
    again before it approves anything.
    """
    op = _target(session, actor, operator_id)
    op.password_hash = hash_password(password)
    op.must_change_password = True
    revoked = ApiTokenRepository(session).revoke_all(op.id, now=now or utcnow())
    LoginFailureRepository(session).clear(op.username)
    _pending(op, actor)
    _audit(session, actor, "operator.password_reset", op, tokens_revoked=revoked)
    return op


def unlock(session: Session, *, actor: Operator, operator_id: int) -> int:
    """Lift every password lockout of the account; the number of sources cleared."""
    op = OperatorRepository(session).get_or_raise(operator_id, NotFound, "operator")
    cleared = LoginFailureRepository(session).clear(op.username)
    _audit(session, actor, "operator.unlock", op, sources=cleared)
    return cleared


def lockouts(
    session: Session, operator: Operator, now: datetime | None = None
) -> Sequence[LoginFailure]:
    """Where ``operator`` is locked out from now."""
    return LoginFailureRepository(session).locked(operator.username, now or utcnow())


def tokens(session: Session, operator_id: int) -> Sequence[ApiToken]:
    """An account's tokens, newest first (hashes never leave the server)."""
    OperatorRepository(session).get_or_raise(operator_id, NotFound, "operator")
    return ApiTokenRepository(session).of_operator(operator_id)


def revoke(
    session: Session,
    *,
    actor: Operator,
    operator_id: int,
    token_id: int,
    now: datetime | None = None,
) -> ApiToken:
    """Revoke one token of an account (a lost device, a leaked key)."""
    row = ApiTokenRepository(session).get(token_id, for_update=True)
    if row is None or row.operator_id != operator_id:
        raise NotFound(f"no token {token_id} of operator {operator_id}")
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
        audit.record(
            session,
            actor=actor,
            action="api_token.revoke",
            object_type="api_token",
            object_id=row.id,
            data={"operator_id": operator_id, "name": row.name},
        )
    return row
