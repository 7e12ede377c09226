"""Field settings, office to meter: two supervisors ask and approve over the API, the
signed frame the vending side stores goes to the firmware model keyed from the same
database, and the meter applies every value; the same frame again is a replay.

What the meter then holds is read back the way a readout reads it, so the values the
office asked for, the meter's applied values and the readout's text agree.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from stsgas.irproto import SETTING_NAMES, decode_frame, encode_frame
from stsgas.meter import Meter
from stsgas.meter.readout import take_readout
from tests.e2e.office import MANAGEMENT, approved
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop
from tests.vending.virtual import virtual_meter

DATA = json.loads((Path(__file__).parents[1] / "data" / "e2e" / "field-settings.json").read_text())
NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)


def _issued(
    client: TestClient, shop: Shop, approver: str, pan: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Asked by the shop's supervisor, approved by the second one: the issued request."""
    ok = approved(client, shop.supervisor_token, approver, pan, "field_settings", params)
    assert ok["status"] == "issued"
    return ok


def _send(meter: Meter, command: str) -> str:
    """The meter's reply to the frame carrying ``command``."""
    return decode_frame(meter.receive_ir(encode_frame(command), NOW).reply or b"")


def _same(asked: str, held: str | int) -> bool:
    """One value as the office stored it and as the meter reads it out."""
    if isinstance(held, int) or (asked[:1].isdigit() and held[:1].isdigit()):
        return Decimal(asked) == Decimal(held)
    return asked == held


def _held(meter: Meter) -> dict[str, str | int]:
    """The meter's settings as its readout gives them. A gas-safety rule that is off is
    not read out; its seconds are then taken from the meter's settings directly."""
    held = dict(take_readout(meter, NOW).settings)
    for secs in ("excess_flow_s", "leak_s"):
        held.setdefault(secs, int(getattr(meter.settings, secs)))
    return held


@pytest.mark.parametrize("name", SETTING_NAMES)
def test_each_setting_reaches_the_meter(
    client: TestClient, shop: Shop, approver_token: str, engine: Engine, name: str
) -> None:
    """One setting per request: the meter answers ok, reads it back as asked and logs
    the change; approving again gives the same frame, which the meter calls a replay."""
    value = DATA["one_each"][name]
    req = _issued(client, shop, approver_token, shop.volume_pan, {"seq": 1, name: value})
    stored = req["params"][name]
    meter = virtual_meter(engine, shop.volume_pan, "volume", now=NOW)
    before = _held(meter).get(name)

    assert _send(meter, req["ir_command"]) == "ok settings 1"
    held = _held(meter)
    assert _same(stored, held[name]), (stored, held[name], before)
    assert meter.event_log.entries[-1].kind == "setting_changed"
    assert meter.lockout.ir_seq == 1

    again = client.post(f"{MANAGEMENT}/{req['id']}/approve", headers=auth(approver_token))
    assert again.json()["ir_command"] == req["ir_command"]
    assert _send(meter, again.json()["ir_command"]) == "err replay 1"
    assert _held(meter) == held


def test_many_settings_in_one_frame_all_applied_then_the_next_counter(
    client: TestClient, shop: Shop, approver_token: str, engine: Engine
) -> None:
    """A request with several settings applies all of them at once on both modes'
    meters; a later request must take a higher counter, and the meter takes it."""
    for pan, mode in ((shop.volume_pan, "volume"), (shop.amount_pan, "amount")):
        meter = virtual_meter(engine, pan, mode, now=NOW)
        req = _issued(client, shop, approver_token, pan, {"seq": 4, **DATA["together"]})
        assert _send(meter, req["ir_command"]) == f"ok settings {len(DATA['together'])}"
        held = _held(meter)
        for name in DATA["together"]:
            assert _same(req["params"][name], held[name]), (mode, name, held[name])
        assert meter.config.tz == "Africa/Lagos"
        later = _issued(client, shop, approver_token, pan, {"seq": 5, "billing_day": 20})
        assert _send(meter, later["ir_command"]) == "ok settings 1"
        assert _send(meter, req["ir_command"]) == "err replay 5"  # older: the meter is at 5
        assert _held(meter)["billing_day"] == 20


def test_another_meters_frame_is_refused(
    client: TestClient, shop: Shop, approver_token: str, engine: Engine
) -> None:
    """Signed for the by-amount meter: the by-volume meter refuses it and keeps its values."""
    meter = virtual_meter(engine, shop.volume_pan, "volume", now=NOW)
    before = _held(meter)
    req = _issued(client, shop, approver_token, shop.amount_pan, {"seq": 1, "billing_day": 3})
    assert _send(meter, req["ir_command"]).startswith("err ")
    assert _held(meter) == before
    assert meter.lockout.ir_seq == 0
