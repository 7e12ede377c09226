"""Identifiers take ASCII digits only, and a typo in a meter number is 422 on every path."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.vending.conftest import TEST_KEYS, auth
from tests.vending.sales.conftest import Shop

ARABIC_INDIC_01 = "\u0660\u0661"  # "01" in Arabic-Indic digits: \d matches it, [0-9] does not
UNKNOWN = "600727000000000009"  # a valid PAN nobody registered


def _typo(pan: str) -> str:
    return pan[:-1] + str((int(pan[-1]) + 1) % 10)


@pytest.mark.parametrize("field", ["ti"])
def test_a_ti_in_other_scripts_digits_is_refused(
    client: TestClient,
    shop: Shop,
    admin_token: str,
    field: str,
) -> None:
    """A meter's TI is two ASCII digits: other scripts' digits are 422, no meter stored."""
    r = client.post(
        "/api/v1/meters",
        json={
            "number": UNKNOWN,
            "mode": "volume",
            "supply_group_id": shop.group_id,
            field: ARABIC_INDIC_01,
        },
        headers=auth(admin_token),
    )
    assert (r.status_code, r.json()["code"]) == (422, "invalid_input")
    assert (
        client.get(f"/api/v1/meters/{UNKNOWN}/lookup", headers=auth(admin_token)).status_code == 404
    )


def test_a_supply_group_code_in_other_scripts_digits_is_refused(
    client: TestClient,
    admin_token: str,
) -> None:
    """An SGC is six ASCII digits; the same group in ASCII digits is accepted."""
    body = {"sgc": "\u0661" * 6, "krn": 1, "vending_key": TEST_KEYS["vending_key_dkga04"]}
    r = client.post("/api/v1/supply-groups", json=body, headers=auth(admin_token))
    assert (r.status_code, r.json()["code"]) == (422, "invalid_input")
    assert client.get("/api/v1/supply-groups", headers=auth(admin_token)).json() == []
    r = client.post(
        "/api/v1/supply-groups", json={**body, "sgc": "111111"}, headers=auth(admin_token)
    )
    assert r.status_code == 201, r.text


def test_a_wrong_check_digit_is_bad_meter_number_on_every_path(
    client: TestClient,
    shop: Shop,
    admin_token: str,
) -> None:
    """Sale, lookup and management request: 422 bad_meter_number, never a 404."""
    typo = _typo(shop.volume_pan)
    calls = [
        ("POST", "/api/v1/sales", {"meter_number": typo, "amount": "10"}, shop.cashier_token),
        ("GET", f"/api/v1/meters/{typo}/lookup", None, shop.cashier_token),
        (
            "POST",
            "/api/v1/management/requests",
            {"meter_number": typo, "kind": "clear_tamper", "params": {}, "reason": "visit"},
            shop.supervisor_token,
        ),
    ]
    for method, path, body, token in calls:
        r = client.request(method, path, json=body, headers=auth(token))
        assert (r.status_code, r.json()["code"]) == (422, "bad_meter_number"), path
