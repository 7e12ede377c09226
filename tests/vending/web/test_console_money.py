"""What the console and the POS say about money: why a meter cannot be sold to (code
and sentence), where a sale's money went, and money credit to the currency's decimals."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from stsgas.sts.vend import credit_currency
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop
from tests.vending.sales.test_counter_refusals import meter_without_tariff_in_force, set_limit
from tests.vending.web.conftest import CSRF_RE

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _pos(console: TestClient, csrf: str, meter: str, amount: str, key: str) -> Any:
    return console.post(
        "/pos/api/sell",
        json={"meter": meter, "amount": amount},
        headers={"X-CSRF-Token": csrf, "Idempotency-Key": key},
    )


def test_the_sell_page_says_why_a_meter_cannot_be_sold_to(
    console: TestClient, signed_in: Callable[[str], str], shop: Shop, engine: Engine
) -> None:
    """No tariff in force: the lookup card shows the sentence and its problem code and
    offers no amount field; the POS lookup answers the same reasons."""
    pan = meter_without_tariff_in_force(engine, shop, future=True)
    csrf = signed_in("shopcashier")
    page = console.get("/console/sell", params={"meter": pan})
    assert page.status_code == 200
    assert re.search(
        r'data-code="no_tariff_in_force">This meter has no tariff in force: '
        r"[^<]+<code>no_tariff_in_force</code>",
        page.text,
    )
    assert 'id="sale-form"' not in page.text
    looked = console.get(
        "/pos/api/lookup", params={"meter": pan}, headers={"X-CSRF-Token": csrf}
    ).json()
    assert looked["can_sell"] is False
    assert [r["code"] for r in looked["cannot_sell"]] == ["no_tariff_in_force"]


def test_a_refused_sale_shows_its_code_on_the_page(
    console: TestClient,
    signed_in: Callable[[str], str],
    shop: Shop,
    engine: Engine,
    supervisor_token: str,
) -> None:
    """A sale over the meter's recharge limit is refused with the reason and its code."""
    assert set_limit(console, supervisor_token, engine, shop.volume_pan, 1_000).status_code == 200
    csrf = signed_in("shopcashier")
    r = console.post(
        "/console/sell",
        data={"meter": shop.volume_pan, "amount": "10", "idempotency_key": "lim", "csrf": csrf},
    )
    assert r.status_code == 422
    assert re.search(r"recharge limit of 1 m³[^<]*\(over_recharge_limit\)", r.text), r.text


def test_the_pos_result_says_where_the_money_went(
    console: TestClient, signed_in: Callable[[str], str], shop: Shop
) -> None:
    """10.00 to the volume meter: fixed charge, debt, tax, gas and change, then the credit."""
    csrf = signed_in("shopcashier")
    body = _pos(console, csrf, shop.volume_pan, "10", "pos-split-1").json()
    assert body["paid"] == "9.84"
    assert body["split"] == ("fixed charge 1.00 · debt 0.90 · tax 1.04 · gas 6.90 · change 0.16")
    assert body["credited"] == "4.6 m³"


def test_money_credit_is_shown_to_the_currency_decimals(
    console: TestClient, signed_in: Callable[[str], str], shop: Shop
) -> None:
    """1461.90 to the amount meter buys 1271.21 of gas; the token's currency field rounds
    that up to 1271.22624: the receipt and the POS show what it credits to the currency's
    two decimals (rounded down), never the token's five."""
    csrf = signed_in("shopcashier")
    body = _pos(console, csrf, shop.amount_pan, "1461.90", "pos-money-1").json()
    assert body["credited"] == "1271.22 (money credit)"
    assert body["split"] == "tax 190.69 · gas 1271.21"
    receipt = console.get(
        f"/api/v1/sales/{body['sale_id']}", headers=auth(shop.cashier_token)
    ).json()
    assert receipt["money_credited"] == "1271.22"
    assert credit_currency(Decimal(receipt["energy_amount"])) == 127_122_624  # in 10^-5
    page = console.get(f"/console/sales/{body['sale_id']}")
    assert CSRF_RE.search(page.text)
    assert "1271.22 (money credit)" in page.text
    assert not re.search(r"\d\.\d{3,}", page.text.split("<main", 1)[1].split("token-list")[0])
