"""FastAPI dependencies for authentication and role checks.

``CurrentOperator`` is the operator behind the request's bearer token;
``Depends(require(Permission.X))`` refuses (403) roles without that
permission. Object-level checks happen in the services.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from stsgas.vending.deps import SessionDep
from stsgas.vending.errors import Forbidden, NotAuthenticated
from stsgas.vending.models import Operator
from stsgas.vending.operators import service
from stsgas.vending.operators.permissions import Permission, allowed
from stsgas.vending.operators.service import Principal

bearer = HTTPBearer(auto_error=False)


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _secret(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("a bearer token is required")
    return credentials.credentials


def principal_of(session: Session, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The bearer's operator as plain columns, or 401 (the sale authenticates inside
    its own worker thread, without ORM objects)."""
    return service.principal(session, _secret(credentials))


def current_operator(session: SessionDep, credentials: Credentials) -> Operator:
    """The authenticated operator, or 401."""
    return service.authenticate(session, _secret(credentials))


CurrentOperator = Annotated[Operator, Depends(current_operator)]


def require(permission: Permission) -> Callable[[Operator], Operator]:
    """A dependency that returns the operator if its role holds ``permission``."""

    def check(operator: CurrentOperator) -> Operator:
        if not allowed(operator.role, permission):
            raise Forbidden(f"role {operator.role!r} may not {permission.value}")
        return operator

    return check


def ensure(operator: Operator | Principal, permission: Permission) -> None:
    """Raise :class:`Forbidden` unless ``operator`` holds ``permission`` (for services)."""
    if not allowed(operator.role, permission):
        raise Forbidden(f"role {operator.role!r} may not {permission.value}")
