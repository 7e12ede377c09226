"""``/api/v1/payments``: the mobile-money webhook, the payments list, reconciliation.

``POST /api/v1/payments/mpesa/confirmation`` is the provider's C2B
confirmation callback. It is authenticated (the shared secret in the
``token`` query parameter of the registered URL, or an ``X-Callback-Token``
header; the caller's address against ``STSGAS_MPESA_ALLOWED_IPS`` when set),
then verified with the provider before any money moves. Answers: 200 with the
provider's acknowledgement (accepted, or rejected when the provider does not
confirm the payment), 401 unauthenticated, 422 not a payment report, 503 when
the provider cannot be asked (the provider's retry tries again). Every refusal
is logged.
"""

from __future__ import annotations

import hmac
import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

from stsgas.vending import transaction
from stsgas.vending.deps import SessionDep
from stsgas.vending.kit import problems
from stsgas.vending.kit.answer import serve_before_routing
from stsgas.vending.models import Operator
from stsgas.vending.operators.auth import require
from stsgas.vending.operators.permissions import Permission
from stsgas.vending.payments import fast, reconcile, refunds_api, service
from stsgas.vending.payments.mpesa import MpesaC2B
from stsgas.vending.payments.provider import (
    BadCallback,
    PaymentProvider,
    ProviderUnavailable,
    Reported,
    Verified,
)
from stsgas.vending.payments.settings import MpesaSettings
from stsgas.vending.sales.fast import SalePool
from stsgas.vending.sales.settle import SaleLimits
from stsgas.vending.sms.callback import problem
from stsgas.vending.sms.gateway import (
    OutboundSms,
    SmsGateway,
    SmsGatewayError,
)
from stsgas.vending.sms.service import Inbound, mark_sent

__all__ = ["install", "router"]

log = logging.getLogger("stsgas.payments")
router = APIRouter(prefix="/api/v1/payments", tags=["payments"])
Reader = Annotated[Operator, Depends(require(Permission.REPORTS_READ))]


def _authentic(request: Request, cfg: MpesaSettings) -> str | None:
    """Why the caller is not the provider, or None."""
    secret = cfg.callback_token.get_secret_value() if cfg.callback_token else None
    sent = request.query_params.get("token") or request.headers.get("x-callback-token", "")
    if not secret or not hmac.compare_digest(secret.encode(), sent.encode()):
        return "wrong or missing callback token"
    allowed = cfg.allowed()
    host = request.client.host if request.client else ""
    if allowed and host not in allowed:
        return f"caller {host} is not on the allow-list"
    return None


def _refused(request: Request, cfg: MpesaSettings, logged: str) -> Response | None:
    """The 401 for a caller that is not the provider (its reason logged with the
    ``logged`` format), or None to go on."""
    why = _authentic(request, cfg)
    if why is None:
        return None
    log.warning(logged, why)
    return problem(401, "not_authenticated", "unknown payment provider")


@router.post("/mpesa/validation", include_in_schema=False)
async def validation(request: Request) -> Response:
    """The provider's optional validation call: accept (the confirmation decides)."""
    cfg: MpesaSettings = request.app.state.mpesa_settings
    refused = _refused(request, cfg, "payment validation refused: %s")
    if refused is not None:
        return refused
    provider: PaymentProvider = request.app.state.payment_provider
    return JSONResponse(provider.acknowledge(True))


@router.post("/mpesa/confirmation", include_in_schema=False)
async def confirmation(request: Request) -> Response:
    """One payment reported by the provider: authenticate, verify, apply once."""
    cfg: MpesaSettings = request.app.state.mpesa_settings
    refused = _refused(request, cfg, "payment callback refused: %s; nothing moved")
    if refused is not None:
        return refused
    provider: PaymentProvider | None = request.app.state.payment_provider
    if provider is None:
        return problem(503, "retry_later", "mobile money is not set up")
    try:
        body: Any = await request.json()
        if not isinstance(body, dict):
            raise BadCallback("the body is not a JSON object")
        reported = provider.parse_callback(body)
    except (ValueError, BadCallback) as exc:
        log.warning("payment callback unreadable: %s; nothing moved", exc)
        return problem(422, "invalid_input", f"not a payment report: {exc}")
    try:
        outcome = await _handle(request.app, provider, reported, cfg)
    except ProviderUnavailable as exc:
        log.warning("payment %s not verified yet: %s", reported.txn_id, exc)
        return problem(503, "retry_later", "the provider cannot be asked now; retry")
    if outcome.sms is not None:
        await _send(request.app, outcome.sms)
    accepted = outcome.state != "rejected"
    return JSONResponse(provider.acknowledge(accepted))


async def _handle(
    app: FastAPI, provider: PaymentProvider, reported: Reported, cfg: MpesaSettings
) -> service.Outcome:
    """Ask the provider, then store and apply the payment: on PostgreSQL's sale pool the
    common case is one transaction on the event loop (:mod:`.fast`); anything else, and
    SQLite, runs the service in a thread. A payment the provider cannot be asked about
    is stored (for reconciliation) before the 503 that makes the provider retry."""
    now = datetime.now(UTC)
    try:
        verified = await provider.verify(reported.txn_id)
    except ProviderUnavailable:
        await to_thread.run_sync(_record, app, provider.name, reported, now)
        raise
    pool: SalePool | None = getattr(app.state, "sale_pool", None)
    if pool is not None and app.state.security_module is not None:
        outcome = await fast.apply(
            pool,
            reported,
            verified,
            provider=provider.name,
            operator_name=cfg.operator,
            security=app.state.security_module,
            limits=SaleLimits.configured(app.state.settings),
            now=now,
            decimals=app.state.settings.currency_decimals,
        )
        if outcome is not fast.DEFER:
            return outcome
    payment = await to_thread.run_sync(_record, app, provider.name, reported, now)
    return await to_thread.run_sync(_apply, app, payment, verified, cfg, now)


