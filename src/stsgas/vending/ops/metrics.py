"""Prometheus metrics of the vending server (``GET /metrics``, no authentication).

:func:`observe` is an observer of the request guard (``kit.guard``, the app's
one ASGI wrapper), which sees every answer of both sale paths (the FastAPI
route and the event-loop path of ``sales.fast_http``) and of every other
route; :func:`install` registers it. No middleware of its own, and no sale's
receipt is parsed to count it: the sale notes its channel and token classes
while it is built (``kit.answer``).

* ``stsgas_sales_total{channel, outcome}`` — 201 answers to ``POST
  /api/v1/sales`` (``outcome``: ``issued``, or ``replayed`` for an idempotent
  replay, which issues nothing; its channel is read from the replayed body);
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
from collections.abc import MutableMapping
from typing import Any, Final

import orjson
from fastapi import APIRouter, FastAPI, Request, Response
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

from stsgas.vending.kit.answer import ROUTE, Answer

Scope = MutableMapping[str, Any]

SALES_PATH: Final = "/api/v1/sales"

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
    early = scope.get(ROUTE)  # answered by a middleware before routing (a sale, a callback)
    return early if isinstance(early, str) else "unmatched"


def _doc(body: bytes | None) -> dict[str, Any]:
    if body is None:
        return {}
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return doc if isinstance(doc, dict) else {}


def count_answer(scope: Scope, answer: Answer) -> None:
    """Count one finished answer: a sale from what it noted, a replay or a problem
    from its (small) body."""
    if answer.status == 201 and scope["path"] == SALES_PATH and scope["method"] == "POST":
        if answer.replayed:
            channel = str(_doc(answer.body).get("channel", "unknown"))
            SALES.labels(channel, "replayed").inc()
        elif answer.sale is not None:
            SALES.labels(answer.sale.channel, "issued").inc()
            for token_class in answer.sale.token_classes:
                TOKENS.labels(str(token_class)).inc()
        return
    if answer.body is not None and answer.status >= 400:
        REFUSALS.labels(str(_doc(answer.body).get("code", "unknown")), str(answer.status)).inc()


#: the pool gauges are set at most this often by answers (and on every scrape of this
#: worker): a gauge a scrape reads every few seconds needs no update per request
POOL_EVERY: Final = 0.25
_pools_due = 0.0


def observe(scope: Scope, answer: Answer) -> None:
    """The guard's observer: latency by route template, the counters, the pool gauges."""
    global _pools_due
    LATENCY.labels(scope["method"], route_template(scope)).observe(answer.seconds)
    count_answer(scope, answer)
    now = time.monotonic()
    if now >= _pools_due:
        _pools_due = now + POOL_EVERY
        _pools(scope["app"].state)


def install(app: FastAPI) -> None:
    """Register :func:`observe` with the request guard (once)."""
    observers = getattr(app.state, "answer_observers", [])
    if observe not in observers:
        app.state.answer_observers = [*observers, observe]
