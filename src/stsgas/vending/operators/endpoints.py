"""/api/v1/auth and /api/v1/operators, /api/v1/vendors: thin endpoints."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from stsgas.vending.audit import service as audit
from stsgas.vending.deps import SessionDep, SettingsDep, begin_read
from stsgas.vending.errors import VendingError
from stsgas.vending.kit.params import RowId
from stsgas.vending.kit.problems import vending_problem
from stsgas.vending.models import Operator
from stsgas.vending.operators import service
from stsgas.vending.operators.auth import CurrentOperator, bearer, require
from stsgas.vending.operators.permissions import Permission
from stsgas.vending.operators.repository import OperatorRepository, VendorRepository
from stsgas.vending.operators.schemas import (
    ApiTokenIn,
    LoginIn,
    OperatorIn,
    OperatorOut,
    TokenOut,
    TopUpIn,
    VendorIn,
    VendorOut,
)

router = APIRouter(tags=["operators"])

Manager = Annotated[Operator, Depends(require(Permission.OPERATORS_MANAGE))]
VendorManager = Annotated[Operator, Depends(require(Permission.VENDORS_MANAGE))]


@router.post("/auth/login", response_model=TokenOut)
def login(body: LoginIn, session: SessionDep, settings: SettingsDep) -> TokenOut | JSONResponse:
    """Exchange a username and password for a bearer token.

    The password is verified in a read transaction that ends before the login's
    write (failure count, token) begins, so the slow hash holds no write lock.
    """
    begin_read(session)
    checked = service.check_password(session, username=body.username, password=body.password)
    session.rollback()  # only read: end it, so the write below starts afresh
    result = service.login(session, settings, username=body.username, password=body.password,
                           checked=checked)
    if isinstance(result, VendingError):
        return vending_problem(result)  # returned, so the failure count is committed
    return TokenOut(
        access_token=result.secret,
        expires_at=result.row.expires_at,
        operator=OperatorOut.model_validate(result.operator),
    )


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(
    session: SessionDep,
    _operator: CurrentOperator,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """Revoke the bearer token of this request."""
    assert credentials is not None  # CurrentOperator already required it
    service.revoke_token(session, credentials.credentials)


@router.post("/auth/tokens", response_model=TokenOut, status_code=status.HTTP_201_CREATED)
def create_api_token(body: ApiTokenIn, session: SessionDep, operator: CurrentOperator) -> TokenOut:
    """Mint a named API token for the calling operator (shown once; stored hashed)."""
    ttl = None if body.ttl_hours is None else timedelta(hours=body.ttl_hours)
    issued = service.issue_token(session, operator, ttl=ttl, name=body.name)
    audit.record(
        session,
        actor=operator,
        action="api_token.create",
        object_type="api_token",
        object_id=issued.row.id,
        data={"name": body.name, "ttl_hours": body.ttl_hours},
    )
    return TokenOut(
        access_token=issued.secret,
        expires_at=issued.row.expires_at,
        operator=OperatorOut.model_validate(operator),
    )


@router.get("/auth/me", response_model=OperatorOut)
def me(operator: CurrentOperator) -> OperatorOut:
    """The operator behind the token."""
    return OperatorOut.model_validate(operator)


@router.post("/operators", response_model=OperatorOut, status_code=status.HTTP_201_CREATED)
def create_operator(body: OperatorIn, session: SessionDep, actor: Manager) -> OperatorOut:
    """Add an operator (admin)."""
    op = service.create_operator(
        session,
        actor=actor,
        username=body.username,
        role=body.role,
        password=body.password,
        display_name=body.display_name,
        vendor_id=body.vendor_id,
    )
    return OperatorOut.model_validate(op)


@router.get("/operators", response_model=list[OperatorOut])
def list_operators(session: SessionDep, _actor: Manager) -> list[OperatorOut]:
    """All operators (admin)."""
    repo = OperatorRepository(session)
    return [OperatorOut.model_validate(o) for o in repo.list(repo.select().order_by("id"))]


@router.post("/vendors", response_model=VendorOut, status_code=status.HTTP_201_CREATED)
def create_vendor(body: VendorIn, session: SessionDep, actor: VendorManager) -> VendorOut:
    """Add a vendor (admin)."""
    return VendorOut.model_validate(service.create_vendor(session, actor=actor, name=body.name))


@router.get("/vendors/{vendor_id}", response_model=VendorOut)
def get_vendor(vendor_id: RowId, session: SessionDep, operator: CurrentOperator) -> VendorOut:
    """One vendor: admins, supervisors and auditors see any, a cashier only its own."""
    return VendorOut.model_validate(service.get_vendor(session, operator, vendor_id))


@router.post("/vendors/{vendor_id}/float", response_model=VendorOut)
def top_up(vendor_id: RowId, body: TopUpIn, session: SessionDep, actor: VendorManager) -> VendorOut:
    """Add money to a vendor's float (admin); posted to the ledger and audited."""
    vendor = service.top_up_float(session, actor=actor, vendor_id=vendor_id, amount=body.amount)
    return VendorOut.model_validate(vendor)


@router.get("/vendors", response_model=list[VendorOut])
def list_vendors(session: SessionDep, _actor: VendorManager) -> list[VendorOut]:
    """All vendors with their floats (admin)."""
    repo = VendorRepository(session)
    return [VendorOut.model_validate(v) for v in repo.list(repo.select().order_by("id"))]
