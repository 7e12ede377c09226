"""The meter page's JSON API over a real meter in a real NVM file, with a test clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stsgas.meter.adapters.tui_view import ViewError
from stsgas.meter.demo import demo_meter_json
from stsgas.meterweb import MeterDesk, create_app
from tests.meterweb.support import T0, Clock, TestClient, token

DATA = Path(__file__).resolve().parent.parent / "data" / "meterweb"
BAD = json.loads((DATA / "bad-requests.json").read_text(encoding="utf-8"))["cases"]
DRN = "00000000000"  # the demo meter's DRN (PAN 600727 00000000000 9)
URL = f"/api/meters/{DRN}"


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def client(tmp_path: Path, clock: Clock) -> Iterator[TestClient]:
    desk = MeterDesk.open([demo_meter_json()], tmp_path / "state", clock=clock)
    with TestClient(create_app(desk)) as c:
        yield c


def _post(client: TestClient, path: str, body: Any) -> dict[str, Any]:
    r = client.post(f"{URL}/{path}", json=body)
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()
    return doc


def test_a_typed_token_puts_its_credit_on_the_lcd(client: TestClient) -> None:
    """Keys of a real token and # are accepted: the LCD and the register show the credit."""
    before = client.get(URL).json()
    assert before["lcd"].startswith("CR 0")
    assert before["valve"] == {"open": False, "reason": "credit"}
    after = _post(client, "keys", {"keys": token("15") + "#"})
    assert "15" in after["lcd"]
    assert after["credit"] == "15"
    assert after["buzzer"]["count"] > before["buzzer"]["count"]
    assert any("token accepted" in line for line in after["log"])
    opened = _post(client, "open-key", {})
    assert opened["valve"]["open"]
    assert opened["leds"]["valve"]
    drawn = _post(client, "flow", {"litres": 500})
    assert drawn["credit"] == "14.5"


def test_keys_by_name_and_one_at_a_time_are_the_same_keypad(client: TestClient) -> None:
    """A token pressed key by key (as the page's buttons do) works like one request."""
    for digit in token("3"):
        _post(client, "keys", {"keys": digit})
    assert _post(client, "keys", {"keys": ["enter"]})["credit"] == "3"


def test_a_query_code_shows_its_answer(client: TestClient) -> None:
    """0 6 # asks query 06: the LCD shows the meter's PAN."""
    shown = _post(client, "keys", {"keys": "06#"})
    assert "600727000000000009" in shown["lcd"]


def test_a_wrong_token_is_rejected_and_beeps(client: TestClient) -> None:
    """A mistyped token is refused by the meter (not the API): credit unchanged, reject beep."""
    digits = token("5")
    wrong = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    shown = _post(client, "keys", {"keys": wrong + "#"})
    assert shown["credit"] == "0"
    assert shown["buzzer"]["pattern"] == "reject"
    assert any("rejected" in line for line in shown["log"])


@pytest.mark.parametrize(
    "case", BAD, ids=[f"{c['path']}-{c['code']}-{i}" for i, c in enumerate(BAD)]
)
def test_bad_input_is_a_clear_problem_and_changes_nothing(
    client: TestClient, case: dict[str, Any]
) -> None:
    """Each refused request answers 422 problem+json with a stable code; the meter is as before."""
    before = client.get(URL).json()
    if "raw" in case:
        r = client.post(
            f"{URL}/{case['path']}",
            content=case["raw"].encode("latin-1"),
            headers={"Content-Type": "application/json"},
        )
    else:
        r = client.post(f"{URL}/{case['path']}", json=case["body"])
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["code"] == case["code"]
    assert problem["detail"]
    assert client.get(URL).json() == before


def test_a_body_too_large_is_refused(client: TestClient) -> None:
    """A huge body is refused with its own code before it reaches the meter."""
    r = client.post(f"{URL}/keys", json={"keys": "1", "pad": "x" * 10_000})
    assert r.status_code == 422
    assert r.json()["code"] == "too_large"


def test_an_unknown_meter_is_404_with_a_code(client: TestClient) -> None:
    """A meter the desk does not hold is named in a 404, for reads and actions alike."""
    for r in (
        client.get("/api/meters/123"),
        client.post("/api/meters/123/keys", json={"keys": "1"}),
    ):
        assert r.status_code == 404
        assert r.json()["code"] == "no_such_meter"


def test_a_half_typed_token_times_out_when_the_page_polls(client: TestClient, clock: Clock) -> None:
    """The page's poll fires the meter's timers: digits left alone are cleared."""
    typed = _post(client, "keys", {"keys": "1234"})
    assert typed["lcd"].replace(" ", "").startswith("1234")
    clock.step(minutes=5)
    assert client.get(URL).json()["lcd"].startswith("CR 0")


