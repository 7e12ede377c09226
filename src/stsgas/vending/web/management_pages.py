"""The console's management-token page: ask (with an idempotency key per form),
see what waits for a second person, approve, and read the tokens in entry order."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from stsgas.vending.apiclient import ApiProblem, VendingApi
from stsgas.vending.sales.receipt_parts import ReceiptToken
from stsgas.vending.web import paths
from stsgas.vending.web.admin_pages import items_of
from stsgas.vending.web.forms import signed_form
from stsgas.vending.web.render import guard, page
from stsgas.vending.web.session import Me
from stsgas.vending.web.views import token_views

router = APIRouter(prefix="/console", include_in_schema=False)

MANAGEMENT_KINDS = (
    ("clear_credit", "Clear credit"),
    ("clear_tamper", "Clear tamper"),
    ("set_tariff", "Set tariff rate"),
    ("key_change", "Key change"),
    ("load_tariff", "Load step tariff (IR)"),
    ("field_settings", "Field settings (IR)"),
)
#: the field settings the form offers: (name, label with its unit)
FIELD_SETTINGS = (
    ("overdraft", "Overdraft (m³ or money, up to 3 places; 0 to 50)"),
    ("recharge_limit", "Recharge limit (m³ or money, or none)"),
    ("low_credit_alarm", "Low credit alarm (m³ or money; 0 to 1000)"),
    ("battery_low_1_v", "Battery low 1 (volts, 3.00 to 3.60)"),
    ("battery_low_2_v", "Battery low 2 (volts, 2.80 to 3.50, below low 1)"),
    ("auto_clean_days", "Auto clean (days, 0 = off)"),
    ("timezone", "Time zone (e.g. Africa/Nairobi)"),
    ("billing_day", "Billing day (1 to 28)"),
    ("excess_flow_m3h", "Excess flow (m³/h, 0.5 to 50)"),
    ("excess_flow_s", "Excess flow time before shut-off (s, 5 to 3600)"),
    ("leak_flow_m3h", "Leak flow (m³/h, 0.001 to 1)"),
    ("leak_s", "Leak time before shut-off (s, 600 to 172800)"),
)
SETTING_NAMES = tuple(name for name, _label in FIELD_SETTINGS)
#: the base dates a key change may move a meter to (STS: 1993, 2014, 2035)
BASE_DATES = (1993, 2014, 2035)


def _int_or_text(text: str) -> int | str:
    """A typed number as an int; anything else as typed, for the API to refuse."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else text


def management_params(
    kind: str,
    *,
    rate: str = "",
    supply_group_id: str = "",
    ti: str = "",
    base_date: str = "",
    with_next_sale: str = "",
    seq: str = "",
    activate_at: str = "",
) -> dict[str, Any]:
    """The API's ``params`` for a token kind, from the form's fields (others ignored).

    A key change sends only what is to change: the new supply group (its SGC
    and KRN), the new tariff index, the new base date; ``with_next_sale``
    when the set should ride on the meter's next sale instead of now.
    """
    if kind == "set_tariff":
        return {"rate": _int_or_text(rate)}
    if kind == "load_tariff":
        # the form's datetime-local field has no zone: it is read as UTC
        at = activate_at.strip()
        return {"seq": _int_or_text(seq), "activate_at": at + "Z" if len(at) in (16, 19) else at}
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


def settings_params(fields: Mapping[str, str]) -> dict[str, Any]:
    """The API's ``params`` of a field-settings request from the form's ``fs_*`` fields
    (named without the prefix): its own counter ``seq`` and only the settings typed
    in; the rest stay as the meter has them."""
    typed = {k: v.strip() for k, v in fields.items() if k in SETTING_NAMES and v.strip()}
    return {"seq": _int_or_text(fields.get("seq", "")), **typed}


def _group_label(g: Mapping[str, Any]) -> str:
    label = f"SGC {g.get('sgc', '?')} · KRN {g.get('krn', '?')}"
    return f"{label} — {g['name']}" if g.get("name") else label


async def _groups(api: VendingApi) -> list[dict[str, Any]]:
    """Supply groups a key change may move a meter to (active ones), labelled SGC · KRN."""
    with contextlib.suppress(ApiProblem):
        return [
            {"id": g["id"], "label": _group_label(g)}
            for g in items_of(await api.get(paths.SUPPLY_GROUPS))
            if g.get("is_active", True)
        ]
    return []


#: kinds asked elsewhere (a sale's cancel), shown here for approval
OTHER_KINDS = (("cancel_sale", "Cancel sale (take credit back)"),)


def _kind_label(kind: str) -> str:
    labels = MANAGEMENT_KINDS + OTHER_KINDS
    return next((label for value, label in labels if value == kind), kind)


def _params_text(params: Mapping[str, Any], groups: list[dict[str, Any]]) -> str:
    """What a request asks for, in words (``new TI 07 · base date 2014``)."""
    names = {g["id"]: g["label"] for g in groups}
    if "preview" in params:  # a sale's take-back: what the customer will see
        return f"sale #{params.get('sale_id')}: {str(params['preview']).rstrip('.')}"
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
    if "activate_at" in params:
        parts.append(
            f"IR counter {params.get('seq')} · from {params['activate_at']} "
            f"· tariff version #{params.get('tariff_version_id')}"
        )
    changed = [f"{n} {params[n]}" for n in SETTING_NAMES if n in params]
    if changed:
        parts.append(f"IR counter {params.get('seq')} · " + " · ".join(changed))
    if params.get("with_next_sale"):
        parts.append("tokens with the next sale")
    return " · ".join(parts)


