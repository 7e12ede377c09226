"""Console pages for supervisors, admins and auditors: customers, meters,
management tokens, daily reports (with CSV) and the audit log."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stsgas.vending.web import paths
from stsgas.vending.web.api import ApiProblem, VendingApi
from stsgas.vending.web.pages import read_sales
from stsgas.vending.web.render import guard, page
from stsgas.vending.web.session import Me, check_csrf
from stsgas.vending.web.views import money, receipt_view, sale_row

router = APIRouter(prefix="/console", include_in_schema=False)

MANAGEMENT_KINDS = (
    ("clear_credit", "Clear credit"),
    ("clear_tamper", "Clear tamper"),
    ("set_tariff", "Set tariff rate"),
    ("key_change", "Key change"),
)
#: the base dates a key change may move a meter to (STS: 1993, 2014, 2035)
BASE_DATES = (1993, 2014, 2035)


def _items(body: Any) -> list[dict[str, Any]]:
    return list(body["items"] if isinstance(body, dict) and "items" in body else body)


def _stale(request: Request, me: Me, active: str) -> Response:
    return page(request, "error.html", me, active, status_code=403, title="Form expired",
                detail="The form was stale; open the page again.")


@router.get("/customers", response_class=HTMLResponse)
async def customers(request: Request, q: str = "") -> Response:
    """Customers, searchable by name or phone."""
    me = await guard(request, "customers")
    found = _items(await VendingApi(request.app, me.token).get(paths.CUSTOMERS, q=q))
    return page(request, "customers.html", me, "customers", title="Customers", q=q,
                customers=found, can_edit=me.role in {"admin", "supervisor"})


@router.post("/customers")
async def create_customer(
    request: Request,
    name: Annotated[str, Form()],
    phone: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Create a customer, then show it."""
    me = await guard(request, "customers")
    if not check_csrf(me.token, csrf):
        return _stale(request, me, "customers")
    try:
        body = await VendingApi(request.app, me.token).post(
            paths.CUSTOMERS, {"name": name, "phone": phone, "address": address}
        )
    except ApiProblem as exc:
        return page(request, "error.html", me, "customers", status_code=exc.status,
                    title="Customer not created", detail=exc.detail)
    return RedirectResponse(f"/console/customers/{body['id']}", status_code=303)


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
async def customer(request: Request, customer_id: int) -> Response:
    """One customer with meters and sales history."""
    me = await guard(request, "customers")
    api = VendingApi(request.app, me.token)
    try:
        body = await api.get(paths.CUSTOMER.format(id=customer_id))
    except ApiProblem as exc:
        return page(request, "error.html", me, "customers", status_code=exc.status,
                    title="Customer not shown", detail=exc.detail)
    meters = [
        {"id": m["id"], "number": m.get("pan", ""), "mode": m.get("mode", ""),
         "status": m.get("status", "")}
        for m in _items(await api.get(paths.METERS, customer_id=customer_id))
    ]
    sales = await read_sales(request, me, customer_id=customer_id, limit=100)
    view = {"id": customer_id, "name": body.get("name", ""), "phone": body.get("phone", ""),
            "address": body.get("address", ""),
            "extra": [("Debt", money(body.get("debt_balance", 0)))]}
    return page(request, "customer.html", me, "customers", title=view["name"], customer=view,
                meters=meters, sales=[sale_row(s) for s in sales])


