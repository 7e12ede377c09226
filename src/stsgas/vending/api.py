"""The /api/v1 router: every domain's endpoints in one place."""

from __future__ import annotations

from fastapi import APIRouter

from stsgas.vending.audit.endpoints import router as audit_router
from stsgas.vending.operators.endpoints import router as operators_router

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(operators_router)
api_router.include_router(audit_router)
