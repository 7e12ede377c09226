"""``stsgas serve --workers 2``: every scrape of ``/metrics``, whichever worker answers it,
counts the sales of both workers (prometheus multiprocess mode), and the temporary
metrics folder serve made is gone when it stops."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from stsgas.vending import demo
from tests.processes import answer, free_port, running

SALES = 4


def _issued(text: str) -> tuple[float, set[str]]:
    """Issued sales over all workers, and the pids the pool gauge reports."""
    issued, pids = 0.0, set()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "stsgas_sales_total" and s.labels.get("outcome") == "issued":
                issued += s.value
            if s.name == "stsgas_db_pool_in_use":
                pids.add(s.labels.get("pid", ""))
    return issued, pids


def test_scrapes_sum_the_workers(tmp_path: Path) -> None:
    """Sales over fresh connections land on either worker; each of several scrapes
    (fresh connections too) reports all of them."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("STSGAS_") and k != "PROMETHEUS_MULTIPROC_DIR"
    }
    env["STSGAS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'stsgas.db'}"
    env["TMPDIR"] = str(tmp_path)
    args = [
        sys.executable,
        "-m",
        "stsgas",
        "serve",
        "--demo",
        "--workers",
        "2",
        "--port",
        str(port),
    ]
    with running(
        args, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        login = answer(
            lambda: httpx.post(
                f"{base}/api/v1/auth/login",
                timeout=5,
                json={"username": "cashier", "password": "demo-cashier"},
            ),
            proc,
            seconds=60,
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        meter = demo.meter_numbers()[0]
        for _ in range(SALES):
            r = httpx.post(
                f"{base}/api/v1/sales",
                headers=headers,
                timeout=10,
                json={"meter_number": meter, "amount": "150", "channel": "pos"},
            )
            assert r.status_code == 201, r.text
        folders = list(tmp_path.glob("stsgas-metrics-*"))
        assert len(folders) == 1
        assert list(folders[0].glob("*.db"))  # the workers' metric files
        seen: set[str] = set()
        for _ in range(6):
            issued, pids = _issued(httpx.get(f"{base}/metrics", timeout=10).text)
            assert issued == SALES
            seen |= pids
        assert "" not in seen  # per worker: each pool gauge sample carries its pid
    assert not list(tmp_path.glob("stsgas-metrics-*"))
