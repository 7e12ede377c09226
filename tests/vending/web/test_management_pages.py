"""The console's management form: key changes, one request per form, tokens in entry order."""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Callable

from sqlalchemy import Engine, func, select

from stsgas.sts import KeyChange1, KeyChange2, decode, group_digits
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import Meter, Token
from stsgas.vending.web.management_pages import management_params
from tests.vending import factories
from tests.vending.sales.conftest import Shop, meter_config
from tests.vending.web.conftest import (
    approve_as,
    ask,
    form_key,
    management_form,
    management_requests,
    page_csrf,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TOKEN_RE = re.compile(
    r'<span class="step">(\d+)\. ([^<]+)</span><span class="token" data-digits="(\d{20})">([^<]+)<'
)


def _new_group(engine: Engine, security_module: SoftwareSecurityModule) -> int:
    """A second key revision of the shop's supply group (KRN 2) to move a meter to."""
    with make_sessionmaker(engine).begin() as s:
        return factories.supply_group(s, security_module, krn=2).id


def test_management_params_per_kind() -> None:
    """Only the chosen kind's fields become params; a key change sends what changes."""
    fields = {
        "rate": "12",
        "supply_group_id": "3",
        "ti": " 07 ",
        "base_date": "2035",
        "with_next_sale": "1",
    }
    assert management_params("clear_tamper", **fields) == {}
    assert management_params("clear_credit", **fields) == {}
    assert management_params("set_tariff", **fields) == {"rate": 12}
    assert management_params("key_change", **fields) == {
        "supply_group_id": 3,
        "ti": "07",
        "base_date": 2035,
        "with_next_sale": True,
    }
    assert management_params("key_change", ti="07") == {"ti": "07"}
    assert management_params("key_change", supply_group_id="x") == {"supply_group_id": "x"}


def test_form_offers_key_change_and_a_fresh_key_per_render(
    console: TestClient,
    signed_in: Callable[[str], str],
    engine: Engine,
    security_module: SoftwareSecurityModule,
) -> None:
    """The form lists the key change kind and the supply groups by SGC and KRN; each
    render carries its own idempotency key."""
    _new_group(engine, security_module)
    signed_in("shopsuper")
    first = console.get("/console/management")
    assert first.status_code == 200
    assert '<option value="key_change">' in first.text
    assert "SGC 123456 · KRN 1" in first.text
    assert "SGC 123456 · KRN 2" in first.text
    assert 'name="ti"' in first.text
    assert 'name="base_date"' in first.text
    assert form_key(first.text) != form_key(console.get("/console/management").text)


def test_key_change_asked_twice_then_approved_shows_the_set_in_order(
    console: TestClient,
    signed_in: Callable[[str], str],
    shop: Shop,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    second_supervisor: str,
) -> None:
    """A supervisor asks for a key change (new KRN and TI); the same form sent again is
    the same request; a second supervisor approves and sees the KCTs in entry order,
    grouped 4-4-4-4-4; approving again shows the same tokens, none made."""
    new_group = _new_group(engine, security_module)
    with make_sessionmaker(engine)() as s:
        old = meter_config(s, security_module, shop.volume_pan)
    form = management_form(
        console,
        signed_in("shopsuper"),
        meter=shop.volume_pan,
        kind="key_change",
        supply_group_id=str(new_group),
        ti="07",
        reason="new key revision",
    )
    asked, _ = ask(console, form)
    match = re.search(
        r"Request #(\d+) \(Key change[^)]*, meter (\d+): ([^)]*)\) is pending",
        html.unescape(asked.text),
    )
    assert match, asked.text
    assert match.group(2) == shop.volume_pan
    assert "SGC 123456 · KRN 2" in match.group(3)
    assert "new TI 07" in match.group(3)
    assert form_key(asked.text) != form["idempotency_key"]  # the next ask is a new request
    again, again_id = ask(console, form)  # double submit / reload
    assert again_id == match.group(1)
    assert f"Request #{match.group(1)} " in again.text
    assert "no second request was made" in again.text
    assert management_requests(engine) == 1

    ok = approve_as(console, second_supervisor, match.group(1))
    shown = TOKEN_RE.findall(html.unescape(ok.text))
    assert [(n, label) for n, label, _, _ in shown] == [
        ("1", "Key change token 1"),
        ("2", "Key change token 2"),
    ]
    assert all(grouped == group_digits(d) for _, _, d, grouped in shown)
    assert all(re.fullmatch(r"\d{4}( \d{4}){4}", grouped) for _, _, _, grouped in shown)
    with make_sessionmaker(engine)() as s:
        rows = s.execute(select(Token).order_by(Token.sequence)).scalars().all()
        assert [t.digits for t in rows] == [d for _, _, d, _ in shown]
        meter = s.execute(select(Meter).where(Meter.pan == shop.volume_pan)).scalar_one()
        assert (meter.supply_group_id, meter.ti) == (new_group, "07")
    assert isinstance(decode(shown[0][2], old.key()), KeyChange1)
    assert isinstance(decode(shown[1][2], old.key()), KeyChange2)

    repeat = console.post(
        "/console/management/approve",
        data={"request_id": match.group(1), "csrf": page_csrf(ok.text)},
    )
    assert repeat.status_code == 200
    assert "already approved" in repeat.text
    assert TOKEN_RE.findall(html.unescape(repeat.text)) == shown
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(Token)).scalar_one() == 2


