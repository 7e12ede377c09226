"""Console pages for supervisors, admins and auditors: customers, meters,
daily reports (with CSV) and the audit log (management tokens: ``management_pages``)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stsgas.vending.apiclient import ApiProblem, VendingApi
from stsgas.vending.web import paths, policy_pages
from stsgas.vending.web.forms import submit
from stsgas.vending.web.meter_view import meter_facts
from stsgas.vending.web.pages import read_sales
from stsgas.vending.web.readout_pages import readout_context
from stsgas.vending.web.render import error_page, guard, page
from stsgas.vending.web.views import money, receipt_view, sale_row
from stsgas.vending.web.wallet_pages import wallet_panel

router = APIRouter(prefix="/console", include_in_schema=False)


def items_of(body: Any) -> list[dict[str, Any]]:
    return list(body["items"] if isinstance(body, dict) and "items" in body else body)


@router.get("/customers", response_class=HTMLResponse)
async def customers(request: Request, q: str = "") -> Response:
    """Customers, searchable by name or phone."""
    me = await guard(request, "customers")
    found = items_of(await VendingApi(request.app, me.token).get(paths.CUSTOMERS, q=q))
    return page(
        request,
        "customers.html",
        me,
        "customers",
        title="Customers",
        q=q,
        customers=found,
        can_edit=me.role in {"admin", "supervisor"},
    )


@router.post("/customers")
async def create_customer(
    request: Request,
    name: Annotated[str, Form()],
    phone: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
    sms_tokens: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Create a customer, then show it."""
    body = {"name": name, "phone": phone, "address": address, "sms_tokens": sms_tokens == "on"}
    return await submit(
        request,
        "customers",
        csrf,
        lambda api: api.post(paths.CUSTOMERS, body),
        refused="Customer not created",
        then=lambda made: f"/console/customers/{made['id']}",
    )


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
async def customer(request: Request, customer_id: int) -> Response:
    """One customer with meters and sales history."""
    me = await guard(request, "customers")
    api = VendingApi(request.app, me.token)
    try:
        body = await api.get(paths.CUSTOMER.format(id=customer_id))
    except ApiProblem as exc:
        return error_page(request, me, "customers", "Customer not shown", exc)
    meters = [
        {
            "id": m["id"],
            "number": m.get("pan", ""),
            "mode": m.get("mode", ""),
            "status": m.get("status", ""),
        }
        for m in items_of(await api.get(paths.METERS, customer_id=customer_id))
    ]
    sales = await read_sales(request, me, customer_id=customer_id, limit=100)
    view = {
        "id": customer_id,
        "name": body.get("name", ""),
        "phone": body.get("phone", ""),
        "address": body.get("address", ""),
        "extra": [("Debt", money(body.get("debt_balance", 0)))],
        #: None for a cashier's masked view (the field is not shown)
        "sms_tokens": body.get("sms_tokens"),
    }
    return page(
        request,
        "customer.html",
        me,
        "customers",
        title=view["name"],
        customer=view,
        meters=meters,
        sales=[sale_row(s) for s in sales],
        policy=await policy_pages.policy_view(api, customer_id),
        can_edit_policy=me.role in {"admin", "supervisor"},
        wallet=await wallet_panel(api, customer_id),
        can_pay_in=me.role == "admin",
        can_sell=me.role in {"supervisor", "cashier"},
        can_edit=me.role in {"admin", "supervisor"},
    )