def _record(app: FastAPI, provider: str, reported: Reported, now: datetime) -> int:
    return transaction.run_in(
        app.state.sessionmaker,
        lambda s: service.record(s, provider, reported, now).id,
        idempotent=True,
    )


def _apply(
    app: FastAPI, payment: int, verified: Verified | None, cfg: MpesaSettings, now: datetime
) -> service.Outcome:
    return transaction.run_in(
        app.state.sessionmaker,
        lambda s: service.apply(
            s,
            payment,
            verified,
            operator_name=cfg.operator,
            security=app.state.security_module,
            now=now,
            decimals=app.state.settings.currency_decimals,
        ),
        idempotent=True,
    )


async def _send(app: FastAPI, sms: OutboundSms) -> None:
    gateway: SmsGateway | None = getattr(app.state, "sms_gateway", None)
    if gateway is None:
        return
    try:
        if not gateway.blocks:  # a thread's hand-off would cost more than the send
            gateway.send(sms)
        else:
            await to_thread.run_sync(gateway.send, sms)
    except SmsGatewayError:
        return  # stored unsent: the jobs package's resend job sends it
    pool: SalePool | None = getattr(app.state, "sale_pool", None)
    if pool is not None:
        marks: fast.SentMarks | None = getattr(app.state, "sent_marks", None)
        if marks is None or marks.pool is not pool:
            marks = app.state.sent_marks = fast.SentMarks(pool)
        marks.add(sms)
        return
    msg = Inbound(phone=sms.to, text="", message_id=sms.reference)
    await to_thread.run_sync(mark_sent, app.state.sessionmaker, msg)


@router.get("/reconciliation", response_model=None)
def reconciliation(
    session: SessionDep, _reader: Reader, limit: Annotated[int, Query(ge=1, le=5000)] = 500
) -> dict[str, Any]:
    """Payments that are neither a sale nor a top-up; mobile-money sales without a payment;
    refunds owed to payers (cancelled mobile-money sales no wallet took back)."""
    found = reconcile.orphans(session, limit=limit)
    return {
        "payments_without_sale": [
            {
                "id": p.id,
                "provider": p.provider,
                "txn_id": p.txn_id,
                "amount": p.amount,
                "reference": p.reference,
                "state": p.state,
                "detail": p.detail,
                "received_at": p.received_at.isoformat(),
                "verified_at": None if p.verified_at is None else p.verified_at.isoformat(),
            }
            for p in found.payments
        ],
        "sales_without_payment": [
            {
                "id": s.id,
                "meter_id": s.meter_id,
                "amount_paid": s.amount_paid,
                "created_at": s.created_at.isoformat(),
            }
            for s in found.sales
        ],
        "refunds_owed": [refunds_api.refund_json(r) for r in found.refunds_owed],
    }


class Callbacks:
    """ASGI middleware: the provider's two callbacks answered before FastAPI's router.

    The router finds a route by trying the app's several hundred routes in turn;
    for a callback that search cost about as much CPU as applying the payment
    (``docs/benchmarks.md``). The handlers are the routes' own, so the answer is
    the same either way.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.paths = {
            router.prefix + "/mpesa/confirmation": confirmation,
            router.prefix + "/mpesa/validation": validation,
        }

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            handler = self.paths.get(scope["path"])
            if handler is not None and getattr(scope["app"].state, "payments_installed", False):
                serve_before_routing(scope, scope["path"])  # a fixed path: a bounded label
                try:
                    response = await handler(Request(scope, receive))
                except problems.REFUSALS as exc:  # as the router's handlers answer them
                    response = problems.refused(exc)  # (a busy database: 503, retried)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def provider_from(settings: MpesaSettings, decimals: int) -> PaymentProvider | None:
    """The configured M-Pesa provider, or None without an API URL."""
    if not settings.api_url:
        return None
    secret = settings.consumer_secret.get_secret_value() if settings.consumer_secret else ""
    return MpesaC2B(
        settings.api_url,
        consumer_key=settings.consumer_key,
        consumer_secret=secret,
        shortcode=settings.shortcode,
        decimals=decimals,
    )


def install(
    app: FastAPI,
    *,
    settings: MpesaSettings | None = None,
    provider: PaymentProvider | None = None,
) -> None:
    """Add the payment routes to ``app`` (once) and set the provider and its settings.

    Called again (tests, embedding), it replaces the settings and the provider (the
    one replaced keeps its connections until the lifespan ends: :func:`close`).
    """
    settings = settings or MpesaSettings()
    if provider is None:
        provider = provider_from(settings, app.state.settings.currency_decimals)
    app.state.mpesa_settings = settings
    app.state.payment_provider = provider
    if provider is not None:  # each one installed is closed when the server stops
        app.state.payment_providers = [*getattr(app.state, "payment_providers", []), provider]
    if not getattr(app.state, "payments_installed", False):
        app.state.payments_installed = True
        app.include_router(router)
        app.include_router(refunds_api.router)


async def close(app: FastAPI) -> None:
    """Write the pending sent marks and close the connections of every provider
    installed on ``app`` (the lifespan ends, before the sale pool closes)."""
    marks: fast.SentMarks | None = getattr(app.state, "sent_marks", None)
    if marks is not None:
        app.state.sent_marks = None
        await marks.close()
    for provider in getattr(app.state, "payment_providers", []):
        await provider.aclose()
