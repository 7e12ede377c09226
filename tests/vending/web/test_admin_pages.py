"""Supervisor, admin and auditor pages: customers, meters, four-eyes tokens, reports, audit."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

from tests.vending.sales.conftest import Shop
from tests.vending.web.conftest import approve_as, ask, sell

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_customer_create_search_and_detail(
    console: TestClient, signed_in: Callable[[str], str]
) -> None:
    """A supervisor creates a customer, finds it by phone and opens its page."""
    csrf = signed_in("shopsuper")
    made = console.post(
        "/console/customers",
        data={
            "name": "Grace Hopper",
            "phone": "+255711000222",
            "address": "1 Compiler Rd",
            "csrf": csrf,
        },
    )
    assert made.status_code == 200
    assert "<h1>Grace Hopper</h1>" in made.text
    found = console.get("/console/customers", params={"q": "711000222"})
    assert "Grace Hopper" in found.text
    assert "Ada Lovelace" not in found.text


def test_meter_search_opens_detail_with_history(
    console: TestClient, signed_in: Callable[[str], str], shop: Shop
) -> None:
    """Searching a meter number opens the meter with its sales history."""
    sold = sell(console, signed_in("shopsuper"), shop.amount_pan, "30", "m")
    assert sold.status_code == 200
    page = console.get("/console/meters", params={"q": shop.amount_pan})
    assert page.status_code == 200
    assert f"Meter {shop.amount_pan}" in page.text
    assert "30.00" in page.text
    missing = console.get("/console/meters", params={"q": "01234567890"})
    assert missing.status_code == 404
    assert 'role="alert"' in missing.text


def test_management_token_needs_a_second_supervisor(
    console: TestClient,
    signed_in: Callable[[str], str],
    shop: Shop,
    second_supervisor: str,
) -> None:
    """One supervisor asks for a clear-tamper token; another approves and sees it grouped."""
    csrf = signed_in("shopsuper")
    form = {"meter": shop.volume_pan, "kind": "clear_tamper", "reason": "magnet removed"}
    _asked, request_id = ask(console, {**form, "csrf": csrf})
    own = console.post("/console/management/approve", data={"request_id": request_id, "csrf": csrf})
    assert own.status_code == 422  # four eyes: not one's own request
    ok = approve_as(console, second_supervisor, request_id)
    assert re.search(r'data-digits="\d{20}">\d{4}( \d{4}){4}<', ok.text)


def test_daily_report_and_csv(
    console: TestClient, signed_in: Callable[[str], str], shop: Shop
) -> None:
    """The daily report lists today's sales by channel; the CSV downloads as a file."""
    sell(console, signed_in("shopsuper"), shop.amount_pan, "40", "rep")
    report = console.get("/console/reports")
    assert report.status_code == 200
    assert "40.00" in report.text
    csv = console.get("/console/reports.csv")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    assert "40.00" in csv.text


def test_meter_create_checks_the_number(
    console: TestClient, signed_in: Callable[[str], str], shop: Shop
) -> None:
    """A new meter with a valid DRN opens its page; a wrong check digit is refused."""
    from stsgas.sts import drn_with_check

    csrf = signed_in("shopsuper")
    form = console.get("/console/meters")
    assert 'id="new-m"' in form.text
    good = drn_with_check("0199999999")
    made = console.post(
        "/console/meters",
        data={
            "number": good,
            "mode": "volume",
            "supply_group_id": str(shop.group_id),
            "tariff_id": "",
            "customer_id": "",
            "csrf": csrf,
        },
    )
    assert made.status_code == 200
    assert "<h1>Meter 600727" in made.text
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    refused = console.post(
        "/console/meters",
        data={"number": bad, "mode": "volume", "supply_group_id": str(shop.group_id), "csrf": csrf},
    )
    assert refused.status_code == 422
    assert "Meter not created" in refused.text
