"""Prometheus metrics of the vending server (``GET /metrics``, no authentication).

One ASGI middleware, the app's outermost layer, sees every answer of both
sale paths (the FastAPI route and the event-loop path of ``sales.fast_http``)
and of every other route, so no domain code counts anything:

* ``stsgas_sales_total{channel, outcome}`` — 201 answers to ``POST
  /api/v1/sales``, read from the receipt (``outcome``: ``issued``, or
  ``replayed`` for an idempotent replay, which issues nothing);
* ``stsgas_tokens_issued_total{token_class}`` — the tokens of issued sales by
  STS token class (0 credit, 2 key change);
* ``stsgas_refusals_total{code, status}`` — every problem+json answer by its
  ``code`` (a refusal, or 5xx when the server could not answer);
* ``stsgas_request_duration_seconds{method, route}`` — a latency histogram by
  route template (``/api/v1/sales/{sale_id}``, never the raw path);
* ``stsgas_db_pool_in_use{pool}`` — database connections checked out per
  worker process (``pool``: ``sqlalchemy``, or ``sales`` for the PostgreSQL
  event-loop pool), as of the worker's last answer.

With several workers (``stsgas serve --workers N``) each worker process keeps
its own values in files under ``PROMETHEUS_MULTIPROC_DIR`` and a scrape of
any worker answers the sum over all of them (the pool gauge per ``pid``).
"""

from __future__ import annotations

import atexit
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

import orjson
from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.routing import Mount

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SALES_PATH: Final = "/api/v1/sales"
#: answers larger than this are not read for counting (a receipt is a few KiB)
MAX_CAPTURE: Final = 256 * 1024
_PROBLEM: Final = b"application/problem+json"

SALES = Counter(
    "stsgas_sales",
    "Sales answered 201, by channel and outcome (issued, replayed)",
    ["channel", "outcome"],
)
TOKENS = Counter(
    "stsgas_tokens_issued", "Tokens issued with sales, by STS token class", ["token_class"]
)
REFUSALS = Counter(
    "stsgas_refusals", "problem+json answers, by problem code and HTTP status", ["code", "status"]
)
LATENCY = Histogram(
    "stsgas_request_duration_seconds",
    "Time to answer a request, by method and route template",
    ["method", "route"],
)
POOL = Gauge(
    "stsgas_db_pool_in_use",
    "Database connections checked out in this worker",
    ["pool"],
    multiprocess_mode="liveall",
)

router = APIRouter(tags=["operations"])


def multiprocess_dir() -> str | None:
    """The folder shared by the workers' metric files, when several workers run."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


if multiprocess_dir() is not None:  # pragma: no cover - exercised in a served subprocess
    atexit.register(multiprocess.mark_process_dead, os.getpid())


@router.get("/metrics", response_model=None, include_in_schema=False)
def metrics(request: Request) -> Response:
    """The Prometheus text exposition of every worker's metrics."""
    _pools(request.app.state)
    if multiprocess_dir() is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        payload = generate_latest(registry)
    else:
        payload = generate_latest(REGISTRY)
    return Response(payload, media_type=CONTENT_TYPE_LATEST)


def _pools(state: Any) -> None:
    """Set the pool gauges from this worker's pools."""
    engine = getattr(state, "engine", None)
    checkedout = getattr(getattr(engine, "pool", None), "checkedout", None)
    if callable(checkedout):
        POOL.labels("sqlalchemy").set(checkedout())
    sale_pool = getattr(state, "sale_pool", None)
    if sale_pool is not None:
        pool = sale_pool.pool
        POOL.labels("sales").set(pool.get_size() - pool.get_idle_size())


def route_template(scope: Scope) -> str:
    """The matched route's path template; a bounded label, never the raw path.

    The route may belong to an included router and know only its own part
    (``/sales/{sale_id}``); the router prefix in front of it is the same
    number of leading segments of the request's path (prefixes here hold no
    parameters).
    """
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(route, Mount) and isinstance(path, str):
        return path + "/{path}"
    if isinstance(path, str):
        own = [p for p in path.split("/") if p]
        if ":path}" in path:
            return path
        raw = [p for p in str(scope["path"]).split("/") if p]
        prefix = raw[: max(len(raw) - len(own), 0)]
        return "/" + "/".join([*prefix, *own]) + ("/" if path.endswith("/") and own else "")
    if scope["path"] == SALES_PATH and scope["method"] == "POST":
        return SALES_PATH  # answered by the event-loop sale path, before routing
    return "unmatched"


def count_answer(scope: Scope, status: int, replayed: bool, body: bytes | None) -> None:
    """Count one finished answer: a sale, or a problem, from its body."""
    if body is None:
        return
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return
    if not isinstance(doc, dict):
        return
    if status == 201:
        channel = str(doc.get("channel", "unknown"))
        SALES.labels(channel, "replayed" if replayed else "issued").inc()
        if not replayed:
            for token in doc.get("tokens") or []:
                TOKENS.labels(str(token.get("token_class"))).inc()
        return
    REFUSALS.labels(str(doc.get("code", "unknown")), str(status)).inc()


class Metrics:
    """Time every HTTP request and count sales and problems from the answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        is_sale = scope["path"] == SALES_PATH and scope["method"] == "POST"
        status = 500
        replayed = False
        captured: bytearray | None = None

        async def watching(message: Message) -> None:
            nonlocal status, replayed, captured
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = dict(message.get("headers", []))
                ctype = bytes(headers.get(b"content-type", b"")).split(b";", 1)[0].strip()
                replayed = headers.get(b"idempotent-replayed") == b"true"
                if ctype == _PROBLEM or (is_sale and status == 201):
                    captured = bytearray()
            elif message["type"] == "http.response.body" and captured is not None:
                if len(captured) + len(message.get("body", b"")) > MAX_CAPTURE:
                    captured = None
                else:
                    captured += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, watching)
        finally:
            LATENCY.labels(scope["method"], route_template(scope)).observe(
                time.perf_counter() - started
            )
            count_answer(scope, status, replayed, None if captured is None else bytes(captured))
            _pools(scope["app"].state)
