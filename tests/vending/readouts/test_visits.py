"""Visit flags through the API: which events send someone, and what a visit clears."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import AuditEntry
from tests.vending.conftest import auth
from tests.vending.readouts.office import Office, as_bytes, readout_bytes, readout_json


def test_visit_worthy_events_flag_the_meter_until_it_is_visited(
    client: TestClient, office: Office, supervisor_token: str, auditor_token: str, engine: Engine
) -> None:
    """Readout A has a valve that failed to close (and a power-down, which is no reason):
    the meter is listed; a visit clears it; a readout taken after the visit repeats the
    old failure (still cleared) and adds a leak shut-off after the visit: flagged again."""
    url = f"/api/v1/meters/{office.volume_id}/readouts"
    assert (
        client.post(
            url, content=readout_bytes("office-a.json"), headers=auth(supervisor_token)
        ).status_code
        == 201
    )
    flags = client.get("/api/v1/meters/visits", headers=auth(auditor_token)).json()
    assert [(f["meter_number"], f["codes"], f["events"]) for f in flags] == [
        (office.volume_pan, ["valve_close_failure"], 1)
    ]
    assert flags[0]["last_visit"] is None
    visited = client.post(
        f"/api/v1/meters/{office.volume_id}/visits",
        json={"note": "valve replaced"},
        headers=auth(supervisor_token),
    )
    assert visited.status_code == 201, visited.text
    assert client.get("/api/v1/meters/visits", headers=auth(auditor_token)).json() == []
    later = readout_json("office-b.json")  # read after the visit: a leak shut-off since
    after = datetime.fromisoformat(visited.json()["visited_at"]) + timedelta(minutes=5)
    later["events"][-1]["at"] = after.isoformat()
    later["read_at"] = (after + timedelta(minutes=5)).isoformat()
    assert client.post(url, content=as_bytes(later), headers=auth(supervisor_token)).is_success
    flags = client.get("/api/v1/meters/visits", headers=auth(auditor_token)).json()
    assert [(f["codes"], f["events"]) for f in flags] == [(["leak_shutoff"], 1)]
    assert flags[0]["last_visit"] == visited.json()["visited_at"]
    history = client.get(
        f"/api/v1/meters/{office.volume_id}/history", headers=auth(auditor_token)
    ).json()
    assert [(e["code"], e["needs_visit"]) for e in history["events"]] == [
        ("power_down", False),
        ("valve_close_failure", False),
        ("leak_shutoff", True),
    ]
    assert history["visit"]["codes"] == ["leak_shutoff"]
    with make_sessionmaker(engine)() as s:
        entry = s.execute(
            select(AuditEntry).where(AuditEntry.action == "meter.visited")
        ).scalar_one()
    assert entry.actor == "supervisor"
    assert entry.data["note"] == "valve replaced"
    assert entry.data["codes"] == ["valve_close_failure"]


def test_events_that_need_no_visit_raise_no_flag(
    client: TestClient, office: Office, supervisor_token: str
) -> None:
    """Power down and up, a battery replaced: nobody needs to go."""
    data = readout_json("office-a.json")
    data["events"] = [
        {"at": "2026-10-02T06:00:00+00:00", "code": "power_down", "detail": ""},
        {"at": "2026-10-02T07:00:00+00:00", "code": "power_up", "detail": ""},
        {"at": "2026-10-03T07:00:00+00:00", "code": "battery_replacement", "detail": ""},
    ]
    r = client.post(
        "/api/v1/meters/readouts", content=as_bytes(data), headers=auth(supervisor_token)
    )
    assert r.status_code == 201, r.text
    assert client.get("/api/v1/meters/visits", headers=auth(supervisor_token)).json() == []


def test_marking_visited_needs_meters_write(
    client: TestClient, office: Office, auditor_token: str, cashier_token: str
) -> None:
    """An auditor and a cashier may read the list but not record a visit."""
    for token in (auditor_token, cashier_token):
        r = client.post(f"/api/v1/meters/{office.volume_id}/visits", json={}, headers=auth(token))
        assert r.status_code == 403
        assert client.get("/api/v1/meters/visits", headers=auth(token)).status_code == 200


def test_visiting_an_unknown_meter_is_404(client: TestClient, supervisor_token: str) -> None:
    """The meter must exist; nothing is recorded."""
    r = client.post("/api/v1/meters/999999/visits", json={}, headers=auth(supervisor_token))
    assert r.status_code == 404
    assert r.json()["code"] == "meter_not_found"
