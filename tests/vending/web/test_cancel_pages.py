"""The console's cancel flow: a preview first, then a void or a four-eyes take-back."""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import Engine, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Sale, Vendor
from tests.vending.sales.conftest import FLOAT, Shop
from tests.vending.web.conftest import KEY_RE, approve_as, management_requests, sell

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PREVIEW_RE = re.compile(r'<p class="alert warn" id="cancel-preview" role="status">([^<]+)</p>')


def _sold(console: TestClient, csrf: str, pan: str, amount: str, key: str) -> str:
    sold = sell(console, csrf, pan, amount, key)
    assert "Cancel this sale" in sold.text
    path: str = sold.url.path
    return path.rsplit("/", 1)[1]


def _preview(text: str) -> str:
    match = PREVIEW_RE.search(text)
    assert match, text
    return html.unescape(match.group(1))


def _confirm_form(text: str) -> dict[str, str]:
    """The hidden fields of the preview page's confirm form."""
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', text))
    return {k: html.unescape(v) for k, v in fields.items()}


def test_void_previews_then_refunds_once(
    console: TestClient,
    signed_in: Callable[[str], str],
    shop: Shop,
    engine: Engine,
) -> None:
    """The cancel form previews the void (no token, the refund); only confirm cancels; a
    second confirm (a double click) shows the sale cancelled, refunded once."""
    csrf = signed_in("shopsuper")
    sale_id = _sold(console, csrf, shop.amount_pan, "18", "cx")
    previewed = console.post(
        f"/console/sales/{sale_id}/cancel/preview",
        data={"reason": "wrong meter", "token_used": "", "csrf": csrf},
    )
    assert previewed.status_code == 200, previewed.text
    assert _preview(previewed.text) == (
        "No token: the sale's token was never entered, so the meter keeps its credit; "
        "18.00 is refunded now."
    )
    assert "Void and refund now" in previewed.text
    with make_sessionmaker(engine)() as s:
        assert s.get(Sale, int(sale_id)).status == "completed"  # type: ignore[union-attr]
    form = _confirm_form(previewed.text)
    done = console.post(f"/console/sales/{sale_id}/cancel", data=form)
    assert done.status_code == 200, done.text
    assert f"Sale #{sale_id} cancelled; 18.00 refunded" in done.text
    assert "This sale is cancelled: its token is void" in done.text
    assert 'data-digits="' not in done.text
    assert "Cancel this sale" not in done.text
    again = console.post(f"/console/sales/{sale_id}/cancel", data=form)
    assert again.status_code == 409
    assert f"Sale #{sale_id} is already cancelled; nothing more was refunded" in again.text
    with make_sessionmaker(engine)() as s:
        assert s.get(Vendor, shop.vendor_id).float_balance == FLOAT  # type: ignore[union-attr]


def test_take_back_previews_the_meter_then_waits_for_a_second_supervisor(
    console: TestClient,
    signed_in: Callable[[str], str],
    shop: Shop,
    engine: Engine,
    second_supervisor: str,
) -> None:
    """By volume with the token entered: the preview says how the meter's credit moves;
    confirming (twice) makes one pending request; the second supervisor's page shows the
    same words beside it and approving lists the tokens in entry order."""
    csrf = signed_in("shopsuper")
    sale_id = _sold(console, csrf, shop.volume_pan, "30", "cy")
    with make_sessionmaker(engine)() as s:
        units = s.execute(select(Sale.credit_units).where(Sale.id == int(sale_id))).scalar_one()
    assert units is not None
    shows = str(Decimal(units) / 10 + Decimal("2.3"))
    previewed = console.post(
        f"/console/sales/{sale_id}/cancel/preview",
        data={
            "reason": "paid for the neighbour",
            "token_used": "true",
            "meter_credit": shows,
            "csrf": csrf,
        },
    )
    assert previewed.status_code == 200, previewed.text
    words = _preview(previewed.text)
    assert words.startswith(f"The meter's credit goes from {shows} m³ to 2.3 m³")
    assert "Ask a second supervisor to approve" in previewed.text
    form = _confirm_form(previewed.text)
    assert KEY_RE.search(previewed.text)
    asked = console.post(f"/console/sales/{sale_id}/cancel", data=form)
    assert asked.status_code == 200, asked.text
    assert "waits for a second supervisor" in asked.text
    assert console.post(f"/console/sales/{sale_id}/cancel", data=form).status_code == 200
    assert management_requests(engine) == 1  # the same form twice is one request

    console.cookies.clear()
    signed_in(second_supervisor)
    waiting = console.get("/console/management")
    assert "Cancel sale (take credit back)" in waiting.text
    assert words.rstrip(".") in html.unescape(waiting.text)
    rid = re.search(r'id="pending-(\d+)"', waiting.text)
    assert rid
    ok = approve_as(console, second_supervisor, rid.group(1))
    labels = re.findall(r'<span class="step">(\d+\. [^<]+)</span>', ok.text)
    assert labels == ["1. Management token", "2. Credit token"]
    note = re.search(r'<p id="refund-note">([^<]+)</p>', html.unescape(ok.text))
    assert note is not None  # where the money went, beside the tokens
    with make_sessionmaker(engine)() as s:
        paid = s.execute(select(Sale.amount_paid).where(Sale.id == int(sale_id))).scalar_one()
    assert note.group(1) == f"{paid // 100}.{paid % 100:02d} went back to the vendor's float."
    with make_sessionmaker(engine)() as s:
        assert s.get(Sale, int(sale_id)).status == "cancelled"  # type: ignore[union-attr]


def test_preview_refuses_a_volume_cancel_without_the_reading(
    console: TestClient,
    signed_in: Callable[[str], str],
    shop: Shop,
    engine: Engine,
) -> None:
    """No reading for a volume take-back: the page says why, nothing is asked."""
    csrf = signed_in("shopsuper")
    sale_id = _sold(console, csrf, shop.volume_pan, "10", "cz")
    r = console.post(
        f"/console/sales/{sale_id}/cancel/preview",
        data={"reason": "x", "token_used": "true", "csrf": csrf},
    )
    assert r.status_code == 422
    assert "give the credit the meter shows now" in html.unescape(r.text)
    assert management_requests(engine) == 0


def test_cashier_has_no_cancel(
    console: TestClient, signed_in: Callable[[str], str], shop: Shop
) -> None:
    """A cashier's receipt offers no cancellation and the cancel forms are refused."""
    csrf = signed_in("shopcashier")
    sold = sell(console, csrf, shop.volume_pan, "18", "cy")
    assert "Cancel this sale" not in sold.text
    sale_id = sold.url.path.rsplit("/", 1)[1]
    for path in ("cancel", "cancel/preview"):
        r = console.post(f"/console/sales/{sale_id}/{path}", data={"reason": "x", "csrf": csrf})
        assert r.status_code == 403