def _meter_row(m: dict[str, Any]) -> dict[str, Any]:
    customer = m.get("customer")
    name = customer.get("name") if isinstance(customer, dict) else m.get("customer_name")
    return {"id": m["id"], "number": m.get("pan", ""), "drn": m.get("drn", ""),
            "mode": m.get("mode", ""), "status": m.get("status", ""), "customer": name}


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
    rows = [_meter_row(m) for m in _items(await api.get(paths.METERS, limit=200))]
    groups: list[dict[str, Any]] = []
    tariffs: list[dict[str, Any]] = []
    with contextlib.suppress(ApiProblem):
        groups = _items(await api.get(paths.SUPPLY_GROUPS))
        tariffs = _items(await api.get(paths.TARIFFS))
    return page(request, "meters.html", me, "meters", title="Meters", q=q, meters=rows,
                error=error, groups=groups, tariffs=tariffs,
                customer_id=customer_id if customer_id.isdigit() else "",
                can_edit=me.role in {"admin", "supervisor"},
                status_code=404 if error else 200)


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
    me = await guard(request, "meters")
    if not check_csrf(me.token, csrf):
        return _stale(request, me, "meters")
    body: dict[str, Any] = {"number": number, "mode": mode, "supply_group_id": supply_group_id}
    for key, value in (("tariff_id", tariff_id), ("customer_id", customer_id)):
        if value.strip().isdigit():
            body[key] = int(value)
    try:
        made = await VendingApi(request.app, me.token).post(paths.METERS, body)
    except ApiProblem as exc:
        return page(request, "error.html", me, "meters", status_code=exc.status,
                    title="Meter not created", detail=exc.detail)
    return RedirectResponse(f"/console/meters/{made['id']}", status_code=303)


@router.get("/meters/{meter_id}", response_class=HTMLResponse)
async def meter(request: Request, meter_id: int) -> Response:
    """One meter's facts and its sales history."""
    me = await guard(request, "meters")
    api = VendingApi(request.app, me.token)
    try:
        m = await api.get(paths.METER.format(id=meter_id))
    except ApiProblem as exc:
        return page(request, "error.html", me, "meters", status_code=exc.status,
                    title="Meter not shown", detail=exc.detail)
    facts = [
        (label, m[key]) for key, label in (
            ("pan", "Meter number"), ("drn", "DRN"), ("mode", "Mode"), ("status", "Status"),
            ("ti", "Tariff index"), ("base_date", "Base date"), ("last_tid", "Last TID"),
            ("ken", "Key expiry number"), ("needs_key_change", "Key change due"),
        ) if key in m
    ]
    sales = await read_sales(request, me, meter_id=meter_id, limit=100)
    view = {"number": m.get("pan", ""), "facts": facts}
    return page(request, "meter.html", me, "meters", title=f"Meter {view['number']}",
                meter=view, sales=[sale_row(s) for s in sales])


def _int_or_text(text: str) -> int | str:
    """A typed number as an int; anything else as typed, for the API to refuse."""
    text = text.strip()
    return int(text) if text.isdigit() else text


def management_params(
    kind: str, *, rate: str = "", supply_group_id: str = "", ti: str = "", base_date: str = "",
    with_next_sale: str = "",
) -> dict[str, Any]:
    """The API's ``params`` for a token kind, from the form's fields (others ignored).

    A key change sends only what is to change: the new supply group (its SGC
    and KRN), the new tariff index, the new base date; ``with_next_sale``
    when the set should ride on the meter's next sale instead of now.
    """
    if kind == "set_tariff":
        return {"rate": _int_or_text(rate)}
    if kind != "key_change":
        return {}
    params: dict[str, Any] = {}
    if supply_group_id.strip():
        params["supply_group_id"] = _int_or_text(supply_group_id)
    if ti.strip():
        params["ti"] = ti.strip()
    if base_date.strip():
        params["base_date"] = _int_or_text(base_date)
    if with_next_sale.strip().lower() in {"1", "true", "on", "yes"}:
        params["with_next_sale"] = True
    return params


def _group_label(g: Mapping[str, Any]) -> str:
    label = f"SGC {g.get('sgc', '?')} · KRN {g.get('krn', '?')}"
    return f"{label} — {g['name']}" if g.get("name") else label


async def _groups(api: VendingApi) -> list[dict[str, Any]]:
    """Supply groups a key change may move a meter to (active ones), labelled SGC · KRN."""
    with contextlib.suppress(ApiProblem):
        return [{"id": g["id"], "label": _group_label(g)}
                for g in _items(await api.get(paths.SUPPLY_GROUPS)) if g.get("is_active", True)]
    return []


def _kind_label(kind: str) -> str:
    return next((label for value, label in MANAGEMENT_KINDS if value == kind), kind)


