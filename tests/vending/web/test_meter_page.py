"""The meter page speaks to people: no ``None``, ``True``, enum or Decimal reprs, dicts
or bare ids; every fact in words, on a fresh meter and on one with a history."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from stsgas.sts import drn_with_check
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Meter
from tests.vending.sales.conftest import Shop
from tests.vending.web.conftest import sell

#: what a Python value looks like when it leaks into a page
RAW = re.compile(r"\bNone\b|\bTrue\b|\bFalse\b|Decimal\(|\{'|MeterMode|MeterStatus|\bnull\b")


def _main(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


def _facts(html: str) -> dict[str, str]:
    return dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]*)</dd>", _main(html)))


def test_a_fresh_meter_page_has_no_raw_values(
    console: TestClient, signed_in: Callable[[str], str], shop: Shop
) -> None:
    """No tariff, no token, no limit, nothing loaded: each said in words."""
    csrf = signed_in("shopsuper")
    made = console.post(
        "/console/meters",
        data={
            "number": drn_with_check("0199999990"),
            "mode": "amount",
            "supply_group_id": str(shop.group_id),
            "csrf": csrf,
        },
    )
    assert made.status_code == 200
    assert not RAW.search(_main(made.text)), _main(made.text)
    facts = _facts(made.text)
    assert facts["Tariff"] == "No tariff set: it cannot be sold to"
    assert facts["Last token"] == "No token issued yet"
    assert facts["Key change"] == "Not due"
    assert facts["Recharge limit"] == "No limit set (the meter&#39;s own)"
    assert facts["Mode"] == "By amount (credit in money)"
    assert facts["Status"] == "Active"
    assert facts["Supply group"].startswith("SGC 123456, key revision 1")
    assert facts["Key expiry number"] == "255 (never expires)"


def test_a_sold_meter_with_a_key_change_due_reads_in_words(
    console: TestClient, signed_in: Callable[[str], str], shop: Shop, engine: Engine
) -> None:
    """After a sale, with a recharge limit and a tariff-index change pending: the last
    token's time, the limit in m³, the change due and the tariff's name."""
    sold = sell(console, signed_in("shopsuper"), shop.volume_pan, "25", "mp-1")
    assert sold.status_code == 200
    with make_sessionmaker(engine).begin() as s:
        meter = s.execute(select(Meter).where(Meter.pan == shop.volume_pan)).scalar_one()
        meter.recharge_limit = 12_500
        meter.pending_ti = "02"
        meter_id = meter.id
    page = console.get(f"/console/meters/{meter_id}")
    assert page.status_code == 200
    assert not RAW.search(_main(page.text)), _main(page.text)
    facts = _facts(page.text)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC \(TID \d+\)", facts["Last token"])
    assert facts["Recharge limit"] == "12.5 m³ a token"
    assert facts["Key change"] == "Due: tariff index 02 (issued with the next sale)"
    assert facts["Tariff"] not in ("", "No tariff set: it cannot be sold to")
    assert not facts["Tariff"].startswith("tariff #")
