"""Fixtures of the job tests: a local SMS gateway double, stored unsent replies, and a
PostgreSQL database of the job tests' own (the queue's tables must not land in the
shared test database, whose schema is compared with the models)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from stsgas.vending.db import make_engine, make_sessionmaker
from stsgas.vending.migrations import upgrade
from stsgas.vending.sms import repository as sms_repo
from stsgas.vending.sms.service import Inbound
from tests.vending.empty_pg import empty_database


@dataclass
class GatewayDouble:
    """A real HTTP SMS gateway on 127.0.0.1: answers the statuses in ``answers`` in turn
    (the last one for ever after) and keeps every message it was posted."""

    answers: list[int]
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def gateway() -> Iterator[GatewayDouble]:
    """The gateway double, accepting everything until a test sets ``answers``."""
    double = GatewayDouble(answers=[200])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            double.received.append(json.loads(body))
            status = double.answers.pop(0) if len(double.answers) > 1 else double.answers[0]
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    double.url = f"http://127.0.0.1:{server.server_address[1]}/send"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield double
    server.shutdown()
    server.server_close()


def store_unsent_reply(sm: sessionmaker[Session], *, phone: str, reference: str) -> None:
    """An inbound SMS answered but whose reply the gateway refused (as the webhook leaves it)."""
    now = datetime(2026, 6, 1, tzinfo=UTC)
    with sm.begin() as s:
        sms_repo.add_record(
            s,
            scope=Inbound(phone=phone, text="", message_id=reference).scope,
            key=reference,
            fingerprint="f" * 64,
            now=now,
            done=True,
            body={"reply": f"reply to {reference}", "sent": False, "status": "replied"},
        )


def reply_sent(sm: sessionmaker[Session], *, phone: str, reference: str) -> bool:
    """Whether the stored reply is marked sent."""
    with sm() as s:
        scope = Inbound(phone=phone, text="", message_id=reference).scope
        rec = sms_repo.get_record(s, scope, reference)
        assert rec is not None
        assert rec.response_body is not None
        return bool(rec.response_body["sent"])


@pytest.fixture
def jobs_pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one job test (dropped after it)."""
    with empty_database("test_jobs") as base:
        url = base.render_as_string(hide_password=False)
        engine = make_engine(url, pool_size=1)
        upgrade(url, engine=engine)
        engine.dispose()
        yield url


@pytest.fixture
def jobs_pg_sm(jobs_pg_url: str) -> Iterator[sessionmaker[Session]]:
    """A sessionmaker on the job test's database."""
    engine = make_engine(jobs_pg_url, pool_size=2)
    yield make_sessionmaker(engine)
    engine.dispose()
