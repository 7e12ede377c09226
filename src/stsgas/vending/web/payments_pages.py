"""The mobile-money reconciliation page: what is on one side and not the other, and the
refunds owed to payers, each with a form to mark it paid back (supervisors)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from stsgas.vending.apiclient import ApiProblem, VendingApi
from stsgas.vending.models import Role
from stsgas.vending.web.forms import signed_form
from stsgas.vending.web.render import error_page, guard, page
from stsgas.vending.web.session import Me
from stsgas.vending.web.views import money

router = APIRouter(prefix="/console", include_in_schema=False)


def _when(value: Any) -> str:
    return str(value)[:19].replace("T", " ")


@router.get("/payments", response_class=HTMLResponse)
async def reconciliation(request: Request) -> Response:
    """Payments that became neither a sale nor a top-up; mobile-money sales without one;
    refunds owed to payers."""
    me = await guard(request, "payments")
    return await _page(request, me)


@router.post("/payments/refunds/{refund_id}/refunded", response_class=HTMLResponse)
async def refunded(
    request: Request,
    refund_id: int,
    reference: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Mark a refund owed to a payer as sent back (the API says who may, and once)."""
    me = await signed_form(request, "payments", csrf)
    try:
        done = await VendingApi(request.app, me.token).post(
            f"/api/v1/payments/refunds/{refund_id}/refunded", {"reference": reference.strip()}
        )
    except ApiProblem as exc:
        return await _page(
            request, me, flash={"kind": "error", "text": exc.detail}, status_code=exc.status
        )
    text = (
        f"Refund #{done['id']} of sale #{done['sale_id']} marked refunded: "
        f"{money(int(done['amount']))} sent back to {done['phone'] or 'the payer'} "
        f"(reference {done['reference']})."
    )
    return await _page(request, me, flash={"kind": "ok", "text": text})


async def _page(
    request: Request, me: Me, *, flash: dict[str, str] | None = None, status_code: int = 200
) -> Response:
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
            "received": _when(p["received_at"]),
            "verified": "yes" if p["verified_at"] else "no",
            "detail": p["detail"],
        }
        for p in body["payments_without_sale"]
    ]
    sales = [
        {"id": s["id"], "amount": money(int(s["amount_paid"])), "at": _when(s["created_at"])}
        for s in body["sales_without_payment"]
    ]
    owed = [
        {
            "id": r["id"],
            "sale_id": r["sale_id"],
            "txn_id": r["txn_id"] or "",
            "amount": money(int(r["amount"])),
            "phone": r["phone"],
            "at": _when(r["owed_at"]),
        }
        for r in body.get("refunds_owed", [])
    ]
    return page(
        request,
        "payments.html",
        me,
        "payments",
        status_code=status_code,
        title="Mobile-money reconciliation",
        payments=payments,
        sales=sales,
        owed=owed,
        may_settle=me.role == Role.SUPERVISOR.value,
        flash=flash,
    )
