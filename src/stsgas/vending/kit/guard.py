"""The request guard: the app's one ASGI wrapper, outermost, around both sale paths.

Every HTTP request gets:

* a request id (the client's ``X-Request-ID`` when it is a short token, else a
  new one), sent back in the ``X-Request-ID`` header of every answer;
* a body limit (``STSGAS_MAX_BODY_BYTES``): a declared ``Content-Length`` over
  it is answered 413 before the body is read, and a streamed body is cut off
  with 413 as soon as it passes the limit, so no request is read whole into
  memory past it;
* the currency's decimals for the request schemas' money fields (``kit.money``);
* a last answer for what nothing else handled: a lost or unreachable database
  is 503 ``database_unavailable`` (with ``Retry-After``), any other error a
  500 ``internal_error``; both problem+json carrying the request id, and the
  error is logged with it. Never a ``text/plain`` page;
* timing and a look at its answer for the observers in ``app.state.answer_observers``
  (``ops.metrics`` is one): status, replay header, a problem's body, the sale it
  issued (``kit.answer``). No other middleware wraps the app for this.
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
import re
import sqlite3
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

import asyncpg
import psycopg
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from stsgas.vending import logs
from stsgas.vending.errors import DatabaseUnavailable
from stsgas.vending.kit import problems
from stsgas.vending.kit.answer import Answer, Notes, Observer, current_notes
from stsgas.vending.kit.localtime import vending_zone, zone
from stsgas.vending.kit.money import currency_decimals

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("stsgas.vending.requests")

HEADER: Final = b"x-request-id"
_CLIENT_ID: Final = re.compile(rb"[A-Za-z0-9._:-]{1,64}")
#: socket errors that mean "the database server cannot be reached"
_NET_ERRNOS: Final = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ETIMEDOUT,
        errno.EPIPE,
    }
)
RETRY_AFTER_SECONDS: Final = 1
#: answer bodies kept for the observers at most (a problem is well under a KiB)
MAX_KEPT: Final = 64 * 1024
_PROBLEM: Final = b"application/problem+json"


class BodyTooLarge(HTTPException):
    """The request body passed the configured limit (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` says the database is gone or unreachable, not that a query is wrong."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig if exc.orig is not None else exc
    if isinstance(exc, DisconnectionError | PoolTimeout):
        return True
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return True  # no connection, a terminated session, a timeout: all transient
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc)
        return any(s in text for s in ("unable to open", "locked", "disk I/O", "readonly"))
    if isinstance(exc, asyncpg.PostgresConnectionError | asyncpg.InterfaceError):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        return (getattr(exc, "sqlstate", None) or "").startswith(("57P", "08"))
    return isinstance(exc, OSError) and exc.errno in _NET_ERRNOS


class _Ids:
    """Request ids made here: a random prefix per process and a counter, unique across
    workers and restarts without a random read per request (``uuid4`` is a system call)."""

    def __init__(self) -> None:
        self.renew()
        os.register_at_fork(after_in_child=self.renew)  # a forked worker: its own prefix

    def renew(self) -> None:
        self.prefix = os.urandom(12).hex()  # with the counter: 32 hex digits, as uuid4().hex
        self.counter = itertools.count(1)

    def next(self) -> bytes:
        return f"{self.prefix}{next(self.counter):08x}".encode()


_IDS: Final = _Ids()


def _request_id(scope: Scope) -> bytes:
    for name, value in scope["headers"]:
        if name == HEADER and _CLIENT_ID.fullmatch(value):
            return bytes(value)
    return _IDS.next()


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            return int(value)
    return None


class _Watch:
    """What the guard saw of an answer on its way out."""

    __slots__ = ("body", "replayed", "started", "status")

    def __init__(self) -> None:
        self.started = False
        self.status = 500
        self.replayed = False
        self.body: bytearray | None = None

    def start(self, headers: list[tuple[bytes, bytes]], status: int) -> None:
        self.started = True
        self.status = status
        for name, value in headers:
            if name == b"idempotent-replayed":
                self.replayed = value == b"true"
            elif name == b"content-type" and value.split(b";", 1)[0].strip() == _PROBLEM:
                self.body = bytearray()
        if self.replayed and self.body is None:
            self.body = bytearray()

    def chunk(self, data: bytes) -> None:
        if self.body is None:
            return
        if len(self.body) + len(data) > MAX_KEPT:
            self.body = None  # too large to be a problem; the observers go without it
        else:
            self.body += data


def observers_of(scope: Scope) -> list[Observer]:
    """The app's answer observers (``app.state.answer_observers``; none by default)."""
    found: list[Observer] = getattr(scope["app"].state, "answer_observers", [])
    return found


class RequestGuard:
    """Request id, body limit, money decimals, the last-resort answer and the answer's
    observers; see the module."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        notes = Notes()
        noted = current_notes.set(notes)
        watch = _Watch()
        try:
            await self._guard(scope, receive, send, watch)
        finally:
            current_notes.reset(noted)
            answer = Answer(
                status=watch.status,
                seconds=time.perf_counter() - began,
                replayed=watch.replayed,
                body=None if watch.body is None else bytes(watch.body),
                sale=notes.sale,
            )
            for observe in observers_of(scope):
                observe(scope, answer)

    async def _guard(self, scope: Scope, receive: Receive, send: Send, watch: _Watch) -> None:
        settings = scope["app"].state.settings
        rid = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = rid.decode()
        logs.bind_request_id(rid.decode())  # every log line and problem+json carries it
        limit: int = settings.max_body_bytes
        if scope["path"].endswith(("/readouts", "/readout")):  # a meter readout file
            limit = settings.max_readout_bytes

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != HEADER]
                watch.start(headers, int(message["status"]))
                message = {**message, "headers": [*headers, (HEADER, rid)]}
            elif message["type"] == "http.response.body":
                watch.chunk(message.get("body", b""))
            await send(message)

        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await self._answer(BodyTooLarge(limit), scope, receive, send_with_id, rid)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        token = currency_decimals.set(settings.currency_decimals)
        zone_token = vending_zone.set(zone(settings.timezone))  # ZoneInfo caches by name
        try:
            await self.app(scope, limited, send_with_id)
        except Exception as exc:  # the last resort: nothing inside answered it
            if watch.started:
                log.exception("error after the response started [request %s]", rid.decode())
                return
            await self._answer(exc, scope, receive, send_with_id, rid)
        finally:
            vending_zone.reset(zone_token)
            currency_decimals.reset(token)

    async def _answer(
        self, exc: Exception, scope: Scope, receive: Receive, send: Send, rid: bytes
    ) -> None:
        request_id = rid.decode()
        if isinstance(exc, BodyTooLarge):
            response = problems.problem(
                413,
                "body_too_large",
                "Request body too large",
                str(exc.detail),
                request_id=request_id,
            )
            response.headers["Connection"] = "close"  # the rest of the body is not read
        elif database_unavailable(exc):
            log.warning("database unavailable [request %s]: %s", request_id, exc)
            response = problems.error_response(
                DatabaseUnavailable(
                    "the database cannot be reached just now; retry the request (a sale: "
                    "with the same Idempotency-Key)",
                    retry_after=RETRY_AFTER_SECONDS,
                    request_id=request_id,
                )
            )
        else:
            log.error("unhandled error [request %s]", request_id, exc_info=exc)
            response = problems.problem(
                500,
                "internal_error",
                "Internal error",
                "an unexpected error; quote the request id when you report it",
                request_id=request_id,
            )
        await response(scope, receive, send)
