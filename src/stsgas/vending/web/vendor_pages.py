"""Console pages of vendors and their floats (admins): list, create, top up, history.

A vendor's float is the money it prepaid and sells gas from. Every action is
a call of the ``/api/v1`` API (``vendors.manage``), so the page can do
exactly what the API lets the signed-in admin do: a top-up is posted to the
ledger and audited as one made through the API. The top-up form carries a
one-time key sent as the API's ``Idempotency-Key``, so a double submit, or the
same form sent again, tops up once.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stsgas.vending.apiclient import ApiProblem, VendingApi
from stsgas.vending.web import paths
from stsgas.vending.web.render import error_page, guard, page
from stsgas.vending.web.session import Me, check_csrf
from stsgas.vending.web.views import money, parse_amount

router = APIRouter(prefix="/console", include_in_schema=False)

DONE = {"create": "Vendor created.", "topup": "Float topped up."}


def _flash(kind: str, text: str) -> dict[str, str]:
    return {"kind": kind, "text": text}


async def _list(
    request: Request, me: Me, *, status_code: int = 200, flash: dict[str, str] | None = None
) -> Response:
    rows = await VendingApi(request.app, me.token).get(paths.VENDORS)
    vendors = [
        {**v, "float": money(v["float_balance"]), "state": "active" if v["is_active"] else "off"}
        for v in rows
    ]
    return page(
        request,
        "vendors.html",
        me,
        "vendors",
        status_code=status_code,
        title="Vendors",
        vendors=vendors,
        flash=flash,
    )


@router.get("/vendors", response_class=HTMLResponse)
async def vendors(request: Request) -> Response:
    """Every vendor and its float; the form for a new one."""
    me = await guard(request, "vendors")
    return await _list(request, me)


@router.post("/vendors")
async def create_vendor(
    request: Request, name: Annotated[str, Form()], csrf: Annotated[str, Form()] = ""
) -> Response:
    """Add a vendor (its float starts at nothing), then open it."""
    me = await guard(request, "vendors")
    if not check_csrf(me.token, csrf):
        return await _list(
            request, me, status_code=403, flash=_flash("error", "The form was stale; try again.")
        )
    try:
        made = await VendingApi(request.app, me.token).post(paths.VENDORS, {"name": name.strip()})
    except ApiProblem as exc:
        return await _list(
            request, me, status_code=exc.status, flash=_flash("error", f"Not created: {exc.detail}")
        )
    return RedirectResponse(f"/console/vendors/{made['id']}?done=create", status_code=303)


def _move(m: dict[str, Any]) -> dict[str, Any]:
    amount = int(m["amount"])
    return {
        "at": str(m["at"])[:16].replace("T", " "),
        "what": "Top-up" if m.get("sale_id") is None and amount > 0 else _sale_label(m),
        "sale_id": m.get("sale_id"),
        "amount_in": money(amount) if amount > 0 else "",
        "amount_out": money(-amount) if amount < 0 else "",
        "balance": money(int(m["balance"])),
    }


def _sale_label(m: dict[str, Any]) -> str:
    if m.get("sale_id") is None:
        return str(m.get("memo") or "Adjustment")
    return "Sale" if int(m["amount"]) < 0 else "Sale cancelled (refund)"


async def _one(
    request: Request,
    me: Me,
    vendor_id: int,
    *,
    status_code: int = 200,
    flash: dict[str, str] | None = None,
    idempotency_key: str = "",
) -> Response:
    """The vendor page; its top-up form gets a fresh one-time key unless one is
    given back (a form refused before it topped up keeps its key)."""
    api = VendingApi(request.app, me.token)
    try:
        vendor = await api.get(paths.VENDOR.format(id=vendor_id))
        history = await api.get(paths.VENDOR_FLOAT_HISTORY.format(id=vendor_id), limit=200)
    except ApiProblem as exc:
        return error_page(request, me, "vendors", "No such vendor", exc)
    return page(
        request,
        "vendor.html",
        me,
        "vendors",
        status_code=status_code,
        title=f"Vendor {vendor['name']}",
        vendor={**vendor, "float": money(vendor["float_balance"])},
        moves=[_move(m) for m in history],
        flash=flash,
        idempotency_key=idempotency_key or str(uuid.uuid4()),
    )


@router.get("/vendors/{vendor_id}", response_class=HTMLResponse)
async def vendor(request: Request, vendor_id: int, done: str = "") -> Response:
    """One vendor: its float, the top-up form and the float's history."""
    me = await guard(request, "vendors")
    flash = _flash("ok", DONE[done]) if done in DONE else None
    return await _one(request, me, vendor_id, flash=flash)


@router.post("/vendors/{vendor_id}/float")
async def top_up(
    request: Request,
    vendor_id: int,
    amount: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Add the money the vendor paid in to its float, once per form."""
    me = await guard(request, "vendors")
    if not check_csrf(me.token, csrf):
        return await _one(
            request,
            me,
            vendor_id,
            status_code=403,
            flash=_flash("error", "The form was stale; try again."),
        )
    key = idempotency_key.strip()
    major = parse_amount(amount)
    if major is None:
        return await _one(
            request,
            me,
            vendor_id,
            status_code=422,
            flash=_flash("error", "Enter the amount paid in, e.g. 1000 or 1000.50."),
            idempotency_key=key,
        )
    try:
        await VendingApi(request.app, me.token).post(
            paths.VENDOR_FLOAT.format(id=vendor_id),
            {"amount": major},
            headers={"Idempotency-Key": f"web-{key}"} if key else None,
        )
    except ApiProblem as exc:
        if exc.code == "idempotency_mismatch":
            text = "This form already topped up another amount; nothing was added. Check the float."
            key = ""  # a fresh form
        else:
            text = f"Not topped up: {exc.detail}"
        return await _one(
            request,
            me,
            vendor_id,
            status_code=exc.status,
            flash=_flash("error", text),
            idempotency_key=key,
        )
    return RedirectResponse(f"/console/vendors/{vendor_id}?done=topup", status_code=303)