def _request_view(
    body: Mapping[str, Any], groups: list[dict[str, Any]], *, replayed: bool
) -> dict[str, Any]:
    return {
        "id": body.get("id"),
        "kind": _kind_label(str(body.get("kind", ""))),
        "kind_value": body.get("kind", ""),
        "meter": body.get("meter_number", ""),
        "status": body.get("status", ""),
        "details": _params_text(body.get("params") or {}, groups),
        "replayed": replayed,
        "ir_command": body.get("ir_command"),
        "refund_note": body.get("refund_note"),
    }


async def _pending(api: VendingApi, me: Me, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Requests waiting for a second person, so an approver sees what each asks for."""
    with contextlib.suppress(ApiProblem):
        return [
            {
                **_request_view(r, groups, replayed=False),
                "reason": r.get("reason", ""),
                "asked_by": r.get("requested_by", ""),
                "mine": r.get("requested_by_id") == me.id,
            }
            for r in items_of(await api.get(paths.MANAGEMENT, status="pending"))
        ]
    return []


async def _management_page(
    request: Request,
    me: Me,
    api: VendingApi,
    *,
    status_code: int = 200,
    form: Mapping[str, str] | None = None,
    idempotency_key: str | None = None,
    asked: Mapping[str, Any] | None = None,
    decided: Mapping[str, Any] | None = None,
    issued: Any = None,
    error: str | None = None,
    groups: list[dict[str, Any]] | None = None,
) -> Response:
    """The management page. The ask form carries a fresh idempotency key unless one
    is given (the same form shown again after an error keeps its key)."""
    groups = groups if groups is not None else await _groups(api)
    return page(
        request,
        "management.html",
        me,
        "management",
        title="Management tokens",
        kinds=MANAGEMENT_KINDS,
        field_settings=FIELD_SETTINGS,
        base_dates=BASE_DATES,
        groups=groups,
        pending=await _pending(api, me, groups),
        form=form or {},
        idempotency_key=idempotency_key or str(uuid.uuid4()),
        asked=asked,
        decided=decided,
        issued=issued,
        error=error,
        status_code=status_code,
    )


@router.get("/management", response_class=HTMLResponse)
async def management_form(request: Request, meter: str = "") -> Response:
    """Ask for a management token, or approve someone else's request (four eyes)."""
    me = await guard(request, "management")
    return await _management_page(
        request, me, VendingApi(request.app, me.token), form={"meter": meter}
    )


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
    seq: Annotated[str, Form()] = "",
    activate_at: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Ask the API for a management token; it waits for a second person's approval.

    The form's idempotency key goes to the API as ``Idempotency-Key``, so the
    same form sent twice (double click, reload, back and resend) is one request.
    """
    me = await signed_form(request, "management", csrf)
    api = VendingApi(request.app, me.token)
    groups = await _groups(api)
    sent = await request.form()
    settings = {n: str(sent.get(f"fs_{n}", "")) for n in ("seq", *SETTING_NAMES)}
    params = (
        settings_params(settings)
        if kind == "field_settings"
        else management_params(
            kind,
            rate=rate,
            supply_group_id=supply_group_id,
            ti=ti,
            base_date=base_date,
            with_next_sale=with_next_sale,
            seq=seq,
            activate_at=activate_at,
        )
    )
    key = idempotency_key.strip()
    try:
        answer = await api.request(
            "POST",
            paths.MANAGEMENT,
            json={"meter_number": meter, "kind": kind, "params": params, "reason": reason},
            headers={"Idempotency-Key": f"web-{key}"} if key else None,
        )
    except ApiProblem as exc:
        form = {
            "meter": meter,
            "kind": kind,
            "reason": reason,
            "rate": rate,
            "supply_group_id": supply_group_id,
            "ti": ti,
            "base_date": base_date,
            "with_next_sale": with_next_sale,
            "seq": seq,
            "activate_at": activate_at,
            **{f"fs_{n}": v for n, v in settings.items()},
        }
        error = exc.detail
        if exc.code == "idempotency_mismatch":
            # this form was already sent with other details: a new form, a new key
            error = "This form was already sent with other details; check them and ask again."
            key = ""
        return await _management_page(
            request,
            me,
            api,
            status_code=422,
            form=form,
            idempotency_key=key or None,
            error=error,
            groups=groups,
        )
    asked = _request_view(
        answer.json(), groups, replayed=answer.headers.get("Idempotent-Replayed") == "true"
    )
    return await _management_page(
        request, me, api, status_code=201, form={"meter": meter}, asked=asked, groups=groups
    )


@router.post("/management/approve", response_class=HTMLResponse)
async def management_approve(
    request: Request,
    request_id: Annotated[int, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Approve a pending request (not one's own): the tokens are issued and shown in
    the order to enter them. Approving it again shows the same tokens."""
    me = await signed_form(request, "management", csrf)
    api = VendingApi(request.app, me.token)
    groups = await _groups(api)
    try:
        answer = await api.request("POST", paths.MANAGEMENT_APPROVE.format(id=request_id), json={})
    except ApiProblem as exc:
        return await _management_page(
            request, me, api, status_code=422, error=exc.detail, groups=groups
        )
    body = answer.json()
    decided = _request_view(
        body, groups, replayed=answer.headers.get("Idempotent-Replayed") == "true"
    )
    issued = token_views([ReceiptToken.from_json(t) for t in body.get("tokens") or ()])
    return await _management_page(request, me, api, decided=decided, issued=issued, groups=groups)