def test_magnet_closes_the_valve_with_tamper(client: TestClient) -> None:
    """A magnet at the sensor raises the tamper alarm and closes the valve (it stays latched)."""
    _post(client, "keys", {"keys": token("10") + "#"})
    _post(client, "open-key", {})
    held = _post(client, "magnet", {"present": True})
    assert held["magnet"]
    assert "tamper" in held["alarms"]
    assert held["leds"]["alarm"]
    assert held["valve"] == {"open": False, "reason": "tamper"}
    gone = _post(client, "magnet", {"present": False})
    assert not gone["magnet"]
    assert "tamper" in gone["alarms"]
    assert _post(client, "magnet", {"present": False})["magnet"] is False  # idempotent


def test_battery_is_settable_and_replaceable(client: TestClient) -> None:
    """A low battery raises its alarms; a new battery reads 3.60 V."""
    low = _post(client, "battery", {"volts": "3.1"})
    assert low["battery_v"] == "3.10"
    assert {"battery_low_1", "battery_low_2"} <= set(low["alarms"])
    assert _post(client, "battery", {"volts": 3.5})["battery_v"] == "3.50"
    assert _post(client, "battery/replace", {})["battery_v"] == "3.60"


def test_power_cut_and_restore(client: TestClient) -> None:
    """Cutting the power closes the valve; the page shows the meter unpowered."""
    cut = _post(client, "power", {"on": False})
    assert cut["power"] is False
    assert not cut["valve"]["open"]
    assert _post(client, "power", {"on": True})["power"] is True


def test_fast_forward_moves_the_meters_clock(client: TestClient, clock: Clock) -> None:
    """+24 h puts the meter a day ahead of the app's clock, and it stays ahead."""
    ahead = _post(client, "advance", {"hours": 24})
    assert ahead["clock"] == "2026-05-05T09:00:00+00:00"
    assert ahead["ahead_hours"] == 24
    assert ahead["log"][-1] == "2026-05-05 09:00 +24 h"
    clock.step(hours=1)
    assert client.get(URL).json()["clock"] == "2026-05-05T10:00:00+00:00"


def test_state_survives_a_restart(tmp_path: Path, clock: Clock) -> None:
    """Credit, consumption, the tamper latch and the fast-forward come back from the NVM file."""
    state = tmp_path / "state"
    desk = MeterDesk.open([demo_meter_json()], state, clock=clock)
    with TestClient(create_app(desk)) as c:
        _post(c, "keys", {"keys": token("20") + "#"})
        _post(c, "open-key", {})
        _post(c, "flow", {"litres": 250})
        _post(c, "advance", {"hours": 48})
        _post(c, "magnet", {"present": True})
    assert desk.ids == []  # the app's shutdown closed the desk and its NVM file
    again = MeterDesk.open([demo_meter_json()], state, clock=clock)
    with TestClient(create_app(again)) as c:
        shown = c.get(URL).json()
    assert shown["credit"] == "19.75"
    assert "tamper" in shown["alarms"]
    assert shown["ahead_hours"] == 48


def test_the_page_and_its_files_are_served_with_a_strict_policy(client: TestClient) -> None:
    """One HTML page, its script and style from the app itself (no CDN); anything else is 404."""
    page = client.get("/")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert 'src="static/meter.js"' in page.text
    assert "http" not in page.text.split("<body>", 1)[1]
    assert client.get("/static/meter.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/meter.css").status_code == 200
    assert client.get("/static/secret.key").status_code == 404
    codes = client.get("/api/codes").json()["codes"]
    assert codes[0] == ["01", "remaining credit"]
    assert [c for c, _ in codes] == sorted(c for c, _ in codes)


def test_a_meter_object_given_twice_or_broken_is_refused(tmp_path: Path) -> None:
    """The desk refuses a duplicate meter or a bad meter object, and leaves no file open."""
    with pytest.raises(ViewError, match="twice"):
        MeterDesk.open([demo_meter_json(), demo_meter_json()], tmp_path)
    with pytest.raises(ViewError, match="meter"):
        MeterDesk.open([{"pan": "123"}], tmp_path)


def test_concurrent_requests_keep_each_token_whole(tmp_path: Path, clock: Clock) -> None:
    """Eight requests at once, each a whole token: each reaches the meter uninterleaved,
    so every token is accepted once and the credit is their sum."""
    from concurrent.futures import ThreadPoolExecutor

    desk = MeterDesk.open([demo_meter_json()], tmp_path / "state", clock=clock)
    tokens = [token("2", minutes=i + 1) for i in range(8)]
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda t: desk.press(DRN, t + "#"), tokens))
        shown = desk.state(DRN)
    finally:
        desk.close()
    assert shown.credit == "16"
    assert sum("token accepted" in line for line in shown.log) == 8
