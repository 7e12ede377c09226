"""``serve --demo``'s composition: the console at /, the meter page at /meter/, one process."""

from __future__ import annotations

from pathlib import Path

import pytest

from stsgas.cli.meter_web import compose, demo_meters
from stsgas.meterweb import MeterDesk, create_app
from stsgas.vending.server import build_app, prepare
from stsgas.vending.settings import Settings
from tests.meterweb.support import Clock, TestClient


def _composed(tmp_path: Path, meter_page_url: str | None) -> tuple[TestClient, MeterDesk]:
    url = f"sqlite:///{tmp_path / 'stsgas.db'}"
    done = prepare(Settings(database_url=url, demo=True))
    settings = done.settings.model_copy(
        update={"meter_page_url": meter_page_url, "jobs_in_process": False}
    )
    desk = MeterDesk.open(demo_meters(), tmp_path / "meters", clock=Clock())
    app = compose(build_app(settings), create_app(desk))
    return TestClient(app, follow_redirects=False), desk


def _sign_in(client: TestClient) -> str:
    r = client.post("/console/login", data={"username": "cashier", "password": "demo-cashier"})
    assert r.status_code == 303
    return str(client.get(r.headers["location"]).text)


@pytest.mark.parametrize("link", ["/meter/", None])
def test_one_app_serves_both_and_the_menu_links_the_meter_page(
    tmp_path: Path, link: str | None
) -> None:
    """Both halves answer on their paths; the console's menu has the meter page's link
    exactly when its address is configured; shutting down closes the meters' NVM files."""
    client, desk = _composed(tmp_path, link)
    with client:
        assert client.get("/meter").headers["location"] == "/meter/"
        assert "Virtual meter" in client.get("/meter/").text
        meters = client.get("/meter/api/meters").json()["meters"]
        assert [m["id"] for m in meters] == ["01000000016", "01000000024", "01000000032"]
        assert client.get("/api/v1/openapi.json").status_code == 200
        assert client.get("/meter/api/v1/openapi.json").status_code == 404
        menu = _sign_in(client)
        assert ('href="/meter/">Virtual meter</a>' in menu) is (link is not None)
        assert desk.ids != []
    assert desk.ids == []
