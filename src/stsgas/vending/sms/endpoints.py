"""``POST /api/v1/sms/inbound``: the gateway's webhook, and the channel's wiring.

The gateway posts form fields or JSON: ``from`` (or ``msisdn``), ``text``
(or ``message``) and ``message_id`` (or ``id``), with the shared secret in
``X-Gateway-Token``. The answer is JSON ``{"status", "reply"}``; the reply
itself goes out through the :class:`SmsGateway`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from anyio import to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from stsgas.vending.sms import buy, log, purchase, service
from stsgas.vending.sms.callback import gateway_known, limits, problem
from stsgas.vending.sms.commands import Balance, Buy, Help, Unknown
from stsgas.vending.sms.gateway import (
    HttpSmsGateway,
    MemorySmsGateway,
    OutboundSms,
    SmsGateway,
    SmsGatewayError,
)
from stsgas.vending.sms.replies import (
    HELP_TEXT,
    refused_reply,
    unknown_reply,
)
from stsgas.vending.sms.settings import SmsSettings

__all__ = ["install", "router"]

router = APIRouter(prefix="/api/v1/sms", tags=["sms"])
_FIELDS = {
    "phone": ("from", "msisdn", "sender"),
    "text": ("text", "message", "body"),
    "message_id": ("message_id", "id", "messageId"),
}


async def _fields(request: Request) -> dict[str, str] | None:
    data: Any
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = await request.json()
        except ValueError:
            return None
    else:
        data = dict(await request.form())
    if not isinstance(data, dict):
        return None
    out = {}
    for name, keys in _FIELDS.items():
        value = next((data[k] for k in keys if data.get(k) not in (None, "")), None)
        if value is None and name != "text":
            return None
        out[name] = str(value or "")[:320]
    return out


async def _run(request: Request, msg: service.Inbound, command: Any, cfg: SmsSettings) -> str:
    sm: sessionmaker[Session] = request.app.state.sessionmaker
    if isinstance(command, Help):
        return HELP_TEXT
    if isinstance(command, Unknown):
        return unknown_reply(command.reason)
    ok, why = await to_thread.run_sync(service.may_use_meter, sm, msg.phone, command.meter)
    if not ok:
        return refused_reply(why)
    if isinstance(command, Balance):
        return await to_thread.run_sync(service.balance_text, sm, command.meter)
    assert isinstance(command, Buy)
    token = await to_thread.run_sync(purchase.token_for, request.app, sm, cfg.operator)
    if token is None:
        return refused_reply("SMS sales are not set up")
    return await buy.buy_from_wallet(
        request.app, token, command.meter, command.amount, key=f"sms-{msg.message_id}"
    )


@router.post("/inbound")
async def inbound(request: Request) -> Response:
    """One SMS from a customer: dedupe, limit, run the command, reply."""
    cfg: SmsSettings = request.app.state.sms_settings
    if not gateway_known(request, cfg.inbound_token):
        return problem(401, "not_authenticated", "unknown SMS gateway")
    fields = await _fields(request)
    if fields is None:
        return problem(422, "invalid_input", "from, text and message_id are required")
    msg = service.Inbound(
        phone=fields["phone"], text=fields["text"], message_id=fields["message_id"]
    )
    sm: sessionmaker[Session] = request.app.state.sessionmaker
    now = datetime.now(UTC)
    step = await to_thread.run_sync(service.admit, sm, msg, limits(cfg), now)
    if isinstance(step, service.Settled):
        if step.status == "mismatch":
            return problem(422, "idempotency_mismatch", "message id reused with other content")
        if step.status == "in_progress":
            return problem(409, "in_progress", "this message is still being handled")
        if step.status == "duplicate" and step.reply and not step.sent:
            await _send(request, msg, step.reply)
        return JSONResponse({"status": step.status, "reply": step.reply})
    try:
        reply = await _run(request, msg, step.command, cfg)
    except BaseException:
        await to_thread.run_sync(service.forget, sm, msg, step.scopes)
        raise
    await to_thread.run_sync(service.finish, sm, msg, step.scopes, reply, now)
    await _send(request, msg, reply)
    return JSONResponse({"status": "replied", "reply": reply})


async def _send(request: Request, msg: service.Inbound, reply: str) -> None:
    gateway: SmsGateway = request.app.state.sms_gateway
    out = OutboundSms(to=msg.phone, text=reply, reference=msg.message_id)
    try:
        await to_thread.run_sync(gateway.send, out)
    except SmsGatewayError:
        return  # stored unsent: the gateway's retry of this message sends it again
    await to_thread.run_sync(service.mark_sent, request.app.state.sessionmaker, msg)


def install(
    app: FastAPI, *, settings: SmsSettings | None = None, gateway: SmsGateway | None = None
) -> None:
    """Add the webhook to ``app`` (once) and set its settings and outbound gateway.

    Called again (tests, embedding), it replaces the settings and the gateway.
    """
    settings = settings or SmsSettings()
    if gateway is None:
        if settings.gateway_url:
            token = settings.gateway_token.get_secret_value() if settings.gateway_token else None
            gateway = HttpSmsGateway(httpx.Client(timeout=10.0), settings.gateway_url, token=token)
        else:
            gateway = MemorySmsGateway()
    app.state.sms_settings = settings
    app.state.sms_gateway = gateway
    if not getattr(app.state, "sms_installed", False):
        app.state.sms_installed = True
        app.include_router(router)
        app.include_router(log.router)  # the SMS log's API, beside the webhook
