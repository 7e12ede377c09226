"""No secret in any log line: a real ``stsgas serve`` at DEBUG, with logins (API and
console), a wrong password, a sale, a vending key load, SMS with both gateway secrets and
a master key file; none of those secrets (nor the bearer and STS tokens issued) is in
its log. (The SMS channel has no PINs.)"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from stsgas.vending import demo
from tests.processes import answer, free_port, running, stop
from tests.vending.jobs.conftest import (  # noqa: F401 (fixtures)
    GatewayDouble,
    gateway,
    jobs_pg_url,
)

STSGAS = str(Path(sys.executable).with_name("stsgas"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, list[str]]:
    """The server's database URL and its secrets: PostgreSQL's URL carries a password
    (the test server trusts local connections, so any password works)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'stsgas.db'}", []
    password = "pg-" + secrets.token_hex(10)
    url = make_url(request.getfixturevalue("jobs_pg_url")).set(password=password)
    return url.render_as_string(hide_password=False), [password]


def test_debug_server_logs_no_secret(
    tmp_path: Path,
    gateway: GatewayDouble,  # noqa: F811
    database: tuple[str, list[str]],
) -> None:
    """Everything a DEBUG server writes, parsed as JSON lines, holds none of the secrets
    that passed through it, while it did log the requests (with their ids)."""
    db_url, db_secrets = database
    master_hex = secrets.token_hex(32)
    key_file = tmp_path / "master.key"
    key_file.write_text(master_hex + "\n")
    key_file.chmod(0o600)
    vending_key = secrets.token_hex(20)
    inbound_token = "in-" + secrets.token_hex(12)
    outbound_token = "out-" + secrets.token_hex(12)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "STSGAS_DATABASE_URL": db_url,
        "STSGAS_MASTER_KEY_FILE": str(key_file),
        "STSGAS_LOG_LEVEL": "DEBUG",
        "STSGAS_LOG_FORMAT": "json",
        "STSGAS_SMS_INBOUND_TOKEN": inbound_token,
        "STSGAS_SMS_GATEWAY_URL": gateway.url,
        "STSGAS_SMS_GATEWAY_TOKEN": outbound_token,
    }
    gateway.answers = [503, 200]  # the first reply is refused: a resend job is deferred
    logins = {login.username: login.password for login in demo.logins()}
    secrets_seen = [master_hex, vending_key, inbound_token, outbound_token, *db_secrets]
    secrets_seen += logins.values()
    with (
        open(tmp_path / "out.txt", "w") as out,
        open(tmp_path / "err.txt", "w") as err,
        running(
            [STSGAS, "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=err,
            cwd=tmp_path,
        ) as proc,
    ):
        answer(lambda: httpx.get(f"{base}/healthz", timeout=1), proc, seconds=90, status=200)
        with httpx.Client(base_url=base, timeout=30) as c:
            bad = c.post(
                "/api/v1/auth/login",
                json={"username": "admin", "password": "wrong-" + logins["admin"]},
                headers={"X-Request-ID": "bad-login-1"},
            )
            assert bad.status_code == 401
            assert bad.json()["request_id"] == "bad-login-1"
            tokens = {}
            for user in ("admin", "cashier"):
                r = c.post("/api/v1/auth/login", json={"username": user, "password": logins[user]})
                assert r.status_code == 200, r.text
                tokens[user] = r.json()["access_token"]
            secrets_seen += tokens.values()
            meter = demo.meter_numbers()[0]
            sale = c.post(
                "/api/v1/sales",
                json={"meter_number": meter, "amount": "500", "channel": "pos"},
                headers={"Authorization": f"Bearer {tokens['cashier']}"},
            )
            assert sale.status_code == 201, sale.text
            secrets_seen += [t["digits"] for t in sale.json()["tokens"]]
            group = c.post(
                "/api/v1/supply-groups",
                json={"sgc": "654321", "krn": 1, "dkga": 4, "vending_key": vending_key},
                headers={"Authorization": f"Bearer {tokens['admin']}"},
            )
            assert group.status_code == 201, group.text
            console = c.post(
                "/console/login",
                data={"username": "supervisor", "password": logins["supervisor"]},
            )
            assert console.status_code in (200, 303), console.text
            sms = c.post(
                "/api/v1/sms/inbound",
                json={"from": "+255700000001", "text": "HELP", "message_id": "s-1"},
                headers={"X-Gateway-Token": inbound_token},
            )
            assert sms.status_code == 200, sms.text
        assert gateway.received  # the reply went to the gateway with the outbound token
        stop(proc)
    log = (tmp_path / "err.txt").read_text()
    leaked = [s for s in secrets_seen if s in log]
    assert leaked == [], f"{len(leaked)} secret(s) in the server's log"
    # stdout is the start-up message: the demo logins are printed there on purpose, and
    # nothing else secret
    shown = (tmp_path / "out.txt").read_text()
    assert [s for s in secrets_seen if s in shown and s not in logins.values()] == []
    lines = [json.loads(line) for line in (tmp_path / "err.txt").read_text().splitlines()]
    assert any(line["level"] == "debug" for line in lines)
    requests = [line for line in lines if line.get("event") == "request"]
    assert any(r["path"] == "/api/v1/sales" and r["status"] == 201 for r in requests)
    assert any(r.get("request_id") == "bad-login-1" for r in requests)
