"""The console's field-settings form: only typed settings are sent; a refused value
shows the API's words and keeps what was typed (and the form's key)."""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Callable

from sqlalchemy import Engine, func, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import ManagementRequest
from stsgas.vending.web.management_pages import settings_params
from tests.vending.sales.conftest import Shop

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

KEY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')


def test_only_the_settings_typed_in_are_sent() -> None:
    """Blank settings stay as the meter has them; other kinds' fields are not read."""
    typed = {"seq": " 7 ", "overdraft": " 2.5 ", "billing_day": "", "leak_s": "900", "rate": "9"}
    assert settings_params(typed) == {"seq": 7, "overdraft": "2.5", "leak_s": "900"}


def test_a_refused_setting_keeps_the_form(
    console: TestClient, signed_in: Callable[[str], str], shop: Shop, engine: Engine
) -> None:
    """Billing day 29: 422 with the API's reason; the typed values and the key stay."""
    csrf = signed_in("shopsuper")
    key = KEY_RE.search(console.get("/console/management").text)
    assert key
    form = {
        "meter": shop.volume_pan,
        "kind": "field_settings",
        "fs_seq": "2",
        "fs_billing_day": "29",
        "fs_timezone": "Africa/Nairobi",
        "reason": "billing cycle",
        "idempotency_key": key.group(1),
        "csrf": csrf,
    }
    r = console.post("/console/management", data=form)
    assert r.status_code == 422, r.text
    text = html.unescape(r.text)
    assert "billing_day must be an integer 1 .. 28" in text
    assert 'name="fs_billing_day" value="29"' in text
    assert 'name="fs_timezone" value="Africa/Nairobi"' in text
    assert f'name="idempotency_key" value="{key.group(1)}"' in text
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(ManagementRequest)).scalar_one() == 0
