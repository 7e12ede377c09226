"""The console's session: the operator's bearer token in an HttpOnly cookie.

The cookie holds the token the API's password login issued, so a session
ends when the token expires or is revoked, and lockout after failed logins
is the API's own. The cookie is ``HttpOnly`` (no script reads it),
``SameSite=Strict`` (no other site can make the browser send it) and
``Secure`` behind HTTPS. Every state-changing form or POS call also carries a
CSRF value derived from the token (``X-CSRF-Token`` header or ``csrf``
field), checked in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from stsgas.vending.apiclient import ApiProblem, VendingApi

__all__ = ["COOKIE", "Me", "check_csrf", "clear_session", "csrf_for", "load_me", "set_session"]

COOKIE = "stsgas_console"


@dataclass(frozen=True, slots=True, kw_only=True)
class Me:
    """The signed-in operator, as the API describes it."""

    token: str
    id: int
    username: str
    role: str
    vendor_id: int | None


def csrf_for(token: str) -> str:
    """The CSRF value bound to one session token."""
    return hmac.new(token.encode(), b"stsgas-console-csrf", hashlib.sha256).hexdigest()[:32]


def check_csrf(token: str, sent: str | None) -> bool:
    """True when ``sent`` is this session's CSRF value."""
    return sent is not None and hmac.compare_digest(csrf_for(token), sent)


def set_session(
    request: Request, response: Response, token: str, expires_at: datetime | None
) -> None:
    """Put the token in the session cookie."""
    max_age = None
    if expires_at is not None:
        max_age = max(0, int((expires_at - datetime.now(expires_at.tzinfo)).total_seconds()))
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def clear_session(response: Response) -> None:
    """Forget the session cookie."""
    response.delete_cookie(COOKIE, path="/")


def me_from(token: str, body: dict[str, Any]) -> Me:
    """Build :class:`Me` from an operator body of the API."""
    return Me(
        token=token,
        id=int(body["id"]),
        username=str(body["username"]),
        role=str(body["role"]),
        vendor_id=body.get("vendor_id"),
    )


async def load_me(request: Request) -> Me | None:
    """The operator behind the session cookie, or None (no cookie, expired, revoked)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        body = await VendingApi(request.app, token).get("/api/v1/auth/me")
    except ApiProblem:
        return None
    return me_from(token, body)
