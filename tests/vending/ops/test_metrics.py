"""``/metrics``: a sale, a replay and refusals move their counters; latency is recorded by
route template; the pool gauge is there. On PostgreSQL the plain sale takes the event-loop
path (``sales.fast_http``), so both sale paths are counted."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

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
