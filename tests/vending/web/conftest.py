"""Console fixtures: the app with the web pages, and a signed-in browser-like client."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI

from stsgas.vending import web
from tests.vending.conftest import PASSWORD
from tests.vending.readouts.office import office  # noqa: F401  (fixture: the read meters)
from tests.vending.sales.conftest import Shop

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

CSRF_RE = re.compile(r'name="csrf-token" content="([0-9a-f]+)"')


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
    match = CSRF_RE.search(r.text)
    assert match
    return match.group(1)


@pytest.fixture
def signed_in(console: TestClient) -> Callable[[str], str]:
    """``signed_in(username)`` signs the console client in and returns the CSRF value."""
    return lambda username: sign_in(console, username)
