"""Console page of supply groups: each key revision and its key's state, never the key.

Whoever may read supply groups through the API (``supply_groups.read``) sees
the list: SGC, key revision, algorithms, base date, key expiry number, the
vending key's expiry and the warnings the API computes. Admins
(``supply_groups.manage``) also get the form that adds one; the vending key
typed there goes once to the API, which wraps it, and is never shown again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stsgas.vending.apiclient import ApiProblem, VendingApi
from stsgas.vending.operators.permissions import Permission, allowed
from stsgas.vending.web import paths
from stsgas.vending.web.render import guard, page
from stsgas.vending.web.session import Me, check_csrf

router = APIRouter(prefix="/console", include_in_schema=False)

ALGORITHMS = {7: "STA", 9: "MISTY1", 11: "DEA"}
KEY_TYPES = {
    0: "initialisation (DITK)",
    1: "default (DDTK)",
    2: "unique (DUTK)",
    3: "common (DCTK)",
}


def _key_state(g: dict[str, Any]) -> tuple[str, str]:
    """A few words on the key, and a class for its colour."""
    warnings = g.get("warnings") or []
    if any(w.get("expired") for w in warnings):
        return "expired: schedule a key change", "error"
    if warnings:
        return "runs out soon", "warn"
    if not g.get("is_active"):
        return "retired", "muted"
    return "in use", "ok"


def _group(g: dict[str, Any]) -> dict[str, Any]:
    state, tone = _key_state(g)
    expires = g.get("key_expires_at")
    return {
        "id": g["id"],
        "name": g.get("name") or "",
        "sgc": g["sgc"],
        "krn": g["krn"],
        "algorithms": f"{ALGORITHMS.get(g['ea'], g['ea'])}, DKGA0{g['dkga']}",
        "key_type": KEY_TYPES.get(g["key_type"], str(g["key_type"])),
        "base_date": g["base_date"],
        "ken": "255 (never)" if g["ken"] == 255 else str(g["ken"]),
        "expires": str(expires)[:16].replace("T", " ") + " UTC" if expires else "no date set",
        "state": state,
        "tone": tone,
        "warnings": [w["message"] for w in g.get("warnings") or []],
    }


async def _show(
    request: Request, me: Me, *, status_code: int = 200, flash: dict[str, str] | None = None
) -> Response:
    rows = await VendingApi(request.app, me.token).get(paths.SUPPLY_GROUPS)
    return page(
        request,
        "supply_groups.html",
        me,
        "supply_groups",
        status_code=status_code,
        title="Supply groups",
        groups=[_group(g) for g in rows],
        can_create=allowed(me.role, Permission.SUPPLY_GROUPS_MANAGE),
        flash=flash,
    )


@router.get("/supply-groups", response_class=HTMLResponse)
async def supply_groups(request: Request, done: str = "") -> Response:
    """Every supply group and its key's state."""
    me = await guard(request, "supply_groups")
    flash = {"kind": "ok", "text": "Supply group added."} if done == "create" else None
    return await _show(request, me, flash=flash)


@router.post("/supply-groups")
async def create_group(
    request: Request,
    sgc: Annotated[str, Form()],
    krn: Annotated[str, Form()],
    vending_key: Annotated[str, Form()],
    name: Annotated[str, Form()] = "",
    key_type: Annotated[str, Form()] = "2",
    base_date: Annotated[str, Form()] = "2014",
    ea: Annotated[str, Form()] = "7",
    dkga: Annotated[str, Form()] = "4",
    ken: Annotated[str, Form()] = "255",
    key_expires_at: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Add a supply group key revision through the API (which checks every field)."""
    me = await guard(request, "supply_groups")
    if not check_csrf(me.token, csrf):
        flash = {"kind": "error", "text": "The form was stale; try again."}
        return await _show(request, me, status_code=403, flash=flash)
    body: dict[str, Any] = {
        "name": name.strip(),
        "sgc": sgc.strip(),
        "key_type": _number(key_type),
        "base_date": _number(base_date),
        "ea": _number(ea),
        "dkga": _number(dkga),
        "krn": _number(krn),
        "ken": _number(ken.strip() or "255"),
        "vending_key": vending_key.strip(),
    }
    if key_expires_at.strip():
        at = key_expires_at.strip()
        body["key_expires_at"] = f"{at}:00+00:00" if len(at) == 16 else at
    try:
        await VendingApi(request.app, me.token).post(paths.SUPPLY_GROUPS, body)
    except ApiProblem as exc:
        flash = {"kind": "error", "text": f"Not added: {_why(exc)}"}
        return await _show(request, me, status_code=exc.status, flash=flash)
    return RedirectResponse("/console/supply-groups?done=create", status_code=303)


def _number(text: str) -> int | str:
    """A form field as the integer the API takes (as typed when it is none: the API
    then names the field)."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else text


def _why(exc: ApiProblem) -> str:
    """The API's reason, naming the fields it refused (never echoing the key)."""
    errors = exc.body.get("errors")
    if isinstance(errors, list) and errors:
        fields = sorted({str(e.get("loc", ["", "?"])[-1]) for e in errors if isinstance(e, dict)})
        if fields:
            return f"check {', '.join(fields)}"
    return exc.detail