def test_refused_ask_keeps_the_form_and_itsform_key(
    console: TestClient,
    signed_in: Callable[[str], str],
    shop: Shop,
    engine: Engine,
) -> None:
    """A key change with nothing to change is refused; the page keeps what was typed and
    the form's key, and the corrected form then makes its one request."""
    csrf = signed_in("shopsuper")
    form = {
        "meter": shop.volume_pan,
        "kind": "key_change",
        "supply_group_id": "",
        "ti": "",
        "base_date": "",
        "reason": "forgot the TI",
        "idempotency_key": "form-a",
        "csrf": csrf,
    }
    refused = console.post("/console/management", data=form)
    assert refused.status_code == 422
    assert "a key change needs" in refused.text
    assert form_key(refused.text) == "form-a"
    assert '<option value="key_change" selected>' in refused.text
    assert 'value="forgot the TI"' in refused.text
    assert management_requests(engine) == 0
    early = console.post("/console/management", data={**form, "base_date": "2035"})
    assert early.status_code == 422  # base date 2035 has not begun: the rule refuses it
    assert "has not begun" in early.text
    assert management_requests(engine) == 0
    fixed = console.post("/console/management", data={**form, "ti": "07"})
    assert fixed.status_code == 201, fixed.text
    assert "new TI 07" in fixed.text
    assert management_requests(engine) == 1


def test_form_key_reused_with_other_details_asks_to_check(
    console: TestClient,
    signed_in: Callable[[str], str],
    shop: Shop,
    engine: Engine,
) -> None:
    """An old form sent again after its fields changed: no second request, a new key."""
    csrf = signed_in("shopsuper")
    form = {
        "meter": shop.volume_pan,
        "kind": "key_change",
        "ti": "07",
        "reason": "move",
        "idempotency_key": "form-b",
        "csrf": csrf,
    }
    assert console.post("/console/management", data=form).status_code == 201
    changed = console.post("/console/management", data={**form, "ti": "08"})
    assert changed.status_code == 422
    assert "already sent with other details" in changed.text
    assert form_key(changed.text) != "form-b"
    assert management_requests(engine) == 1


def test_key_change_with_next_sale_says_no_token_now(
    console: TestClient,
    signed_in: Callable[[str], str],
    shop: Shop,
    engine: Engine,
    second_supervisor: str,
) -> None:
    """Approved for the next sale: no tokens now, and the page says where they will be."""
    csrf = signed_in("shopsuper")
    asked, rid = ask(
        console,
        {
            "meter": shop.volume_pan,
            "kind": "key_change",
            "ti": "09",
            "with_next_sale": "1",
            "reason": "at next sale",
            "idempotency_key": "n",
            "csrf": csrf,
        },
    )
    assert "tokens with the next sale" in asked.text
    ok = approve_as(console, second_supervisor, rid)
    assert "approved" in ok.text
    assert "issued with the meter's next sale" in html.unescape(ok.text)
    assert 'id="tokens"' not in ok.text
    with make_sessionmaker(engine)() as s:
        meter = s.execute(select(Meter).where(Meter.pan == shop.volume_pan)).scalar_one()
        assert meter.pending_ti == "09"


def test_approver_sees_what_waits_and_approves_from_the_list(
    console: TestClient,
    signed_in: Callable[[str], str],
    shop: Shop,
    second_supervisor: str,
) -> None:
    """The page lists pending requests with what they ask and who asked; the asker's
    own row has no approve button; another supervisor approves from the row."""
    form = management_form(
        console,
        signed_in("shopsuper"),
        meter=shop.amount_pan,
        kind="set_tariff",
        rate="150",
        reason="new price list",
    )
    asked, req_id = ask(console, form)
    row = re.search(rf'<tr id="pending-{req_id}">(.*?)</tr>', asked.text, re.S)
    assert row, asked.text
    assert shop.amount_pan in row.group(1)
    assert "new price list" in row.group(1)
    assert "shopsuper" in row.group(1)
    assert "yours: another supervisor approves it" in row.group(1)
    assert f"Approve #{req_id}" not in row.group(1)

    console.cookies.clear()
    signed_in(second_supervisor)
    listed = console.get("/console/management").text
    assert f"Approve #{req_id}" in listed
    ok = approve_as(console, second_supervisor, req_id)
    assert f'id="pending-{req_id}"' not in ok.text
    assert "No request is waiting." in ok.text


def test_load_tariff_from_the_console_shows_the_signed_ir_command(
    console: TestClient,
    signed_in: Callable[[str], str],
    shop: Shop,
    second_supervisor: str,
) -> None:
    """A supervisor asks for an IR tariff load (counter, UTC time from the form's
    datetime field); a second one approves and reads the signed command to send."""
    form = management_form(
        console,
        signed_in("shopsuper"),
        meter=shop.amount_pan,
        kind="load_tariff",
        seq="3",
        activate_at="2030-01-01T00:00",
        reason="new prices",
    )
    asked, req_id = ask(console, form)
    assert "IR counter 3 · from 2030-01-01T00:00:00Z" in html.unescape(asked.text)

    ok = approve_as(console, second_supervisor, req_id)
    command = re.search(r'<pre id="ir-command"><code>([^<]+)</code>', ok.text)
    assert command, ok.text
    assert re.fullmatch(r"tariff 3 2030-01-01T00:00:00Z [-0-9.:,]+ [0-9a-f]{16}", command.group(1))
