"""The receipt's ESC/POS bytes over the API (permission-checked) and the console's
"Print receipt" to a real TCP listener; a missing printer leaves the sale as it was."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from stsgas.vending.models import Operator, Role
from tests.vending.conftest import auth
from tests.vending.printing.listener import closed_port, fake_printer
from tests.vending.sales.conftest import Shop, counts
from tests.vending.sales.test_service import sell
from tests.vending.web.conftest import console, signed_in  # noqa: F401  (fixtures)

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])


def _escpos(client: TestClient, token: str, sale_id: int) -> bytes:
    r = client.get(f"/api/v1/sales/{sale_id}/receipt.escpos", headers=auth(token))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/octet-stream"
    return bytes(r.content)


def test_receipt_bytes_carry_the_sale_and_its_names(
    client: TestClient, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bytes name the utility, the vendor, the currency and the grouped token."""
    monkeypatch.setenv("STSGAS_RECEIPT_UTILITY_NAME", "Dar Gas")
    monkeypatch.setenv("STSGAS_RECEIPT_CURRENCY", "TZS")
    sale = sell(client, shop.cashier_token, shop.volume_pan, "20").json()
    data = _escpos(client, shop.cashier_token, sale["sale_id"])
    assert data.startswith(b"\x1b@")
    for part in ("Dar Gas", "Float Kiosk", f"TZS {sale['amount_paid']}", sale["token"]):
        assert part.encode() in data, part
    assert f"#{sale['sale_id']}".encode() in data


def test_receipt_bytes_only_for_who_may_see_the_sale(
    client: TestClient, shop: Shop, make_operator: Callable[..., tuple[Operator, str]]
) -> None:
    """Another vendor's cashier gets 404 (no existence leak); no token gets 401."""
    sale = sell(client, shop.cashier_token, shop.volume_pan, "10").json()
    _other, token = make_operator(Role.CASHIER, username="elsewhere")
    url = f"/api/v1/sales/{sale['sale_id']}/receipt.escpos"
    assert client.get(url, headers=auth(token)).status_code == 404
    assert client.get(url).status_code == 401
    assert _escpos(client, shop.supervisor_token, sale["sale_id"])


@SQLITE_ONLY
def test_console_print_sends_the_api_bytes_to_the_printer(
    console: TestClient,  # noqa: F811
    signed_in: Callable[[str], str],  # noqa: F811
    shop: Shop,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Print receipt: the printer's socket receives exactly the API's bytes."""
    sale = sell(console, shop.cashier_token, shop.volume_pan, "10").json()
    csrf = signed_in("shopcashier")
    page = console.get(f"/console/sales/{sale['sale_id']}")
    assert "Print receipt" in page.text
    with fake_printer() as printer:
        monkeypatch.setenv("STSGAS_RECEIPT_PRINTER", printer.address)
        r = console.post(f"/console/sales/{sale['sale_id']}/print", data={"csrf": csrf})
        assert printer.done.wait(5)
    assert r.status_code == 200
    assert f"Receipt sent to the printer at {printer.address}." in r.text
    assert printer.jobs == [_escpos(console, shop.cashier_token, sale["sale_id"])]


@SQLITE_ONLY
def test_console_print_errors_are_clear_and_leave_the_sale(
    console: TestClient,  # noqa: F811
    signed_in: Callable[[str], str],  # noqa: F811
    shop: Shop,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No printer set, or a printer that refuses: a message, and nothing in the
    database changed (no sale, token, ledger or audit row; the same float)."""
    sale = sell(console, shop.cashier_token, shop.volume_pan, "10").json()
    csrf = signed_in("shopcashier")
    before = counts(engine)
    monkeypatch.delenv("STSGAS_RECEIPT_PRINTER", raising=False)
    r = console.post(f"/console/sales/{sale['sale_id']}/print", data={"csrf": csrf})
    assert "No receipt printer is set" in r.text
    where = closed_port()
    monkeypatch.setenv("STSGAS_RECEIPT_PRINTER", where)
    r = console.post(f"/console/sales/{sale['sale_id']}/print", data={"csrf": csrf})
    assert f"Not printed: the printer at {where} did not take the receipt" in r.text
    assert sale["token"] in r.text  # the receipt is still shown
    stale = console.post(f"/console/sales/{sale['sale_id']}/print", data={"csrf": "x"})
    assert stale.status_code == 403
    assert counts(engine) == before
