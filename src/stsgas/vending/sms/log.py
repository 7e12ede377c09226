"""``GET /api/v1/sms/gateway`` and ``/api/v1/sms/messages``: the SMS channel as seen
from the office (``audit.read``: admins and auditors).

The gateway answer names where replies go (the gateway's host, or "memory"
when none is configured) and the limits, never a secret. The message log lists
each inbound message (phone number masked to its last three digits, the
gateway's message id, when) with what happened to it and the reply sent back.
The text a customer sent is not kept (only its fingerprint, to spot a reused
message id), so the log cannot show it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from stsgas.vending.customers.service import mask_phone
from stsgas.vending.deps import SessionDep
from stsgas.vending.kit.params import MAX_ROW_ID
from stsgas.vending.models import IdempotencyState, Operator
from stsgas.vending.operators.auth import require
from stsgas.vending.operators.permissions import Permission
from stsgas.vending.sms import repository as repo
from stsgas.vending.sms.settings import SmsSettings

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/sms", tags=["sms"])
Reader = Annotated[Operator, Depends(require(Permission.AUDIT_READ))]


class GatewayOut(BaseModel):
    """How the channel is set up (no secrets)."""

    outbound: str  #: the gateway's host, or "memory" (replies kept, not sent)
    inbound_enabled: bool  #: a shared secret is set: the webhook accepts messages
    operator: str
    per_phone_limit: int
    per_meter_limit: int
    per_customer_limit: int
    window_minutes: int


class SmsMessageOut(BaseModel):
    """One inbound message and its reply."""

    id: int
    at: datetime
    phone: str  #: masked: only the last three digits
    message_id: str
    status: str  #: in_progress, replied, rate_limited
    reply: str | None
    reply_sent: bool


@router.get("/gateway", response_model=GatewayOut)
def gateway(request: Request, _reader: Reader) -> GatewayOut:
    """The channel's settings, without its secrets."""
    cfg: SmsSettings = request.app.state.sms_settings
    host = urlsplit(cfg.gateway_url).hostname if cfg.gateway_url else None
    return GatewayOut(
        outbound=host or "memory",
        inbound_enabled=cfg.inbound_token is not None,
        operator=cfg.operator,
        per_phone_limit=cfg.per_phone_limit,
        per_meter_limit=cfg.per_meter_limit,
        per_customer_limit=cfg.per_customer_limit,
        window_minutes=cfg.window_minutes,
    )


@router.get("/messages", response_model=list[SmsMessageOut])
def messages(
    session: SessionDep,
    _reader: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> list[SmsMessageOut]:
    """Newest first; page on with ``before_id`` = the last ``id`` shown."""
    out = []
    for rec in repo.recent_messages(session, limit=limit, before_id=before_id):
        body = rec.response_body or {}
        done = rec.state == IdempotencyState.DONE.value
        out.append(
            SmsMessageOut(
                id=rec.id,
                at=rec.created_at,
                phone=mask_phone(rec.scope.removeprefix("sms:")),
                message_id=rec.key,
                status=str(body.get("status") or "replied") if done else "in_progress",
                reply=body.get("reply"),
                reply_sent=bool(body.get("sent")),
            )
        )
    return out
