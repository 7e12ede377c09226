"""The README's demo path, end to end: pay by (simulated) mobile money, token by SMS, meter.

Real processes as ``make run`` starts them: ``stsgas serve --demo`` on a fresh folder,
which starts the mobile-money simulator as its child; Debian's chromium pays on the
simulator's HTML form, reads the token in the console's SMS log and types it on the
virtual meter's keypad. When the server stops, its simulator is gone too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.docs_examples import Command, blocks, commands, matches
from tests.meterweb.support import free_port
from tests.meterweb.test_browser import METER, _click_keys, browser_page
from tests.processes import answer, spawn, stop
from tests.vending.chromium import browser, sign_in  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SIM_LINE = re.compile(r"mobile-money simulator at (http://127\.0\.0\.1:\d+)/ ")


def _wait_ok(url: str, proc: subprocess.Popen[str], log: Path) -> None:
    answer(lambda: httpx.get(url, timeout=2), proc, seconds=60, status=200, detail=log.read_text)


@contextmanager
def demo_with_simulator(folder: Path) -> Iterator[tuple[str, str]]:
    """``stsgas serve --demo`` in ``folder``; yields its URL and its simulator's URL
    (read from the start-up lines), and checks the simulator ends with the server."""
    port = free_port()
    env = {
        **os.environ,
        "STSGAS_DATABASE_URL": f"sqlite:///{folder / 'var' / 'stsgas.db'}",
        "STSGAS_LOG_FORMAT": "console",
    }
    for name in [n for n in env if n.startswith(("STSGAS_MASTER_KEY", "STSGAS_MPESA_"))]:
        del env[name]
    log = folder / "serve.log"
    with log.open("w") as out:
        proc = spawn(
            [sys.executable, "-m", "stsgas", "serve", "--demo", "--port", str(port)],
            env=env,
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ok(f"{url}/meter/api/meters", proc, log)
        found = SIM_LINE.search(log.read_text())
        assert found is not None, log.read_text()
        sim = found.group(1)
        _wait_ok(f"{sim}/", proc, log)
        yield url, sim
    finally:
        stop(proc, timeout=20)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{sim}/", timeout=2)  # the child went with the server


def _token_sms(page: Page, count: int = 1) -> list[tuple[str, str]]:
    """The tokens and m³ of the payments' SMS in the console's SMS log, once ``count``
    show (each comes when the simulator's callback is handled: reload until then)."""
    deadline = time.monotonic() + 60
    while True:
        page.goto("/console/sms")
        text = page.locator("main").inner_text()
        found = re.findall(r"Paid [\d.]+ for meter \d+: ([\d.]+) m3\. Token (\d{20})", text)
        if len(found) >= count:
            return [(digits, m3) for m3, digits in found]
        assert time.monotonic() < deadline, f"{len(found)} token SMS in the log: {text}"
        time.sleep(0.5)


def _readme_pay() -> Command:
    """The README's ``stsgas payments pay`` command (and the output it shows)."""
    found = [
        c
        for b in blocks(ROOT / "README.md")
        if b.lang == "console"
        for c in commands(b)
        if "payments pay" in c.command
    ]
    assert len(found) == 1
    return found[0]


def test_pay_on_the_simulator_read_the_sms_type_the_token(
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Pay 500.00 for the demo meter on the simulator's form → the token SMS shows in
    the console's SMS log → typed on the meter page's keypad, the LCD shows the credit."""
    with demo_with_simulator(tmp_path) as (url, sim), browser_page(browser, url) as page:
        page.goto(f"{sim}/")
        page.get_by_label("Account (meter number or customer account)").fill(METER)
        page.get_by_label("Amount").fill("500.00")
        page.get_by_role("button", name="Pay").click()
        expect(page.get_by_role("status")).to_contain_text("Paid: transaction SIM")

        sign_in(page, "admin", "demo-admin")
        ((digits, m3),) = _token_sms(page)
        expect(page.locator("main")).to_contain_text("*********101")  # Amina's phone

        page.goto(f"/meter/#{METER}")
        expect(page.locator("#meter-number")).to_have_text(METER)
        lcd = page.locator("#lcd")
        expect(lcd).to_contain_text("CR 0")
        _click_keys(page, digits + "#")
        expect(page.locator("#credit")).to_have_text(f"{m3} m³")
        expect(lcd).to_contain_text(m3)
        expect(page.locator("#log")).to_contain_text("token accepted")
        page.screenshot(path="/tmp/stsgas-demo-path.png", full_page=True)


def test_the_readmes_pay_command_pays_a_demo_meter(
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The README's command line (pointed at this run's simulator) buys a token by SMS."""
    cmd = _readme_pay()
    with demo_with_simulator(tmp_path) as (url, sim), browser_page(browser, url) as page:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STSGAS_")}
        run = subprocess.run(
            ["bash", "-c", f"{cmd.command} --sim {sim}"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        assert matches(cmd.expected, run.stdout.splitlines()), run.stdout
        sign_in(page, "admin", "demo-admin")
        assert len(_token_sms(page)) == 1
