"""What every gateway callback of the customer channels shares (SMS, USSD).

A gateway proves itself with a shared secret in ``X-Gateway-Token``, is
answered problem+json when refused, and every channel counts its requests
against the same per-phone, per-meter and per-customer limits.
"""

from __future__ import annotations

import hmac

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr

from stsgas.vending.logs import current_request_id
from stsgas.vending.sms.ratelimit import RateLimit
from stsgas.vending.sms.service import Limits, window
from stsgas.vending.sms.settings import SmsSettings

__all__ = ["gateway_known", "limits", "problem"]


def problem(status: int, code: str, detail: str) -> JSONResponse:
    """A problem+json answer to a gateway (``about:blank``: gateways read the code)."""
    return JSONResponse(
        {
            "type": "about:blank",
            "status": status,
            "code": code,
            "title": detail,
            "detail": detail,
            "request_id": current_request_id(),
        },
        status_code=status,
        media_type="application/problem+json",
    )


def gateway_known(request: Request, secret: SecretStr | None) -> bool:
    """True when the request carries the gateway's shared secret (none set: nobody is
    known), compared in constant time."""
    expected = secret.get_secret_value() if secret else ""
    if not expected:
        return False
    sent = request.headers.get("x-gateway-token", "")
    return hmac.compare_digest(expected.encode(), sent.encode())


def limits(cfg: SmsSettings) -> Limits:
    """The channel's rate limits, each over the same window."""
    span = window(cfg.window_minutes)
    return Limits(
        per_phone=RateLimit(limit=cfg.per_phone_limit, window=span),
        per_meter=RateLimit(limit=cfg.per_meter_limit, window=span),
        per_customer=RateLimit(limit=cfg.per_customer_limit, window=span),
    )
