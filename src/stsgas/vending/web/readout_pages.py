"""The office's view of what meters report: readout upload, charts and reconciliation
on the meter page, the list of meters to visit, and "mark visited".

Like every console page these are clients of ``/api/v1`` (readouts, history,
reconciliation, visits), so the API's permissions apply: reading needs
``meters.read``; uploading and marking visited need ``meters.write``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Final

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stsgas.vending.apiclient import ApiProblem, VendingApi
from stsgas.vending.web.charts import Bar, Mark, bar_chart, event_chart
from stsgas.vending.web.forms import signed_form, submit
from stsgas.vending.web.render import error_page, guard, page
from stsgas.vending.web.session import Me

__all__ = ["readout_context", "router"]

router = APIRouter(prefix="/console", include_in_schema=False)
HISTORY: Final = "/api/v1/meters/{id}/history"
RECONCILIATION: Final = "/api/v1/meters/{id}/reconciliation"
READOUTS: Final = "/api/v1/meters/{id}/readouts"
VISITS: Final = "/api/v1/meters/visits"
VISIT: Final = "/api/v1/meters/{id}/visits"
#: roles that may upload a readout and mark a meter visited (``meters.write``)
WRITERS: Final = frozenset({"admin", "supervisor"})
#: the reconciliation table shows the newest months; the API has them all
TABLE_MONTHS: Final = 24
_DONE: Final = {
    "uploaded": "Readout uploaded and merged.",
    "known": "This readout file was uploaded before; nothing was added.",
    "visited": "Visit recorded; the visit flag is cleared.",
}
_EVENT_WORDS: Final = {
    "magnetic_interference": "Magnetic interference",
    "valve_open_failure": "Valve failed to open",
    "valve_close_failure": "Valve failed to close",
    "battery_low_1": "Battery low",
    "battery_low_2": "Battery very low",
    "excess_flow": "Excess flow shut-off",
    "leak_shutoff": "Leak shut-off",
}


def event_words(code: str) -> str:
    """An event code as people say it."""
    return _EVENT_WORDS.get(code, code.replace("_", " ").capitalize())


def _when(text: Any) -> str:
    return str(text)[:16].replace("T", " ") + " UTC" if text else ""


def _charts(history: Mapping[str, Any]) -> dict[str, Any]:
    monthly = history["monthly"]
    hourly = history["hourly"]
    events = history["events"]
    out: dict[str, Any] = {"monthly": None, "hourly": None, "events": None}
    if monthly:
        out["monthly"] = bar_chart(
            [
                Bar(m["month"], Decimal(m["volume_m3"]), f"{m['month']}: {m['volume_m3']} m³")
                for m in monthly
            ],
            label=f"Gas used per month, {len(monthly)} months",
            unit="m³",
            label_every=12 if len(monthly) > 24 else 1,
        )
    if hourly:
        out["hourly"] = bar_chart(
            [
                Bar(
                    _when(h["hour"])[5:13] + "h",
                    Decimal(h["volume_m3"]),
                    f"{_when(h['hour'])}: {h['volume_m3']} m³",
                )
                for h in hourly
            ],
            label=f"Gas used per hour, {len(hourly)} hours",
            unit="m³",
            label_every=48 if len(hourly) > 96 else 6,
        )
    if events:
        times = [datetime.fromisoformat(str(e["at"])) for e in events]
        last = history.get("last_readout") or {}
        end = max([*times, *([datetime.fromisoformat(last["read_at"])] if last else [])])
        out["events"] = event_chart(
            [
                Mark(at, f"{_when(e['at'])}: {event_words(e['code'])}", alert=e["needs_visit"])
                for at, e in zip(times, events, strict=True)
            ],
            start=min(times),
            end=end,
            label=f"Meter events, {len(events)}",
        )
    return out


def _reconciliation(rec: Mapping[str, Any]) -> dict[str, Any]:
    unit = "m³" if rec["unit"] == "m3" else "money"
    flagged: list[str] = rec["flagged_months"]
    if len(flagged) > 6:
        months = f"{len(flagged)} months, from {flagged[0]} to {flagged[-1]}"
    else:
        months = ", ".join(flagged)
    return {
        "unit": unit,
        "overdraft": rec["overdraft"],
        "opening": rec["opening"],
        "flagged": months,
        "rows": [
            {
                "month": r["month"],
                "sold": r["sold"],
                "used": r["used"] if r["used"] is not None else "not read",
                "difference": r["difference"] if r["difference"] is not None else "—",
                "balance": r["balance"] if r["balance"] is not None else "—",
                "flagged": r["flagged"],
            }
            for r in rec["months"][-TABLE_MONTHS:]
        ],
        "shown": min(TABLE_MONTHS, len(rec["months"])),
        "months": len(rec["months"]),
    }


async def readout_context(request: Request, me: Me, meter_id: int) -> dict[str, Any]:
    """What the meter page shows of the meter's readouts (empty when none, or not allowed)."""
    api = VendingApi(request.app, me.token)
    try:
        history = await api.get(HISTORY.format(id=meter_id))
        rec = await api.get(RECONCILIATION.format(id=meter_id))
    except ApiProblem:
        return {"readouts": None}
    last = history["last_readout"]
    visit = history["visit"]
    done = _DONE.get(request.query_params.get("done", ""))
    return {
        "flash": {"kind": "ok", "text": done} if done else None,
        "readouts": {
            "meter_id": meter_id,
            "can_write": me.role in WRITERS,
            "last": None
            if last is None
            else {
                "read_at": _when(last["read_at"]),
                "uploaded_at": _when(last["uploaded_at"]),
                "by": last["uploaded_by"] or "system",
            },
            "registers": sorted(history["registers"].items()),
            "settings": sorted(history["settings"].items()),
            "charts": _charts(history),
            "events": [
                {
                    "at": _when(e["at"]),
                    "what": event_words(e["code"]),
                    "detail": e["detail"],
                    "needs_visit": e["needs_visit"],
                }
                for e in reversed(history["events"][-20:])
            ],
            "visit": None
            if visit is None
            else {
                "events": visit["events"],
                "since": _when(visit["first_at"]),
                "what": ", ".join(event_words(c) for c in visit["codes"]),
            },
            "reconciliation": _reconciliation(rec),
        },
    }


