"""The mobile-money reconciliation page: what is on one side and not the other."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from stsgas.vending.apiclient import ApiProblem, VendingApi
from stsgas.vending.web.render import error_page, guard, page
from stsgas.vending.web.views import money

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/payments", response_class=HTMLResponse)
async def reconciliation(request: Request) -> Response:
    """Payments that became neither a sale nor a top-up; mobile-money sales without one."""
    me = await guard(request, "payments")
    try:
        body = await VendingApi(request.app, me.token).get("/api/v1/payments/reconciliation")
    except ApiProblem as exc:
        return error_page(request, me, "payments", "Reconciliation not shown", exc)
    payments = [
        {
            "txn_id": p["txn_id"],
            "provider": p["provider"],
            "amount": money(int(p["amount"])),
            "reference": p["reference"],
            "received": str(p["received_at"])[:19].replace("T", " "),
            "verified": "yes" if p["verified_at"] else "no",
            "detail": p["detail"],
        }
        for p in body["payments_without_sale"]
    ]
    sales = [
        {
            "id": s["id"],
            "amount": money(int(s["amount_paid"])),
            "at": str(s["created_at"])[:19].replace("T", " "),
        }
        for s in body["sales_without_payment"]
    ]
    return page(
        request,
        "payments.html",
        me,
        "payments",
        title="Mobile-money reconciliation",
        payments=payments,
        sales=sales,
    )
