"""``stsgas meter web``: the page alone, as a real process, on a state folder."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from stsgas.cli import main
from stsgas.meter.demo import demo_meter_json
from tests.meterweb.support import start_meter_web
from tests.processes import stop

ROOT = Path(__file__).resolve().parents[2]


def test_meter_web_serves_the_demo_meters_and_keeps_their_state(tmp_path: Path) -> None:
    """The page's API answers for the three demo meters; their NVM files are in --state and
    a second run resumes them; SIGTERM stops it cleanly."""
    state = tmp_path / "meters"
    for attempt in range(2):
        proc, port, listed = start_meter_web(state)
        url = f"http://127.0.0.1:{port}/api/meters"
        try:
            meters = listed.json()["meters"]
            first = meters[0]["id"]
            if attempt == 0:
                r = httpx.post(f"{url}/{first}/keys", json={"keys": "12"}, timeout=5)
                assert r.status_code == 200
                r = httpx.post(f"{url}/{first}/advance", json={"hours": 30}, timeout=5)
                assert r.json()["ahead_hours"] == 30
            else:
                assert meters[0]["ahead_hours"] == 30
        finally:
            out, _ = stop(proc)
        assert [m["id"] for m in meters] == ["01000000016", "01000000024", "01000000032"]
        assert f"http://127.0.0.1:{port}/" in out
    assert sorted(p.name for p in state.glob("*.nvm")) == [f"{m['id']}.nvm" for m in meters]


def test_meter_web_with_a_config_serves_that_meter(tmp_path: Path) -> None:
    """--config FILE puts that meter on the page instead of the demo meters."""
    config = tmp_path / "meter.json"
    config.write_text(json.dumps({"meter": demo_meter_json()}), encoding="utf-8")
    proc, _, r = start_meter_web(tmp_path / "s", "--config", str(config))
    try:
        assert [m["pan"] for m in r.json()["meters"]] == ["600727000000000009"]
    finally:
        stop(proc)


@pytest.mark.parametrize(
    "config",
    [ROOT / "tests" / "data" / "meter" / "bad_meter.json", Path("missing.json")],
    ids=["bad-meter", "missing"],
)
def test_a_bad_meter_config_is_one_line_and_exit_2(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unusable meter object stops the command before it listens: one line, exit 2."""
    code = main(["meter", "web", "--state", str(tmp_path), "--config", str(config)])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err