#: what a stale meter-page form says
_STALE = "The form was stale; open the meter page again."


@router.post("/meters/{meter_id}/readout")
async def upload_readout(
    request: Request,
    meter_id: int,
    file: Annotated[UploadFile | None, File()] = None,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Upload a readout file from the meter page (the API checks and merges it)."""
    me = await signed_form(request, "meters", csrf, stale=_STALE)
    if file is None or not file.filename:
        return page(
            request,
            "error.html",
            me,
            "meters",
            status_code=422,
            title="Readout not uploaded",
            detail="Choose the readout file (JSON or CSV) to upload.",
        )
    content = await file.read()
    try:
        answer = await VendingApi(request.app, me.token).request(
            "POST",
            READOUTS.format(id=meter_id),
            files={
                "file": (
                    file.filename or "readout.json",
                    content,
                    file.content_type or "application/json",
                )
            },
        )
    except ApiProblem as exc:
        return error_page(request, me, "meters", "Readout not uploaded", exc)
    done = "uploaded" if answer.status_code == 201 else "known"
    return RedirectResponse(f"/console/meters/{meter_id}?done={done}", status_code=303)


@router.post("/meters/{meter_id}/visited")
async def mark_visited(
    request: Request,
    meter_id: int,
    note: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Record a visit to the meter (audited by the API); its visit flag clears."""
    return await submit(
        request,
        "meters",
        csrf,
        lambda api: api.post(VISIT.format(id=meter_id), {"note": note}),
        refused="Visit not recorded",
        then=f"/console/meters/{meter_id}?done=visited",
        stale=_STALE,
    )


@router.get("/visits", response_class=HTMLResponse)
async def visit_list(request: Request) -> Response:
    """Meters whose events need someone to go there, the longest waiting first."""
    me = await guard(request, "visits")
    flags: list[dict[str, Any]] = []
    with contextlib.suppress(ApiProblem):
        flags = await VendingApi(request.app, me.token).get(VISITS)
    rows = [
        {
            "meter_id": f["meter_id"],
            "number": f["meter_number"],
            "what": ", ".join(event_words(c) for c in f["codes"]),
            "events": f["events"],
            "since": _when(f["first_at"]),
            "latest": _when(f["last_at"]),
            "last_visit": _when(f["last_visit"]) or "never",
        }
        for f in flags
    ]
    return page(request, "visits.html", me, "visits", title="Meters to visit", flags=rows)
