"""``/metrics``: a sale, a replay and refusals move their counters; latency is recorded by
route template; the pool gauge is there. On PostgreSQL the plain sale takes the event-loop
path (``sales.fast_http``), so both sale paths are counted."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from stsgas.vending.kit.answer import Answer, SaleFacts
from stsgas.vending.kit.guard import RequestGuard
from stsgas.vending.ops import metrics
from tests.vending.sales.conftest import Shop
from tests.vending.sales.test_service import sell


def _scrape(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    r = client.get("/metrics")  # no bearer token: a Prometheus scrape
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def _value(
    scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


def test_sales_tokens_refusals_and_latency_are_counted(client: TestClient, shop: Shop) -> None:
    """One issued sale, one replay, two refusals: each counter moves by exactly that."""
    before = _scrape(client)
    issued = sell(client, shop.cashier_token, shop.volume_pan, "25.00", key="m-1")
    assert issued.status_code == 201, issued.text
    replay = sell(client, shop.cashier_token, shop.volume_pan, "25.00", key="m-1")
    assert replay.headers.get("idempotent-replayed") == "true"
    blocked = sell(client, shop.cashier_token, shop.blocked_pan, "10")
    assert (blocked.status_code, blocked.json()["code"]) == (409, "meter_not_active")
    bad = sell(client, shop.cashier_token, shop.volume_pan, "-3")
    assert (bad.status_code, bad.json()["code"]) == (422, "bad_amount")
    sale_id = issued.json()["sale_id"]
    got = client.get(
        f"/api/v1/sales/{sale_id}", headers={"Authorization": f"Bearer {shop.cashier_token}"}
    )
    assert got.status_code == 200
    unknown = client.get("/api/v1/no-such-thing-12345")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    after = _scrape(client)

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert moved("stsgas_sales_total", channel="pos", outcome="issued") == 1
    assert moved("stsgas_sales_total", channel="pos", outcome="replayed") == 1
    assert moved("stsgas_tokens_issued_total", token_class="0") == 1
    assert moved("stsgas_refusals_total", code="meter_not_active", status="409") == 1
    assert moved("stsgas_refusals_total", code="bad_amount", status="422") == 1
    assert moved("stsgas_request_duration_seconds_count", method="POST", route="/api/v1/sales") == 4
    assert (
        moved(
            "stsgas_request_duration_seconds_count", method="GET", route="/api/v1/sales/{sale_id}"
        )
        == 1
    )
    assert moved("stsgas_refusals_total", code="not_found", status="404") == 1
    assert moved("stsgas_request_duration_seconds_count", method="GET", route="unmatched") == 1
    assert not any("12345" in dict(labels).get("route", "") for _n, labels in after)
    assert ("stsgas_db_pool_in_use", frozenset({("pool", "sqlalchemy")})) in after


def test_the_request_guard_is_the_one_wrapper_and_metrics_observe_it(app: FastAPI) -> None:
    """No second ASGI wrapper for metrics: the guard is outermost and /metrics is one
    of its observers."""
    classes: list[object] = [m.cls for m in app.user_middleware]
    assert classes[0] is RequestGuard
    assert not any(getattr(c, "__module__", "").startswith("stsgas.vending.ops") for c in classes)
    assert app.state.answer_observers == [metrics.observe]


def test_an_issued_sale_is_counted_from_its_note_without_a_body() -> None:
    """A key-change sale counts its channel and every token class from what the sale
    noted while it was built; the receipt body is not needed (nor read)."""
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": metrics.SALES_PATH,
        "app": SimpleNamespace(state=SimpleNamespace()),
    }
    sold = SaleFacts("sms", (2, 2, 0))

    def count(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = (
        count("stsgas_sales_total", channel="sms", outcome="issued"),
        count("stsgas_tokens_issued_total", token_class="2"),
        count("stsgas_tokens_issued_total", token_class="0"),
    )
    metrics.observe(scope, Answer(status=201, seconds=0.0, replayed=False, body=None, sale=sold))
    after = (
        count("stsgas_sales_total", channel="sms", outcome="issued"),
        count("stsgas_tokens_issued_total", token_class="2"),
        count("stsgas_tokens_issued_total", token_class="0"),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 2, 1]
