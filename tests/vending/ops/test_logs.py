"""Structured logs: one renderer, the request id on log lines and in every problem+json,
secrets masked by the renderer (the server-process test is in test_logs_secrets)."""

from __future__ import annotations

import io
import json
import logging
import string
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from stsgas.vending import logs

LOGGER = "stsgas.test.logs"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Lines written through the stsgas formatter by the root logger, as JSON."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.formatter("json"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # an in-process uvicorn of another test (log_level="warning") leaves its loggers
    # quieter than a served app's; start from what logs.dict_config gives them
    uvicorn_loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.access", "uvicorn.error")]
    saved = [(lg.level, lg.propagate, lg.disabled, list(lg.handlers)) for lg in uvicorn_loggers]
    for lg in uvicorn_loggers:
        lg.setLevel(logging.NOTSET)
        lg.propagate, lg.disabled, lg.handlers = True, False, []
    yield out
    for lg, (level, propagate, disabled, handlers) in zip(uvicorn_loggers, saved, strict=True):
        lg.setLevel(level)
        lg.propagate, lg.disabled, lg.handlers = propagate, disabled, handlers
    root.removeHandler(handler)
    root.setLevel(old_level)


def _lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_problem_json_and_log_lines_carry_the_request_id(
    client: TestClient, captured: io.StringIO
) -> None:
    """A client's X-Request-ID comes back in the header and in the problem+json body, and
    an error logged while that request ran carries it too."""
    r = client.get("/api/v1/meters", headers={"X-Request-ID": "req-one-42"})
    assert r.status_code == 401
    assert r.headers["x-request-id"] == "req-one-42"
    assert r.json()["request_id"] == "req-one-42"
    # a validation problem and the SMS webhook's own problems carry it as well
    r = client.post("/api/v1/auth/token", json={"nothing": 1})
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["request_id"] == r.headers["x-request-id"]
    r = client.post("/api/v1/sms/inbound", json={}, headers={"X-Request-ID": "sms-7"})
    assert (r.status_code, r.json()["request_id"]) == (401, "sms-7")


def test_a_line_logged_during_a_request_names_it(captured: io.StringIO) -> None:
    """The id bound for a request is on every line logged in its context, and in no
    other context."""
    import contextvars

    def handle() -> None:
        logs.bind_request_id("abc-123")
        logging.getLogger(LOGGER).warning("sale refused", extra={"meter": "01000000016"})

    contextvars.copy_context().run(handle)
    logging.getLogger(LOGGER).warning("outside any request")
    inside, outside = _lines(captured)
    assert inside["request_id"] == "abc-123"
    assert inside["event"] == "sale refused"
    assert inside["meter"] == "01000000016"
    assert inside["level"] == "warning"
    assert inside["logger"] == LOGGER
    assert "request_id" not in outside


def test_secret_fields_and_bearer_text_are_masked(captured: io.StringIO) -> None:
    """A field named like a secret, or a bearer token or password in a message, is
    replaced by ***, however it got there."""
    log = logging.getLogger(LOGGER)
    log.warning(
        "login failed for Authorization: Bearer sk-live-9f8e7d password=hunter2",
        extra={"password": "hunter2", "form": {"username": "ann", "pin": "4321"}},
    )
    (line,) = _lines(captured)
    text = json.dumps(line)
    for secret in ("sk-live-9f8e7d", "hunter2", "4321"):
        assert secret not in text
    assert line["password"] == logs.MASK
    assert line["form"] == {"username": "ann", "pin": logs.MASK}


def test_console_rendering_is_text_not_json() -> None:
    """STSGAS_LOG_FORMAT=console renders a line for a person: level and event in text."""
    record = logging.LogRecord(LOGGER, logging.INFO, __file__, 1, "server ready", None, None)
    line = logs.formatter("console").format(record)
    assert "server ready" in line
    assert "info" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_uvicorn_access_line_becomes_fields(captured: io.StringIO) -> None:
    """uvicorn's access line is rendered as fields, and its query string is dropped (a
    query could carry what the client should have posted)."""
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "10.0.0.9:5123", "GET", "/api/v1/meters?q=x", "1.1", 200
    )
    (line,) = _lines(captured)
    assert line["event"] == "request"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/v1/meters", 200)
    assert line["client"] == "10.0.0.9:5123"


def test_sql_logger_stays_quiet_at_debug() -> None:
    """At DEBUG the SQL statement logger (parameters: hashes, wrapped keys) stays at
    WARNING, so a DEBUG server never writes a query's parameters."""
    config = logs.dict_config("json", "DEBUG")
    assert config["root"]["level"] == "DEBUG"
    assert config["loggers"]["sqlalchemy.engine"]["level"] == "WARNING"
    assert logs.dict_config("json", "ERROR")["loggers"]["sqlalchemy.engine"]["level"] == "ERROR"


_TOKEN_CHARS = st.text(alphabet=string.ascii_letters + string.digits + "._~+/-", min_size=4)


@given(
    field=st.sampled_from(["password", "new_password", "pin", "api_token", "Authorization"]),
    value=_TOKEN_CHARS,
    words=st.lists(st.sampled_from(["sale", "login", "for", "meter", "failed"]), max_size=4),
)
@settings(max_examples=200, deadline=None)
def test_no_secret_survives_rendering(field: str, value: str, words: list[str]) -> None:
    """Whatever the secret, under a secret's field name or after ``Bearer `` in the
    message text, the rendered line does not hold it."""
    secret = "s3cr3t-" + value
    record = logging.LogRecord(
        LOGGER, logging.WARNING, __file__, 1, " ".join([*words, "Bearer", secret]), None, None
    )
    record.__dict__[field] = secret
    line = logs.formatter("json").format(record)
    assert secret not in line
    assert json.loads(line)[field] == logs.MASK
