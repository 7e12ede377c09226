"""The meter page with readouts (console client, both backends): upload by form, the
charts drawn on the server, settings as read, the visit flag and "mark visited"."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import AuditEntry, MeterVisit, Readout
from tests.vending.readouts.office import Office, readout_bytes


def _main(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


def _upload(console: TestClient, meter_id: int, csrf: str, name: str) -> str:
    r = console.post(
        f"/console/meters/{meter_id}/readout",
        data={"csrf": csrf},
        files={"file": (name, readout_bytes(name), "application/json")},
    )
    assert r.status_code == 200, r.text
    return _main(r.text)


def test_an_uploaded_readout_draws_charts_and_flags_a_visit(
    console: TestClient, signed_in: Callable[[str], str], office: Office, engine: Engine
) -> None:
    """120 monthly bars, 336 hourly bars, 6 event marks (2 needing a visit), the last
    readout's time, settings as read, the flag; "mark visited" clears it and is audited."""
    csrf = signed_in("shopsuper")
    html = _upload(console, office.volume_id, csrf, "office-120m.json")
    assert "Readout uploaded and merged." in html
    monthly = html[html.index('id="monthly-chart"') : html.index('id="hourly-chart"')]
    assert monthly.count('<rect class="bar"') == 120
    hourly = html[html.index('id="hourly-chart"') : html.index('id="events-chart"')]
    assert hourly.count('<rect class="bar"') == 336
    assert html.count('class="event alert"') == 2
    assert html.count('class="event"') == 4
    assert "Last read 2026-12-05 07:00 UTC" in html
    assert "<dt>timezone</dt><dd>Africa/Nairobi</dd>" in html
    assert "<dt>total_m3</dt><dd>2044.887</dd>" in html
    # nothing was ever sold to it: every month is beyond sold + overdraft, said in short
    assert "in 120 months, from 2017-01 to 2026-12: a possible bypass" in html
    assert html.count('<tr class="flagged"') == 24  # the newest 24 months in the table
    flag = re.search(r'id="visit-flag">\s*([^<]+)<', html)
    assert flag is not None
    assert "Magnetic interference" in flag.group(1)
    assert "Battery low" in flag.group(1)
    again = _upload(console, office.volume_id, csrf, "office-120m.json")
    assert "uploaded before; nothing was added" in again
    listed = _main(console.get("/console/visits").text)
    assert f'data-meter="{office.volume_pan}"' in listed
    visited = console.post(
        f"/console/meters/{office.volume_id}/visited",
        data={"csrf": csrf, "note": "magnet removed, battery swapped"},
    )
    assert visited.status_code == 200
    assert 'id="visit-flag"' not in visited.text
    assert "No meter needs a visit." in console.get("/console/visits").text
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(Readout)).scalar_one() == 1
        visit = s.execute(select(MeterVisit)).scalar_one()
        assert visit.note == "magnet removed, battery swapped"
        actions = s.execute(
            select(AuditEntry.action, AuditEntry.actor).where(
                AuditEntry.object_id == str(office.volume_id)
            )
        ).all()
    assert ("meter.visited", "shopsuper") in actions
    assert ("meter.readout", "shopsuper") in actions


def test_a_stale_form_uploads_nothing_and_a_bad_file_says_why(
    console: TestClient, signed_in: Callable[[str], str], office: Office, engine: Engine
) -> None:
    """No CSRF value: 403 and nothing kept; another meter's file: the API's reason; no
    file chosen: a page that says so."""
    csrf = signed_in("shopsuper")
    r = console.post(
        f"/console/meters/{office.amount_id}/readout",
        data={"csrf": "stale"},
        files={"file": ("a.json", readout_bytes("office-amount.json"), "application/json")},
    )
    assert r.status_code == 403
    r = console.post(
        f"/console/meters/{office.amount_id}/readout",
        data={"csrf": csrf},
        files={"file": ("a.json", readout_bytes("office-a.json"), "application/json")},
    )
    assert r.status_code == 422
    assert "read from meter" in r.text
    no_file = console.post(f"/console/meters/{office.amount_id}/readout", data={"csrf": csrf})
    assert no_file.status_code == 422
    assert "Choose the readout file" in no_file.text
    stale_visit = console.post(f"/console/meters/{office.amount_id}/visited", data={"csrf": "x"})
    assert stale_visit.status_code == 403
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(Readout)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(MeterVisit)).scalar_one() == 0


def test_a_cashier_has_no_visit_list(
    console: TestClient, signed_in: Callable[[str], str], office: Office
) -> None:
    """The visit list is a supervisor's and an admin's page."""
    signed_in("shopcashier")
    r = console.get("/console/visits")
    assert r.status_code == 403
