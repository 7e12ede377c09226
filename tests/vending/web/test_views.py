"""The console's view models: money shown exactly, tokens grouped, key change first."""

from __future__ import annotations

import pytest

from stsgas.vending.web.nav import nav_for
from stsgas.vending.web.views import lookup_view, money, parse_amount, receipt_view

SALE = {  # the shape of the sales API's receipt
    "sale_id": 7,
    "time": "2026-11-25T08:30:12+00:00",
    "meter_number": "600727010000000013",
    "channel": "web",
    "amount_paid": "50.00",
    "fixed_charge": "5.00",
    "debt_recovered": "0.00",
    "tax": "4.50",
    "energy_amount": "40.50",
    "units_credited": "2.7",
    "money_credited": None,
    "tariff_steps": [{"position": 1, "litres": 2700, "price_per_m3": 1500, "amount": 4050}],
    "key_change": True,
    "status": "completed",
    "tokens": [
        {"kind": "credit", "sequence": 3, "digits": "12345678901234567890"},
        {"kind": "kct", "sequence": 1, "digits": "11112222333344445555"},
        {"kind": "kct", "sequence": 2, "digits": "66667777888899990000"},
    ],
}


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
    """The receipt lists the itemised payment and key change tokens before the credit token."""
    view = receipt_view(SALE)
    labels = [line.label for line in view.lines]
    assert labels == [
        "Amount paid",
        "Fixed charge",
        "Debt recovered",
        "Tax",
        "Gas",
        "Tariff step",
        "Credit",
    ]
    assert view.lines[5].value == "2.700 m³ at 15.00/m³"
    assert view.credited == "2.7 m³"
    assert [t.label for t in view.tokens] == [
        "Key change token 1",
        "Key change token 2",
        "Credit token",
    ]
    assert view.tokens[2].grouped == "1234 5678 9012 3456 7890"


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
