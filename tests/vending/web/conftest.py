"""Console fixtures: the app with the web pages, a signed-in browser-like client, and the
steps many console tests share (sell on the form, ask, approve as another supervisor)."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select

from stsgas.vending import web
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import ManagementRequest, Operator, Role
from tests.vending.conftest import DATA, PASSWORD
from tests.vending.readouts.office import office  # noqa: F401  (fixture: the read meters)
from tests.vending.sales.conftest import Shop

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

CSRF_RE = re.compile(r'name="csrf-token" content="([0-9a-f]+)"')
KEY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')
#: Every field of the management form as the page posts it, all left blank.
BLANK_MANAGEMENT_FORM: dict[str, str] = json.loads((DATA / "management-form.json").read_text())


@pytest.fixture
def console(app: FastAPI, shop: Shop) -> Iterator[TestClient]:
    """A client on the app with the console installed (not signed in)."""
    web.install(app)
    with TestClient(app) as client:
        yield client


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the page's CSRF value."""
    r = client.post("/console/login", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return page_csrf(r.text)


def page_csrf(text: str) -> str:
    """The CSRF value a signed-in console page carries."""
    match = CSRF_RE.search(text)
    assert match
    return match.group(1)


@pytest.fixture
def signed_in(console: TestClient) -> Callable[[str], str]:
    """``signed_in(username)`` signs the console client in and returns the CSRF value."""
    return lambda username: sign_in(console, username)


@pytest.fixture
def signed_in_as(
    signed_in: Callable[[str], str], make_operator: Callable[..., tuple[Operator, str]]
) -> Callable[[Role, str], str]:
    """``signed_in_as(role, username)``: a new operator, signed in; returns the CSRF value."""

    def make(role: Role, username: str) -> str:
        make_operator(role, username=username)
        return signed_in(username)

    return make


@pytest.fixture
def second_supervisor(make_operator: Callable[..., tuple[Operator, str]]) -> str:
    """The username of a second supervisor: the other pair of eyes a request waits for."""
    return make_operator(Role.SUPERVISOR, username="second")[0].username


def form_key(text: str) -> str:
    """The idempotency key of the form on the page."""
    match = KEY_RE.search(text)
    assert match, "the form has no idempotency key"
    return match.group(1)


def management_requests(engine: Engine) -> int:
    """How many management requests are stored."""
    with make_sessionmaker(engine)() as s:
        return int(s.execute(select(func.count()).select_from(ManagementRequest)).scalar_one())


def sell(console: TestClient, csrf: str, pan: str, amount: str, key: str) -> httpx.Response:
    """Sell ``amount`` on ``pan`` through the console's sell form."""
    sold: httpx.Response = console.post(
        "/console/sell", data={"meter": pan, "amount": amount, "idempotency_key": key, "csrf": csrf}
    )
    return sold


def management_form(console: TestClient, csrf: str, **fields: str) -> dict[str, str]:
    """The management form as the page posts it: blanks, a fresh key, then ``fields``."""
    key = form_key(console.get("/console/management").text)
    return {**BLANK_MANAGEMENT_FORM, "idempotency_key": key, "csrf": csrf, **fields}


def ask(console: TestClient, form: dict[str, str]) -> tuple[httpx.Response, str]:
    """Send a management form; it must make (or find) a request: (page, request id)."""
    asked = console.post("/console/management", data=form)
    assert asked.status_code == 201, asked.text
    match = re.search(r"Request #(\d+)", asked.text)
    assert match, asked.text
    return asked, match.group(1)


def approve_as(console: TestClient, username: str, request_id: str) -> httpx.Response:
    """Sign out, sign in as ``username`` (another supervisor) and approve the request."""
    console.cookies.clear()
    csrf = sign_in(console, username)
    ok: httpx.Response = console.post(
        "/console/management/approve", data={"request_id": request_id, "csrf": csrf}
    )
    assert ok.status_code == 200, ok.text
    return ok
