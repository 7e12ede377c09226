"""The /api/v1 router: every domain's endpoints in one place."""

from __future__ import annotations

from fastapi import APIRouter

from stsgas.vending.audit.endpoints import router as audit_router
from stsgas.vending.customers.endpoints import router as customers_router
from stsgas.vending.ledger.endpoints import router as ledger_router
from stsgas.vending.management.endpoints import router as management_router
from stsgas.vending.meters.endpoints import router as meters_router
from stsgas.vending.operators.endpoints import router as operators_router
from stsgas.vending.reports.endpoints import router as reports_router
from stsgas.vending.sales.endpoints import router as sales_router
from stsgas.vending.supply_groups.endpoints import router as supply_groups_router
from stsgas.vending.tariffs.endpoints import router as tariffs_router
from stsgas.vending.wallet.endpoints import router as wallet_router

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(sales_router)  # first: the hot path is matched before the rest
api_router.include_router(operators_router)
api_router.include_router(ledger_router)  # a vendor float's history
api_router.include_router(audit_router)
api_router.include_router(supply_groups_router)
api_router.include_router(customers_router)
api_router.include_router(wallet_router)  # a customer's wallet
api_router.include_router(meters_router)
api_router.include_router(tariffs_router)
api_router.include_router(management_router)
api_router.include_router(reports_router)