@router.post("/customers/{customer_id}/sms-tokens")
async def set_sms_tokens(
    request: Request,
    customer_id: int,
    sms_tokens: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Opt the customer in to (or out of) tokens by SMS after every sale."""
    path = paths.CUSTOMER.format(id=customer_id)
    return await submit(
        request,
        "customers",
        csrf,
        lambda api: api.request("PATCH", path, json={"sms_tokens": sms_tokens == "on"}),
        refused="Customer not changed",
        then=f"/console/customers/{customer_id}",
    )


def _meter_row(m: dict[str, Any]) -> dict[str, Any]:
    customer = m.get("customer")
    name = customer.get("name") if isinstance(customer, dict) else m.get("customer_name")
    return {
        "id": m["id"],
        "number": m.get("pan", ""),
        "drn": m.get("drn", ""),
        "mode": m.get("mode", ""),
        "status": m.get("status", ""),
        "customer": name,
    }


@router.get("/meters", response_class=HTMLResponse)
async def meters(request: Request, q: str = "", customer_id: str = "") -> Response:
    """Meters; a number typed in the search opens that meter."""
    me = await guard(request, "meters")
    api = VendingApi(request.app, me.token)
    error = None
    q = q.replace(" ", "").replace("-", "")
    if q:
        try:
            found = await api.get(paths.LOOKUP.format(meter=q))
            return RedirectResponse(f"/console/meters/{found['meter_id']}", status_code=303)
        except ApiProblem as exc:
            error = exc.detail
    rows = [_meter_row(m) for m in items_of(await api.get(paths.METERS, limit=200))]
    groups: list[dict[str, Any]] = []
    tariffs: list[dict[str, Any]] = []
    with contextlib.suppress(ApiProblem):
        groups = items_of(await api.get(paths.SUPPLY_GROUPS))
        tariffs = items_of(await api.get(paths.TARIFFS))
    return page(
        request,
        "meters.html",
        me,
        "meters",
        title="Meters",
        q=q,
        meters=rows,
        error=error,
        groups=groups,
        tariffs=tariffs,
        customer_id=customer_id if customer_id.isascii() and customer_id.isdigit() else "",
        can_edit=me.role in {"admin", "supervisor"},
        status_code=404 if error else 200,
    )


@router.post("/meters")
async def create_meter(
    request: Request,
    number: Annotated[str, Form()],
    mode: Annotated[str, Form()],
    supply_group_id: Annotated[int, Form()],
    tariff_id: Annotated[str, Form()] = "",
    customer_id: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Register a meter (the API checks the number's check digit), then show it."""
    body: dict[str, Any] = {"number": number, "mode": mode, "supply_group_id": supply_group_id}
    for key, value in (("tariff_id", tariff_id), ("customer_id", customer_id)):
        if value.strip().isascii() and value.strip().isdigit():
            body[key] = int(value)
    return await submit(
        request,
        "meters",
        csrf,
        lambda api: api.post(paths.METERS, body),
        refused="Meter not created",
        then=lambda made: f"/console/meters/{made['id']}",
    )


@router.get("/meters/{meter_id}", response_class=HTMLResponse)
async def meter(request: Request, meter_id: int) -> Response:
    """One meter's facts and its sales history."""
    me = await guard(request, "meters")
    api = VendingApi(request.app, me.token)
    try:
        m = await api.get(paths.METER.format(id=meter_id))
    except ApiProblem as exc:
        return error_page(request, me, "meters", "Meter not shown", exc)
    groups = {g["id"]: g for g in items_of(await api.get(paths.SUPPLY_GROUPS))}
    tariffs = {t["id"]: t["name"] for t in items_of(await api.get(paths.TARIFFS))}
    facts = meter_facts(m, groups=groups, tariffs=tariffs)
    sales = await read_sales(request, me, meter_id=meter_id, limit=100)
    view = {"number": m.get("pan", ""), "facts": facts}
    return page(
        request,
        "meter.html",
        me,
        "meters",
        title=f"Meter {view['number']}",
        meter=view,
        sales=[sale_row(s) for s in sales],
        **await readout_context(request, me, meter_id),  # readouts, charts, visit flag
    )


_REPORT_COLUMNS = (
    ("channel", "Channel"),
    ("vendor_id", "Vendor"),
    ("status", "Status"),
    ("sales", "Sales"),
    ("amount_paid", "Paid"),
    ("fixed_charge", "Fixed"),
    ("debt_recovered", "Debt"),
    ("tax", "Tax"),
    ("energy_amount", "Gas"),
    ("units_credited", "m³"),
)


@router.get("/reports", response_class=HTMLResponse)
async def reports(request: Request, day: str = "") -> Response:
    """The daily report by channel and vendor, and its CSV."""
    me = await guard(request, "reports")
    day = day or datetime.now(UTC).date().isoformat()
    try:
        rows = await VendingApi(request.app, me.token).get(paths.REPORT_DAILY, day=day)
    except ApiProblem as exc:
        return error_page(request, me, "reports", "Report not shown", exc)
    section = {
        "title": "Sales by channel and vendor",
        "headers": [label for _, label in _REPORT_COLUMNS],
        "rows": [
            ["—" if r.get(k) is None else str(r.get(k)) for k, _ in _REPORT_COLUMNS] for r in rows
        ],
    }
    return page(
        request, "reports.html", me, "reports", title="Daily report", day=day, sections=[section]
    )


@router.get("/reports.csv")
async def reports_csv(request: Request, day: str = "") -> Response:
    """The daily report as the API's CSV, downloaded."""
    me = await guard(request, "reports")
    day = day or datetime.now(UTC).date().isoformat()
    answer = await VendingApi(request.app, me.token).request(
        "GET", paths.REPORT_DAILY, params={"day": day, "format": "csv"}
    )
    return Response(
        answer.content,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="stsgas-daily-{day}.csv"'},
    )


@router.get("/audit", response_class=HTMLResponse)
async def audit(request: Request) -> Response:
    """The append-only audit log, newest first."""
    me = await guard(request, "audit")
    entries = [
        {
            "id": e.get("seq", e.get("id")),
            "at": str(e.get("at", ""))[:19].replace("T", " "),
            "who": e.get("actor", ""),
            "action": e.get("action", ""),
            "object": f"{e.get('object_type', '')} {e.get('object_id', '')}".strip(),
            "details": e.get("data", {}),
        }
        for e in items_of(await VendingApi(request.app, me.token).get(paths.AUDIT, limit=200))
    ]
    return page(request, "audit.html", me, "audit", title="Audit log", entries=entries)


__all__ = ["receipt_view", "router"]
