"""Field probes of the meter page's API: hostile bodies, a clock pushed for years, and
two servers on one state folder."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from stsgas.meter.demo import demo_meter_json
from stsgas.meterweb import MeterDesk, create_app
from stsgas.meterweb.desk import MAX_HOURS
from tests.meterweb.support import T0, Clock, TestClient, free_port, start_meter_web
from tests.processes import stop

DRN = "00000000000"  # the demo meter's DRN
URL = f"/api/meters/{DRN}"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    desk = MeterDesk.open([demo_meter_json()], tmp_path / "state", clock=Clock(T0))
    with TestClient(create_app(desk)) as c:
        yield c


def test_deeply_nested_json_is_a_clear_error(client: TestClient) -> None:
    """A small body nested thousands deep is bad JSON (422), not a server error."""
    body = '{"keys": ' + "[" * 2000 + "]" * 2000 + "}"
    r = client.post(f"{URL}/keys", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["code"] == "bad_json"


def test_a_huge_streamed_body_is_refused(client: TestClient) -> None:
    """A body streamed past the limit is refused as too_large, whatever its length header."""

    def chunks() -> Iterator[bytes]:
        yield b'{"keys": "'
        for _ in range(1000):
            yield b"1" * 1024

    r = client.post(f"{URL}/keys", content=chunks())
    assert r.status_code == 422
    assert r.json()["code"] == "too_large"


def test_fast_forward_to_the_calendar_end_is_refused_and_kept(tmp_path: Path) -> None:
    """Fast-forwarding again and again is refused once the meter's calendar (to 2099) would
    end, not a server error; what was accepted survives a restart (the clock never goes
    back). The app's clock starts in 2097 so that takes a few requests."""
    state = tmp_path / "state"
    late = datetime(2097, 6, 1, tzinfo=UTC)
    desk = MeterDesk.open([demo_meter_json()], state, clock=Clock(late))
    with TestClient(create_app(desk)) as c:
        last = c.get(URL).json()
        for _ in range(5):
            r = c.post(f"{URL}/advance", json={"hours": MAX_HOURS})
            if r.status_code != 200:
                assert r.status_code == 422
                assert r.json()["code"] == "bad_hours"
                break
            last = r.json()
        assert r.status_code == 422
        assert c.get(URL).status_code == 200
    desk = MeterDesk.open([demo_meter_json()], state, clock=Clock(late))
    with TestClient(create_app(desk)) as c:
        again = c.get(URL).json()
    assert again["ahead_hours"] == last["ahead_hours"]
    assert again["clock"] >= last["clock"]


def test_a_second_server_on_the_same_state_folder_exits(tmp_path: Path) -> None:
    """``stsgas meter web`` twice on one folder: the second says so in one line and exits 2;
    the first keeps serving."""
    state = tmp_path / "meters"
    proc, port, first = start_meter_web(state)
    url = f"http://127.0.0.1:{port}/api/meters"
    try:
        assert first.status_code == 200
        second = subprocess.run(
            [sys.executable, "-m", "stsgas", "meter", "web", "--state", str(state),
             "--port", str(free_port())],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert second.returncode == 2
        assert "in use" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
        assert httpx.get(url, timeout=2).status_code == 200
    finally:
        stop(proc)


def test_an_unwritable_state_folder_is_a_one_line_error(tmp_path: Path) -> None:
    """A state folder that cannot be made (a file is in the way) is one line, exit 2."""
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "stsgas", "meter", "web", "--state", str(blocker / "meters"),
         "--port", str(free_port())],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1
    assert "meters" in r.stderr


@pytest.mark.parametrize(
    "path",
    [
        "/api/meters/..%2F..%2Fetc%2Fpasswd",
        "/api/meters/%2e%2e",
        "/api/meters/00000000000%00",
        "/api/meters/%D9%A0%D9%A0%D9%A0",
        "/api/meters/" + "9" * 3000,
    ],
)
def test_odd_meter_numbers_in_urls_are_no_such_meter(client: TestClient, path: str) -> None:
    """A URL naming no meter (a path, a NUL, other digits, a long number) is 404 and
    touches no file: the number is only a key into the desk's meters."""
    for r in (client.get(path), client.post(path + "/keys", json={"keys": "1"})):
        assert r.status_code == 404
        assert "root:" not in r.text
        # a decoded %2F leaves the meter routes altogether: the framework's plain 404
        assert r.json().get("code", "no_such_meter") == "no_such_meter"


def _whole_answer(s: socket.socket) -> str:
    """Head and body of one HTTP answer: the server may write them in two pieces, so
    read until the body its content-length names is in (or the server closes)."""
    data = b""
    while True:
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            if len(body) >= length:
                return data.decode("latin-1")
        piece = s.recv(4096)
        if not piece:
            return data.decode("latin-1")
        data += piece


def test_a_body_announced_too_large_is_refused_before_it_arrives(tmp_path: Path) -> None:
    """A client that announces a gigabyte and sends a few bytes gets too_large at once: the
    server does not wait for (or buffer) a body it would refuse anyway."""
    proc, port, listed = start_meter_web(tmp_path / "m")
    try:
        first = listed.json()["meters"][0]["id"]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(
                f"POST /api/meters/{first}/keys HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n"
                '{"keys": "1'.encode()
            )
            answer = _whole_answer(s)
        assert answer.startswith("HTTP/1.1 422")
        assert "too_large" in answer
    finally:
        stop(proc)
