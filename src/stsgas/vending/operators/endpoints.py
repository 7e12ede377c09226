"""/api/v1/auth and /api/v1/operators, /api/v1/vendors: thin endpoints."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from stsgas.vending import transaction
from stsgas.vending.audit import service as audit
from stsgas.vending.deps import SessionDep, SettingsDep, begin_read
from stsgas.vending.errors import NotFound, TokenTooLong, VendingError
from stsgas.vending.kit.params import RowId
from stsgas.vending.kit.problems import vending_problem
from stsgas.vending.models import Operator
from stsgas.vending.operators import access, admin, service
from stsgas.vending.operators.auth import CurrentOperator, bearer, require
from stsgas.vending.operators.permissions import Permission
from stsgas.vending.operators.repository import OperatorRepository, VendorRepository
from stsgas.vending.operators.schemas import (
    ApiTokenIn,
    ApiTokenOut,
    LockoutOut,
    LoginIn,
    OperatorIn,
    OperatorOut,
    PasswordChangeIn,
    PasswordResetIn,
    TokenOut,
    TopUpIn,
    VendorIn,
    VendorOut,
)

router = APIRouter(tags=["operators"])

Manager = Annotated[Operator, Depends(require(Permission.OPERATORS_MANAGE))]
VendorManager = Annotated[Operator, Depends(require(Permission.VENDORS_MANAGE))]


def source_of(request: Request) -> str:
    """The client address a failed password is counted against."""
    return (request.client.host if request.client else "unknown")[:64]


@router.post("/auth/login", response_model=TokenOut)
def login(
    body: LoginIn, request: Request, session: SessionDep, settings: SettingsDep
) -> TokenOut | JSONResponse:
    """Exchange a username and password for a bearer token (locked per account and source).

    The password is verified in a read transaction that ends before the login's
    write (failure count, token) begins, so the slow hash holds no write lock.
    """
    begin_read(session)
    checked = access.verify_first(session, username=body.username, password=body.password)
    session.rollback()  # only read: end it, so the write below starts afresh
    source = source_of(request)
    result = transaction.run(
        session,
        lambda: access.login(
            session,
            settings,
            username=body.username,
            password=body.password,
            source=source,
            checked=checked,
        ),
    )
    if isinstance(result, VendingError):
        return vending_problem(result)  # returned, so the failure count is committed
    return TokenOut(
        access_token=result.secret,
        expires_at=result.row.expires_at,
        operator=OperatorOut.model_validate(result.operator),
    )


@router.post("/auth/password", status_code=status.HTTP_204_NO_CONTENT, response_model=None)
def change_password(
    body: PasswordChangeIn, request: Request, session: SessionDep, settings: SettingsDep
) -> JSONResponse | None:
    """Everyone changes their own password with the old one (also after an admin's
    reset); failures count towards the same lockout as logins."""
    source = source_of(request)
    result = transaction.run(
        session,
        lambda: access.change_password(
            session,
            settings,
            username=body.username,
            old_password=body.old_password,
            new_password=body.new_password,
            source=source,
        ),
    )
    if isinstance(result, VendingError):
        return vending_problem(result)
    return None


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(
    session: SessionDep,
    _operator: CurrentOperator,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """Revoke the bearer token of this request."""
    assert credentials is not None  # CurrentOperator already required it
    secret = credentials.credentials
    transaction.run(session, lambda: service.revoke_token(session, secret))


@router.post("/auth/tokens", response_model=TokenOut, status_code=status.HTTP_201_CREATED)
def create_api_token(
    body: ApiTokenIn, session: SessionDep, settings: SettingsDep, operator: CurrentOperator
) -> TokenOut:
    """Mint a named API token for the calling operator (shown once; stored hashed).
    Every token expires: by default, and at most, after ``api_token_max_hours``."""
    hours = settings.api_token_max_hours if body.ttl_hours is None else body.ttl_hours
    if hours > settings.api_token_max_hours:
        raise TokenTooLong(
            f"an API token lives at most {settings.api_token_max_hours} hours",
            max_hours=settings.api_token_max_hours,
        )

    def unit() -> TokenOut:
        issued = service.issue_token(session, operator, ttl=timedelta(hours=hours), name=body.name)
        audit.record(
            session,
            actor=operator,
            action="api_token.create",
            object_type="api_token",
            object_id=issued.row.id,
            data={"name": body.name, "ttl_hours": hours},
        )
        return TokenOut(
            access_token=issued.secret,
            expires_at=issued.row.expires_at,
            operator=OperatorOut.model_validate(operator),
        )

    return transaction.run(session, unit)


@router.get("/auth/me", response_model=OperatorOut)
def me(operator: CurrentOperator) -> OperatorOut:
    """The operator behind the token."""
    return OperatorOut.model_validate(operator)


@router.post("/operators", response_model=OperatorOut, status_code=status.HTTP_201_CREATED)
def create_operator(body: OperatorIn, session: SessionDep, actor: Manager) -> OperatorOut:
    """Add an operator (admin)."""
    return transaction.run(
        session,
        lambda: OperatorOut.model_validate(
            service.create_operator(
                session,
                actor=actor,
                username=body.username,
                role=body.role,
                password=body.password,
                display_name=body.display_name,
                vendor_id=body.vendor_id,
            )
        ),
    )


@router.get("/operators", response_model=list[OperatorOut])
def list_operators(session: SessionDep, _actor: Manager) -> list[OperatorOut]:
    """All operators (admin)."""
    repo = OperatorRepository(session)
    return [OperatorOut.model_validate(o) for o in repo.list(repo.select().order_by("id"))]


@router.get("/operators/{operator_id}", response_model=OperatorOut)
def get_operator(operator_id: RowId, session: SessionDep, _actor: Manager) -> OperatorOut:
    """One operator (admin)."""
    op = OperatorRepository(session).get_or_raise(operator_id, NotFound, "operator")
    return OperatorOut.model_validate(op)


@router.post("/operators/{operator_id}/disable", response_model=OperatorOut)
def disable_operator(operator_id: RowId, session: SessionDep, actor: Manager) -> OperatorOut:
    """Take an account's access away: no login, every token revoked (admin)."""
    return transaction.run(
        session,
        lambda: OperatorOut.model_validate(
            admin.disable(session, actor=actor, operator_id=operator_id)
        ),
    )


