"""The console's view models: money shown exactly, tokens grouped, key change first."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from stsgas.vending.sales.receipts import Receipt
from stsgas.vending.web.nav import nav_for
from stsgas.vending.web.views import lookup_view, money, parse_amount, receipt_view

RECEIPTS = Path(__file__).resolve().parents[2] / "data" / "vending" / "receipts"


def _receipt(name: str) -> Receipt:
    """A receipt as the sales API answers it (the pinned bodies of test_receipts)."""
    return Receipt.from_json(json.loads((RECEIPTS / name).read_text()))


@pytest.mark.parametrize(
    ("minor", "shown"), [(0, "0.00"), (5, "0.05"), (1250, "12.50"), (123456789, "1234567.89")]
)
def test_money_two_decimals(minor: int, shown: str) -> None:
    """Minor units are shown with exactly two decimals."""
    assert money(minor) == shown


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("20", "20.00"),
        ("12.5", "12.50"),
        ("12,75", "12.75"),
        (" 7 ", "7.00"),
        ("0", None),
        ("-1", None),
        ("+5", None),
        ("1.234", None),
        ("1e3", None),
        ("1e309", None),
        ("1_000", None),
        ("\u0661\u0662", None),
        ("\uff15", None),
        ("", None),
        ("abc", None),
    ],
)
def test_parse_amount(typed: str, value: str | None) -> None:
    """Typed amounts are positive ASCII digits with at most two decimals; else refused."""
    assert parse_amount(typed) == value


def test_receipt_itemises_and_orders_tokens() -> None:
    """The receipt lists the itemised payment and key change tokens before the credit
    token, whatever order the API listed them in."""
    sale = _receipt("sale.json")
    view = receipt_view(replace(sale, tokens=tuple(reversed(sale.tokens))))
    assert [(line.label, line.value) for line in view.lines] == [
        ("Amount paid", "100.00"),
        ("Fixed charge (2 months at 2.50)", "5.00"),
        ("Debt recovered", "2.50"),
        ("Tax", "11.48"),
        ("Gas", "81.02"),
        ("Credit", "81.02 (money credit)"),
    ]
    assert [t.label for t in view.tokens] == [
        "Key change token 1",
        "Key change token 2",
        "Credit token",
    ]
    assert view.tokens[2].grouped == "3123 4567 8901 2345 6789"
    assert view.split == "fixed charge (2 months) 5.00 · debt 2.50 · tax 11.48 · gas 81.02"


def test_volume_receipt_shows_steps_change_and_cubic_metres() -> None:
    """A volume sale shows what was tendered, each tariff step in m³ and the change."""
    view = receipt_view(_receipt("volume_sale.json"))
    assert [(line.label, line.value) for line in view.lines] == [
        ("Amount tendered", "50.48"),
        ("Amount paid", "50.00"),
        ("Fixed charge", "0.00"),
        ("Debt recovered", "0.00"),
        ("Tax", "7.00"),
        ("Gas", "43.00"),
        ("Tariff step", "1.500 m³ at 16.00/m³"),
        ("Tariff step", "1.000 m³ at 19.00/m³"),
        ("Credit", "2.5 m³"),
        ("Change", "0.48"),
    ]
    assert view.at == "2026-03-14 10:00:00 UTC"


def test_lookup_view() -> None:
    """The lookup card shows the masked name, mode, status, last sale and key change flag."""
    view = lookup_view(
        {
            "pan": "600727010000000013",
            "customer_name": "J*** D**",
            "mode": "volume",
            "status": "active",
            "key_change_needed": True,
            "last_sale": {
                "created_at": "2026-11-24T10:00:00Z",
                "amount_paid": 2000,
                "credit_units": 100,
            },
        }
    )
    assert view.mode_label == "by volume (m³)"
    assert view.key_change
    assert view.last_sale == "2026-11-24 10:00 UTC · paid 20.00 · 10.0 m³"


def test_cashier_menu_is_selling_only() -> None:
    """A cashier's menu has selling and its own sales, no management, reports or audit."""
    keys = [i.key for i in nav_for("cashier")]
    assert keys == ["dashboard", "sell", "pos", "sales"]
    assert nav_for("cashier")[3].label == "My sales"
    assert "audit" in [i.key for i in nav_for("auditor")]
    assert "sell" not in [i.key for i in nav_for("auditor")]
