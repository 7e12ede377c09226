"""``POST /api/v1/ussd/callback``: the USSD gateway's session callback, and the channel's wiring.

The gateway posts a form on every step of a session: ``sessionId``,
``serviceCode``, ``phoneNumber`` and ``text`` (the inputs so far joined by
``*``), with the shared secret in ``X-Gateway-Token``. The answer is
``text/plain``: ``CON <screen>`` keeps the session open, ``END <screen>``
closes it. A purchase sells through :func:`stsgas.vending.sms.purchase.buy`
on channel ``ussd`` under ``Idempotency-Key: ussd-<sessionId>``, so a gateway
repeating the confirm step sells once and answers the same receipt (a session
whose sale was recorded on ``sms``, before migration 0017, answers that sale).

``GET /api/v1/ussd/sessions`` (``audit.read``) lists recent sessions, phone
numbers masked, for the console's SMS log.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from stsgas.vending.customers.service import mask_phone
from stsgas.vending.deps import SessionDep
from stsgas.vending.models import Channel, Operator
from stsgas.vending.operators.auth import require
from stsgas.vending.operators.permissions import Permission
from stsgas.vending.settings import Settings
from stsgas.vending.sms import purchase
from stsgas.vending.sms.callback import gateway_known, limits, problem
from stsgas.vending.sms.settings import SmsSettings
from stsgas.vending.ussd import menu, screens, service
from stsgas.vending.ussd.settings import UssdSettings

__all__ = ["install", "router"]

log = logging.getLogger("stsgas.vending.ussd")
router = APIRouter(prefix="/api/v1/ussd", tags=["ussd"])
Reader = Annotated[Operator, Depends(require(Permission.AUDIT_READ))]
_MAX_ID = 64
_NOT_REGISTERED = menu.Screen("This phone is not registered for gas prepaid.", end=True)
_BUSY = menu.Screen("Too many requests from this phone. Please try again later.", end=True)


async def _act(
    request: Request,
    step: menu.Step,
    caller: service.Caller,
    session_id: str,
    phone: str,
    now: datetime,
) -> tuple[menu.Screen, str]:
    """The closing screen of an action, and the status the session log keeps."""
    sm: sessionmaker[Session] = request.app.state.sessionmaker
    if isinstance(step, menu.Screen):
        return step, "ended" if step.end else "open"
    if isinstance(step, menu.ShowBalance):
        decimals = request.app.state.settings.currency_decimals
        wallet = await to_thread.run_sync(service.wallet_balance, sm, caller.customer_ids, decimals)
        last = await to_thread.run_sync(service.last_sale, sm, caller.meters)
        return screens.balance_screen(wallet, last), "balance"
    if isinstance(step, menu.ShowTokens):
        found = await to_thread.run_sync(service.last_tokens, sm, step.meter)
        return screens.tokens_screen(step.meter, found), "tokens"
    sms_cfg: SmsSettings = request.app.state.sms_settings
    owner = await to_thread.run_sync(service.owner_of, sm, step.meter)
    admitted = await to_thread.run_sync(
        lambda: service.admit_purchase(
            sm,
            session_id=session_id,
            meter=step.meter,
            customer_id=owner,
            limits=limits(sms_cfg),
            now=now,
        )
    )
    if not admitted:
        return screens.refused_screen("too many purchases for this meter, try later"), "refused"
    key = f"ussd-{session_id}"
    earlier = await to_thread.run_sync(
        lambda: service.sold_as_sms(sm, operator=sms_cfg.operator, key=key)
    )
    done = (
        purchase.Bought(receipt=earlier)
        if earlier is not None
        else await purchase.buy(
            request.app,
            sm,
            operator=sms_cfg.operator,
            meter=step.meter,
            amount=step.amount,
            key=key,
            channel=Channel.USSD.value,
        )
    )
    if isinstance(done, purchase.Refused):
        if done.code == "in_progress":
            return screens.busy_screen(), "in_progress"
        return screens.refused_screen(done.reason), "refused"
    log.info(
        "USSD purchase",
        extra={"phone": mask_phone(phone), "sale_id": done.receipt.sale_id},
    )
    return screens.bought_screen(step.meter, done.receipt), "bought"


@router.post("/callback")
async def callback(request: Request) -> Response:
    """One step of a USSD session: the next screen, ``CON`` or ``END``."""
    cfg: UssdSettings = request.app.state.ussd_settings
    if not gateway_known(request, cfg.inbound_token):
        return problem(401, "not_authenticated", "unknown USSD gateway")
    form = await request.form()
    session_id = str(form.get("sessionId") or "")
    phone = str(form.get("phoneNumber") or "")
    text = str(form.get("text") or "")
    if not session_id or not phone or len(session_id) > _MAX_ID or len(phone) > 32:
        return problem(422, "invalid_input", "sessionId and phoneNumber are required")
    sm: sessionmaker[Session] = request.app.state.sessionmaker
    now = datetime.now(UTC)
    sms_cfg: SmsSettings = request.app.state.sms_settings
    admitted = await to_thread.run_sync(
        lambda: service.admit_session(
            sm, phone=phone, session_id=session_id, limits=limits(sms_cfg), now=now
        )
    )
    if not admitted:
        return PlainTextResponse(_BUSY.render())
    caller = await to_thread.run_sync(service.caller, sm, phone)
    if caller is None:
        screen, status = _NOT_REGISTERED, "not_registered"
    else:
        settings: Settings = request.app.state.settings
        ctx = menu.Context(meters=caller.meters, decimals=settings.currency_decimals)
        screen, status = await _act(request, menu.step(text, ctx), caller, session_id, phone, now)
    steps = len(text.split("*")) if text else 0
    await to_thread.run_sync(
        lambda: service.note(
            sm,
            phone=phone,
            session_id=session_id,
            status=status,
            reply=screen.text,
            steps=steps,
            now=now,
        )
    )
    return PlainTextResponse(screen.render())


class UssdSessionOut(BaseModel):
    """One USSD session and its latest screen."""

    id: int
    at: datetime
    phone: str  #: masked: only the last three digits
    session_id: str
    status: str  #: open, ended, balance, tokens, bought, refused, in_progress, rate_limited…
    steps: int
    screen: str | None


@router.get("/sessions", response_model=list[UssdSessionOut])
def sessions(
    session: SessionDep,
    _reader: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[UssdSessionOut]:
    """Newest first."""
    out = []
    for rec in service.recent_sessions(session, limit=limit):
        body = rec.response_body or {}
        out.append(
            UssdSessionOut(
                id=rec.id,
                at=rec.created_at,
                phone=mask_phone(rec.scope.removeprefix("ussd:")),
                session_id=rec.key,
                status=str(body.get("status") or "open"),
                steps=int(body.get("steps") or 0),
                screen=body.get("reply"),
            )
        )
    return out


def install(app: FastAPI, *, settings: UssdSettings | None = None) -> None:
    """Add the callback to ``app`` (once) and set its settings (again: replace them)."""
    app.state.ussd_settings = settings or UssdSettings()
    if not getattr(app.state, "ussd_installed", False):
        app.state.ussd_installed = True
        app.include_router(router)