@router.post("/operators/{operator_id}/enable", response_model=OperatorOut)
def enable_operator(operator_id: RowId, session: SessionDep, actor: Manager) -> OperatorOut:
    """Give access back (admin); a second admin activates it before it approves."""
    return transaction.run(
        session,
        lambda: OperatorOut.model_validate(
            admin.enable(session, actor=actor, operator_id=operator_id)
        ),
    )


@router.post("/operators/{operator_id}/activate", response_model=OperatorOut)
def activate_operator(operator_id: RowId, session: SessionDep, actor: Manager) -> OperatorOut:
    """A second admin vouches for a new, re-enabled or reset account."""
    return transaction.run(
        session,
        lambda: OperatorOut.model_validate(
            admin.activate(session, actor=actor, operator_id=operator_id)
        ),
    )


@router.post("/operators/{operator_id}/password", response_model=OperatorOut)
def reset_password(
    operator_id: RowId, body: PasswordResetIn, session: SessionDep, actor: Manager
) -> OperatorOut:
    """Set a temporary password (admin): the owner changes it before signing in."""
    return transaction.run(
        session,
        lambda: OperatorOut.model_validate(
            admin.reset_password(
                session, actor=actor, operator_id=operator_id, password=body.password
            )
        ),
    )


@router.get("/operators/{operator_id}/lockouts", response_model=list[LockoutOut])
def operator_lockouts(operator_id: RowId, session: SessionDep, _actor: Manager) -> list[LockoutOut]:
    """The sources an account is locked out from now (admin)."""
    op = OperatorRepository(session).get(operator_id)
    if op is None:
        return []
    return [LockoutOut.model_validate(r) for r in admin.lockouts(session, op)]


@router.post("/operators/{operator_id}/unlock", status_code=status.HTTP_204_NO_CONTENT)
def unlock_operator(operator_id: RowId, session: SessionDep, actor: Manager) -> None:
    """Lift the account's password lockouts (admin)."""
    transaction.run(session, lambda: admin.unlock(session, actor=actor, operator_id=operator_id))


@router.get("/operators/{operator_id}/tokens", response_model=list[ApiTokenOut])
def operator_tokens(operator_id: RowId, session: SessionDep, _actor: Manager) -> list[ApiTokenOut]:
    """An account's tokens, newest first (admin; never the secrets)."""
    return [ApiTokenOut.model_validate(t) for t in admin.tokens(session, operator_id)]


@router.post("/operators/{operator_id}/tokens/{token_id}/revoke", response_model=ApiTokenOut)
def revoke_operator_token(
    operator_id: RowId, token_id: RowId, session: SessionDep, actor: Manager
) -> ApiTokenOut:
    """Revoke one token of an account (admin)."""
    return transaction.run(
        session,
        lambda: ApiTokenOut.model_validate(
            admin.revoke(session, actor=actor, operator_id=operator_id, token_id=token_id)
        ),
    )


@router.post("/vendors", response_model=VendorOut, status_code=status.HTTP_201_CREATED)
def create_vendor(body: VendorIn, session: SessionDep, actor: VendorManager) -> VendorOut:
    """Add a vendor (admin)."""
    return transaction.run(
        session,
        lambda: VendorOut.model_validate(
            service.create_vendor(session, actor=actor, name=body.name)
        ),
    )


@router.get("/vendors/{vendor_id}", response_model=VendorOut)
def get_vendor(vendor_id: RowId, session: SessionDep, operator: CurrentOperator) -> VendorOut:
    """One vendor: admins, supervisors and auditors see any, a cashier only its own."""
    return VendorOut.model_validate(service.get_vendor(session, operator, vendor_id))


@router.post("/vendors/{vendor_id}/float", response_model=VendorOut)
def top_up(
    vendor_id: RowId,
    body: TopUpIn,
    session: SessionDep,
    actor: VendorManager,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> dict[str, Any]:
    """Add money to a vendor's float (admin); posted to the ledger and audited.

    With an ``Idempotency-Key`` (per operator) a retry answers the first top-up's
    body with ``Idempotent-Replayed: true`` and pays in nothing; the key with
    another vendor or amount is 422 ``idempotency_mismatch``.
    """
    result = transaction.run(
        session,
        lambda: service.top_up(
            session,
            actor=actor,
            vendor_id=vendor_id,
            amount=body.amount,
            idempotency_key=idempotency_key,
        ),
        idempotent=idempotency_key is not None,
    )
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return result.body


@router.get("/vendors", response_model=list[VendorOut])
def list_vendors(session: SessionDep, _actor: VendorManager) -> list[VendorOut]:
    """All vendors with their floats (admin)."""
    repo = VendorRepository(session)
    return [VendorOut.model_validate(v) for v in repo.list(repo.select().order_by("id"))]
