"""Console page of the SMS channel: the gateway's set-up, the message log (inbound
messages, their replies, and the tokens sent after sales) and the USSD sessions.

Built on ``GET /api/v1/sms/gateway``, ``/api/v1/sms/messages`` and
``/api/v1/ussd/sessions`` (``audit.read``: admins and auditors), so the page
shows what the API shows: phone numbers masked, no secrets.
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
    "token_delivery": "token sent after a sale",
}
USSD_STATUS = {
    "open": "in the menu",
    "ended": "ended",
    "balance": "balance shown",
    "tokens": "tokens shown",
    "bought": "bought gas",
    "refused": "refused: nothing sold",
    "in_progress": "purchase being made",
    "rate_limited": "over the limit",
    "not_registered": "phone not registered",
}


def _session_row(u: dict[str, Any]) -> dict[str, Any]:
    status = str(u["status"])
    return {
        "at": str(u["at"])[:19].replace("T", " "),
        "phone": u["phone"],
        "session_id": u["session_id"],
        "status": USSD_STATUS.get(status, status.replace("_", " ")),
        "steps": u["steps"],
        "screen": u.get("screen") or "",
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
    sessions = await api.get(paths.USSD_SESSIONS, limit=100)
    return page(
        request,
        "sms.html",
        me,
        "sms",
        title="SMS",
        gateway=gateway,
        messages=[_row(m) for m in rows],
        sessions=[_session_row(u) for u in sessions],
    )
