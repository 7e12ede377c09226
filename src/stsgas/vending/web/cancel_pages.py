"""The console's sale cancellation: preview first, then confirm.

The receipt's cancel form goes to a preview that says, in the API's words,
what the customer will see on the meter and what is refunded; only its
confirm button cancels. A void happens at once; a take-back becomes a
request a second supervisor approves on the management page (which shows
the same preview). A second click on confirm finds the sale cancelled and
shows it so, never an error that hides the first click's success.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from stsgas.vending.apiclient import ApiProblem, VendingApi
from stsgas.vending.web import paths
from stsgas.vending.web.forms import STALE_RECEIPT, signed_form
from stsgas.vending.web.pages import receipt_page
from stsgas.vending.web.render import error_page, page
from stsgas.vending.web.session import Me

router = APIRouter(prefix="/console", include_in_schema=False)


def _flag(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "on", "yes"}


async def _receipt(
    request: Request,
    me: Me,
    api: VendingApi,
    sale_id: int,
    flash: dict[str, str],
    status_code: int = 200,
) -> Response:
    sale = await api.get(paths.SALE.format(id=sale_id))
    return receipt_page(
        request, me, sale_id, sale, buttons=False, flash=flash, status_code=status_code
    )


@router.post("/sales/{sale_id}/cancel/preview", response_class=HTMLResponse)
async def preview(
    request: Request,
    sale_id: int,
    reason: Annotated[str, Form()],
    token_used: Annotated[str, Form()] = "",
    meter_credit: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """What the cancellation will do, before anyone confirms it."""
    me = await signed_form(request, "management", csrf, active="sales", stale=STALE_RECEIPT)
    api = VendingApi(request.app, me.token)
    used = _flag(token_used)
    try:
        plan = await api.get(
            paths.CANCEL_PLAN.format(id=sale_id), token_used=used, meter_credit=meter_credit.strip()
        )
    except ApiProblem as exc:
        return error_page(request, me, "sales", "Cancellation refused", exc)
    return page(
        request,
        "cancel.html",
        me,
        "sales",
        title=f"Cancel sale #{sale_id}",
        plan=plan,
        reason=reason,
        token_used="true" if used else "",
        meter_credit=meter_credit.strip(),
        idempotency_key=str(uuid.uuid4()),
    )


@router.post("/sales/{sale_id}/cancel", response_class=HTMLResponse)
async def confirm(
    request: Request,
    sale_id: int,
    reason: Annotated[str, Form()],
    token_used: Annotated[str, Form()] = "",
    meter_credit: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Void now, or ask a second supervisor to approve taking the credit back."""
    me = await signed_form(request, "management", csrf, active="sales", stale=STALE_RECEIPT)
    api = VendingApi(request.app, me.token)
    used = _flag(token_used)
    body: dict[str, Any] = {"reason": reason, "token_used": used}
    if meter_credit.strip():
        body["meter_credit"] = meter_credit.strip()
    key = idempotency_key.strip()
    try:
        done = await api.post(
            paths.CANCEL.format(id=sale_id),
            body,
            headers={"Idempotency-Key": f"web-{key}"} if used and key else None,
        )
    except ApiProblem as exc:
        if exc.code == "sale_cancelled":
            return await _receipt(
                request,
                me,
                api,
                sale_id,
                status_code=409,
                flash={
                    "kind": "warn",
                    "text": f"Sale #{sale_id} is already cancelled; nothing more was refunded.",
                },
            )
        return error_page(request, me, "sales", "Cancellation refused", exc)
    if not used:
        return await _receipt(
            request,
            me,
            api,
            sale_id,
            flash={
                "kind": "ok",
                "text": f"Sale #{sale_id} cancelled; "
                + (done.get("refund_note") or f"{done.get('refunded')} refunded to the float."),
            },
        )
    rid = done["request"]["id"]
    return await _receipt(
        request,
        me,
        api,
        sale_id,
        flash={
            "kind": "ok",
            "text": f"Request #{rid} waits for a second supervisor on Management "
            f"tokens. {done.get('preview')}",
        },
    )