def _params_text(params: Mapping[str, Any], groups: list[dict[str, Any]]) -> str:
    """What a request asks for, in words (``new TI 07 · base date 2014``)."""
    names = {g["id"]: g["label"] for g in groups}
    parts = []
    if "supply_group_id" in params:
        gid = params["supply_group_id"]
        parts.append(f"new supply group {names.get(gid, f'#{gid}')}")
    if "ti" in params:
        parts.append(f"new TI {params['ti']}")
    if "base_date" in params:
        parts.append(f"new base date {params['base_date']}")
    if "rate" in params:
        parts.append(f"rate {params['rate']}")
    if params.get("with_next_sale"):
        parts.append("tokens with the next sale")
    return " · ".join(parts)


def _request_view(
    body: Mapping[str, Any], groups: list[dict[str, Any]], *, replayed: bool
) -> dict[str, Any]:
    return {"id": body.get("id"), "kind": _kind_label(str(body.get("kind", ""))),
            "meter": body.get("meter_number", ""), "status": body.get("status", ""),
            "details": _params_text(body.get("params") or {}, groups), "replayed": replayed}


async def _pending(api: VendingApi, me: Me, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Requests waiting for a second person, so an approver sees what each asks for."""
    with contextlib.suppress(ApiProblem):
        return [
            {**_request_view(r, groups, replayed=False), "reason": r.get("reason", ""),
             "asked_by": r.get("requested_by", ""), "mine": r.get("requested_by_id") == me.id}
            for r in _items(await api.get(paths.MANAGEMENT, status="pending"))
        ]
    return []


async def _management_page(
    request: Request, me: Me, api: VendingApi, *, status_code: int = 200,
    form: Mapping[str, str] | None = None, idempotency_key: str | None = None,
    asked: Mapping[str, Any] | None = None, decided: Mapping[str, Any] | None = None,
    issued: Any = None, error: str | None = None, groups: list[dict[str, Any]] | None = None,
) -> Response:
    """The management page. The ask form carries a fresh idempotency key unless one
    is given (the same form shown again after an error keeps its key)."""
    groups = groups if groups is not None else await _groups(api)
    return page(request, "management.html", me, "management", title="Management tokens",
                kinds=MANAGEMENT_KINDS, base_dates=BASE_DATES, groups=groups,
                pending=await _pending(api, me, groups),
                form=form or {}, idempotency_key=idempotency_key or str(uuid.uuid4()),
                asked=asked, decided=decided, issued=issued, error=error,
                status_code=status_code)


@router.get("/management", response_class=HTMLResponse)
async def management_form(request: Request, meter: str = "") -> Response:
    """Ask for a management token, or approve someone else's request (four eyes)."""
    me = await guard(request, "management")
    return await _management_page(request, me, VendingApi(request.app, me.token),
                                  form={"meter": meter})


@router.post("/management", response_class=HTMLResponse)
async def management(
    request: Request,
    meter: Annotated[str, Form()],
    kind: Annotated[str, Form()],
    reason: Annotated[str, Form()],
    rate: Annotated[str, Form()] = "",
    supply_group_id: Annotated[str, Form()] = "",
    ti: Annotated[str, Form()] = "",
    base_date: Annotated[str, Form()] = "",
    with_next_sale: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Ask the API for a management token; it waits for a second person's approval.

    The form's idempotency key goes to the API as ``Idempotency-Key``, so the
    same form sent twice (double click, reload, back and resend) is one request.
    """
    me = await guard(request, "management")
    if not check_csrf(me.token, csrf):
        return _stale(request, me, "management")
    api = VendingApi(request.app, me.token)
    groups = await _groups(api)
    params = management_params(kind, rate=rate, supply_group_id=supply_group_id, ti=ti,
                               base_date=base_date, with_next_sale=with_next_sale)
    key = idempotency_key.strip()
    try:
        answer = await api.request(
            "POST", paths.MANAGEMENT,
            json={"meter_number": meter, "kind": kind, "params": params, "reason": reason},
            headers={"Idempotency-Key": f"web-{key}"} if key else None,
        )
    except ApiProblem as exc:
        form = {"meter": meter, "kind": kind, "reason": reason, "rate": rate,
                "supply_group_id": supply_group_id, "ti": ti, "base_date": base_date,
                "with_next_sale": with_next_sale}
        error = exc.detail
        if exc.code == "idempotency_mismatch":
            # this form was already sent with other details: a new form, a new key
            error = "This form was already sent with other details; check them and ask again."
            key = ""
        return await _management_page(request, me, api, status_code=422, form=form,
                                      idempotency_key=key or None, error=error, groups=groups)
    asked = _request_view(answer.json(), groups,
                          replayed=answer.headers.get("Idempotent-Replayed") == "true")
    return await _management_page(request, me, api, status_code=201, form={"meter": meter},
                                  asked=asked, groups=groups)


@router.post("/management/approve", response_class=HTMLResponse)
async def management_approve(
    request: Request,
    request_id: Annotated[int, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Approve a pending request (not one's own): the tokens are issued and shown in
    the order to enter them. Approving it again shows the same tokens."""
    me = await guard(request, "management")
    if not check_csrf(me.token, csrf):
        return _stale(request, me, "management")
    api = VendingApi(request.app, me.token)
    groups = await _groups(api)
    try:
        answer = await api.request(
            "POST", paths.MANAGEMENT_APPROVE.format(id=request_id), json={}
        )
    except ApiProblem as exc:
        return await _management_page(request, me, api, status_code=422, error=exc.detail,
                                      groups=groups)
    body = answer.json()
    decided = _request_view(body, groups,
                            replayed=answer.headers.get("Idempotent-Replayed") == "true")
    issued = receipt_view({"sale_id": body.get("id", 0), **body}).tokens
    return await _management_page(request, me, api, decided=decided, issued=issued,
                                  groups=groups)


_REPORT_COLUMNS = (
    ("channel", "Channel"), ("vendor_id", "Vendor"), ("status", "Status"), ("sales", "Sales"),
    ("amount_paid", "Paid"), ("fixed_charge", "Fixed"), ("debt_recovered", "Debt"),
    ("tax", "Tax"), ("energy_amount", "Gas"), ("units_credited", "m³"),
)


@router.get("/reports", response_class=HTMLResponse)
async def reports(request: Request, day: str = "") -> Response:
    """The daily report by channel and vendor, and its CSV."""
    me = await guard(request, "reports")
    day = day or datetime.now(UTC).date().isoformat()
    try:
        rows = await VendingApi(request.app, me.token).get(paths.REPORT_DAILY, day=day)
    except ApiProblem as exc:
        return page(request, "error.html", me, "reports", status_code=exc.status,
                    title="Report not shown", detail=exc.detail)
    section = {
        "title": "Sales by channel and vendor",
        "headers": [label for _, label in _REPORT_COLUMNS],
        "rows": [["—" if r.get(k) is None else str(r.get(k)) for k, _ in _REPORT_COLUMNS]
                 for r in rows],
    }
    return page(request, "reports.html", me, "reports", title="Daily report", day=day,
                sections=[section])


@router.get("/reports.csv")
async def reports_csv(request: Request, day: str = "") -> Response:
    """The daily report as the API's CSV, downloaded."""
    me = await guard(request, "reports")
    day = day or datetime.now(UTC).date().isoformat()
    answer = await VendingApi(request.app, me.token).request(
        "GET", paths.REPORT_DAILY, params={"day": day, "format": "csv"}
    )
    return Response(answer.content, media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="stsgas-daily-{day}.csv"'})


@router.get("/audit", response_class=HTMLResponse)
async def audit(request: Request) -> Response:
    """The append-only audit log, newest first."""
    me = await guard(request, "audit")
    entries = [
        {"id": e.get("seq", e.get("id")), "at": str(e.get("at", ""))[:19].replace("T", " "),
         "who": e.get("actor", ""), "action": e.get("action", ""),
         "object": f"{e.get('object_type', '')} {e.get('object_id', '')}".strip(),
         "details": e.get("data", {})}
        for e in _items(await VendingApi(request.app, me.token).get(paths.AUDIT, limit=200))
    ]
    return page(request, "audit.html", me, "audit", title="Audit log", entries=entries)


__all__ = ["receipt_view", "router"]
