"""Password login and password change, with lockout per account and source.

Lockout (PCI DSS 8.3.4) counts failed passwords per ``(username, source)``,
the source being the client's address: ``max_failed_logins`` failures in a
row lock that pair for ``lockout_minutes``. Someone guessing from one place
locks only himself out; the owner signs in from elsewhere, and the account's
issued tokens (devices, the SMS gateway) keep working. Unknown usernames are
counted and hashed like known ones, so neither the answer nor the time taken
tells whether an account exists. Each lock is audited.

Failures are *returned* (not raised) so the session dependency commits the
new count with the refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from stsgas.vending.audit import service as audit
from stsgas.vending.errors import (
    AccountLocked,
    InvalidInput,
    NotAuthenticated,
    PasswordChangeRequired,
    VendingError,
)
from stsgas.vending.models import LoginFailure, Operator, utcnow
from stsgas.vending.operators.passwords import hash_password, verify_password
from stsgas.vending.operators.repository import (
    ApiTokenRepository,
    LoginFailureRepository,
    OperatorRepository,
)
from stsgas.vending.operators.service import IssuedApiToken, issue_token
from stsgas.vending.settings import Settings

WRONG = "wrong username or password"


def _failure_row(session: Session, username: str, source: str) -> LoginFailure:
    """The counter of ``(username, source)``, locked; made when missing."""
    repo = LoginFailureRepository(session)
    row = repo.of(username, source, for_update=True)
    return row if row is not None else repo.add(username, source)


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordCheck:
    """A password verified against the hash read before the login's write began."""

    password_hash: str | None
    matches: bool


def verify_first(session: Session, *, username: str, password: str) -> PasswordCheck:
    """Read the account's hash with nothing locked and verify ``password`` against it.

    Verifying (argon2id) is the slow part of a login. Done before the login's
    write transaction it holds no lock: on SQLite a login no longer keeps the
    one write lock, and the sales behind it, waiting. Unknown and disabled
    accounts are verified against the dummy hash, so they take as long.
    """
    op = OperatorRepository(session).by_username(username)
    stored = None if op is None or not op.is_active else op.password_hash
    return PasswordCheck(password_hash=stored, matches=verify_password(stored, password))


def check_password(
    session: Session,
    settings: Settings,
    *,
    username: str,
    password: str,
    source: str,
    now: datetime,
    checked: PasswordCheck | None = None,
) -> Operator | VendingError:
    """The operator whose password this is, or the error to answer (counted).

    A locked ``(username, source)`` is refused before the password is looked
    at; otherwise the hash runs whether or not the user exists (a dummy hash
    for unknown or disabled accounts).
    """
    repo = LoginFailureRepository(session)
    row = repo.of(username, source)
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return AccountLocked(
            "too many failed sign-ins from this address", locked_until=row.locked_until.isoformat()
        )
    op = OperatorRepository(session).by_username(username)
    if op is not None and not op.is_active:
        op = None  # a disabled account answers like an unknown one
    stored = None if op is None else op.password_hash
    if checked is not None and checked.password_hash == stored:
        matches = checked.matches  # verified before this transaction, hash unchanged since
    else:
        matches = verify_password(stored, password)
    if not matches or op is None:
        _count_failure(session, settings, username=username, source=source, op=op, now=now)
        return NotAuthenticated(WRONG)
    if row is not None:
        repo.clear(username, source)
    return op


def _count_failure(
    session: Session,
    settings: Settings,
    *,
    username: str,
    source: str,
    op: Operator | None,
    now: datetime,
) -> None:
    row = _failure_row(session, username, source)
    row.failures += 1
    row.last_failure_at = now
    if row.failures < settings.max_failed_logins:
        return
    row.failures = 0
    row.locked_until = now + timedelta(minutes=settings.lockout_minutes)
    audit.record(
        session,
        actor=None,
        action="operator.locked",
        object_type="operator",
        object_id="" if op is None else op.id,
        data={"username": username, "source": source, "until": row.locked_until.isoformat()},
        at=now,
    )


def login(
    session: Session,
    settings: Settings,
    *,
    username: str,
    password: str,
    source: str,
    now: datetime | None = None,
    checked: PasswordCheck | None = None,
) -> IssuedApiToken | VendingError:
    """Check a password; return a login token, or the error to show (counted, not raised).

    ``checked`` is :func:`verify_first`'s verdict, made before this transaction;
    it stands only while the account's hash is still the one it was checked
    against (else the password is verified again here). After an admin's reset
    the account gets no token until its owner changes the password (403
    ``password_change_required``).
    """
    now = now or utcnow()
    found = check_password(
        session,
        settings,
        username=username,
        password=password,
        source=source,
        now=now,
        checked=checked,
    )
    if isinstance(found, VendingError):
        return found
    if found.must_change_password:
        return PasswordChangeRequired("change the password an admin set before signing in")
    return issue_token(session, found, ttl=timedelta(hours=settings.token_ttl_hours), now=now)


def change_password(
    session: Session,
    settings: Settings,
    *,
    username: str,
    old_password: str,
    new_password: str,
    source: str,
    now: datetime | None = None,
) -> Operator | VendingError:
    """The owner sets a new password with the old one (counted like a login).

    Sign-in sessions (``login`` tokens) end; named API tokens of devices stay.
    """
    now = now or utcnow()
    found = check_password(
        session, settings, username=username, password=old_password, source=source, now=now
    )
    if isinstance(found, VendingError):
        return found
    if new_password == old_password:
        return InvalidInput("the new password must differ from the old one")
    found.password_hash = hash_password(new_password)
    found.must_change_password = False
    ApiTokenRepository(session).revoke_all(found.id, now=now, name="login")
    audit.record(
        session,
        actor=found,
        action="operator.password_change",
        object_type="operator",
        object_id=found.id,
        at=now,
    )
    return found
