"""Console page of the SMS channel: the gateway's set-up and the message log.

Built on ``GET /api/v1/sms/gateway`` and ``/api/v1/sms/messages`` (``audit.read``:
admins and auditors), so the page shows what the API shows: phone numbers
masked, no secrets.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from stsgas.vending.apiclient import VendingApi
from stsgas.vending.web import paths
from stsgas.vending.web.render import guard, page

router = APIRouter(prefix="/console", include_in_schema=False)

STATUS = {
    "in_progress": "being answered",
    "replied": "answered",
    "rate_limited": "over the limit: not answered",
}


def _row(m: dict[str, Any]) -> dict[str, Any]:
    status = str(m["status"])
    if m.get("reply") is None:
        sent = "no reply"
    else:
        sent = "sent" if m.get("reply_sent") else "not sent yet (gateway)"
    return {
        "at": str(m["at"])[:19].replace("T", " "),
        "phone": m["phone"],
        "message_id": m["message_id"],
        "status": STATUS.get(status, status.replace("_", " ")),
        "reply": m.get("reply") or "",
        "sent": sent,
    }


@router.get("/sms", response_class=HTMLResponse)
async def sms(request: Request) -> Response:
    """The gateway and the latest messages in and out."""
    me = await guard(request, "sms")
    api = VendingApi(request.app, me.token)
    gateway = await api.get(paths.SMS_GATEWAY)
    rows = await api.get(paths.SMS_MESSAGES, limit=200)
    return page(
        request,
        "sms.html",
        me,
        "sms",
        title="SMS",
        gateway=gateway,
        messages=[_row(m) for m in rows],
    )
