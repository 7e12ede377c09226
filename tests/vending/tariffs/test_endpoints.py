"""Tariffs over HTTP: versions with effective dates, step rules, roles."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.vending.conftest import auth


def _version(**over: Any) -> dict[str, Any]:
    v: dict[str, Any] = {
        "effective_from": "2026-01-01T00:00:00Z",
        "fixed_charge": "2.00",
        "tax_rate_bp": 1800,
        "debt_recovery_bp": 2500,
        "steps": [
            {"up_to_litres": 10000, "price_per_m3": "1.50"},
            {"up_to_litres": None, "price_per_m3": "2.50"},
        ],
    }
    v.update(over)
    return v


def test_versions_apply_from_their_effective_dates(client: TestClient, admin_token: str) -> None:
    """The version in force is the latest one whose effective date has come."""
    h = auth(admin_token)
    t = client.post(
        "/api/v1/tariffs", json={"name": "Home", "mode": "volume", "version": _version()}, headers=h
    )
    assert t.status_code == 201, t.text
    tid = t.json()["id"]
    r = client.post(
        f"/api/v1/tariffs/{tid}/versions",
        json=_version(effective_from="2026-07-01T00:00:00Z", fixed_charge=3),
        headers=h,
    )
    assert [v["version"] for v in r.json()["versions"]] == [1, 2]
    june = client.get(
        f"/api/v1/tariffs/{tid}/in-force", params={"at": "2026-06-30T23:59:00Z"}, headers=h
    ).json()
    july = client.get(
        f"/api/v1/tariffs/{tid}/in-force", params={"at": "2026-07-01T00:00:00Z"}, headers=h
    ).json()
    assert (june["version"], june["fixed_charge"]) == (1, 200)
    assert (july["version"], july["fixed_charge"]) == (2, 300)
    before = client.get(
        f"/api/v1/tariffs/{tid}/in-force", params={"at": "2025-01-01T00:00:00Z"}, headers=h
    )
    assert before.status_code == 404


@pytest.mark.parametrize(
    ("steps", "code"),
    [
        (
            [{"up_to_litres": 1000 * (i + 1), "price_per_m3": 1} for i in range(11)],
            "invalid_input",
        ),  # 11 steps
        (
            [{"up_to_litres": 5000, "price_per_m3": 1}, {"up_to_litres": 4000, "price_per_m3": 1}],
            "invalid_input",
        ),
        (
            [{"up_to_litres": None, "price_per_m3": 1}, {"up_to_litres": 4000, "price_per_m3": 1}],
            "invalid_input",
        ),
        ([{"up_to_litres": 5000, "price_per_m3": 0}], "bad_amount"),
        ([{"up_to_litres": 5000, "price_per_m3": 1.5}], "bad_amount"),
        ([{"up_to_litres": 5000, "price_per_m3": "1.505"}], "bad_amount"),
        ([{"up_to_litres": 5000, "price_per_m3": "1e2"}], "bad_amount"),
        ([{"up_to_litres": 5000, "price_per_m3": "\u0661"}], "bad_amount"),
        ([{"up_to_litres": 5000, "price_per_m3": 2**64}], "bad_amount"),
        ([], "invalid_input"),
    ],
    ids=[
        "eleven",
        "descending",
        "open-not-last",
        "zero-price",
        "float-price",
        "three-decimals",
        "exponent",
        "arabic-indic",
        "past-int64",
        "none",
    ],
)
def test_bad_steps_are_refused(
    client: TestClient, admin_token: str, steps: list[dict[str, Any]], code: str
) -> None:
    """More than 10 steps, unordered limits, an open step not last, a price not in the one
    money spelling or not positive: 422 with its code, and no tariff."""
    r = client.post(
        "/api/v1/tariffs",
        json={"name": "Bad", "mode": "amount", "version": _version(steps=steps)},
        headers=auth(admin_token),
    )
    assert (r.status_code, r.json()["code"]) == (422, code)
    assert client.get("/api/v1/tariffs", headers=auth(admin_token)).json() == []


def test_ten_step_in_meter_tariff_is_accepted(client: TestClient, admin_token: str) -> None:
    """An amount (in-meter) tariff may have exactly 10 steps."""
    steps = [{"up_to_litres": 1000 * (i + 1), "price_per_m3": f"1.0{i}"} for i in range(9)]
    steps.append({"up_to_litres": None, "price_per_m3": "5"})
    r = client.post(
        "/api/v1/tariffs",
        json={"name": "Ten", "mode": "amount", "version": _version(steps=steps)},
        headers=auth(admin_token),
    )
    assert r.status_code == 201, r.text
    assert len(r.json()["versions"][0]["steps"]) == 10


def test_naive_effective_date_is_refused(client: TestClient, admin_token: str) -> None:
    """An effective date without a time zone is invalid input."""
    r = client.post(
        "/api/v1/tariffs",
        json={
            "name": "Naive",
            "mode": "volume",
            "version": _version(effective_from="2026-01-01T00:00:00"),
        },
        headers=auth(admin_token),
    )
    assert r.status_code == 422


def test_only_admins_change_tariffs(client: TestClient, supervisor_token: str) -> None:
    """A supervisor may read tariffs but not create them."""
    h = auth(supervisor_token)
    assert client.get("/api/v1/tariffs", headers=h).status_code == 200
    r = client.post(
        "/api/v1/tariffs", json={"name": "S", "mode": "volume", "version": _version()}, headers=h
    )
    assert r.status_code == 403


def test_prices_are_in_major_units(client: TestClient, admin_token: str) -> None:
    """Prices and fixed charges are read like a sale's amount: "1.50" is 150 minor units."""
    r = client.post(
        "/api/v1/tariffs",
        json={"name": "Major", "mode": "volume", "version": _version(fixed_charge=2)},
        headers=auth(admin_token),
    )
    assert r.status_code == 201, r.text
    version = r.json()["versions"][0]
    assert version["fixed_charge"] == 200
    assert [s["price_per_m3"] for s in version["steps"]] == [150, 250]
    bad = client.post(
        "/api/v1/tariffs",
        json={"name": "Bad", "mode": "volume", "version": _version(fixed_charge="-1")},
        headers=auth(admin_token),
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "bad_amount")
