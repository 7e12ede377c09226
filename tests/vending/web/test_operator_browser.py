"""Operator administration in chromium (Playwright) against a real uvicorn server.

Admin Alice creates a supervisor, cannot activate it herself, admin Bob does and
resets its password; the supervisor must choose a new password before signing
in; Bob revokes the supervisor's session. Both backends.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import AuditEntry, Operator, Role
from tests.vending.chromium import browser, new_page, sign_in  # noqa: F401  (fixtures)
from tests.vending.test_browser import base_url  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

TEMP = "temporary pass 1"
OWN = "sup2 own secret"


def _open(page: Page, username: str) -> None:
    page.get_by_role("link", name="Operators").click()
    page.get_by_role("link", name=username, exact=True).click()


def test_two_admins_vouch_for_a_supervisor_who_sets_his_own_password(
    new_page: Callable[[], Page],  # noqa: F811
    engine: Engine,
    backend: str,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """Create, refuse self-activation, activate by a second admin, reset, forced change,
    revoke: each step visible on the console and written to the audit log."""
    make_operator(Role.ADMIN, username="alice")
    make_operator(Role.ADMIN, username="bob")
    alice = new_page()
    sign_in(alice, "alice")
    alice.get_by_role("link", name="Operators").click()
    alice.get_by_label("Username").fill("sup2")
    alice.get_by_label("Role").select_option("supervisor")
    alice.get_by_label("Initial password").fill(TEMP)
    alice.get_by_role("button", name="Create operator").click()
    expect(alice.locator("#op-state")).to_have_text("awaiting a second admin")
    alice.get_by_role("button", name="Activate").click()
    expect(alice.get_by_role("heading", name="Not done")).to_be_visible()
    expect(alice.locator("main")).to_contain_text("does not activate it")

    bob = new_page()
    sign_in(bob, "bob")
    _open(bob, "sup2")
    bob.get_by_role("button", name="Activate").click()
    expect(bob.locator("#op-state")).to_have_text("active")
    bob.screenshot(path=f"/tmp/stsgas-console-operator-{backend}.png", full_page=True)

    sup = new_page()
    sign_in(sup, "sup2", TEMP)
    expect(sup.get_by_role("link", name="Management tokens")).to_be_visible()
    bob.get_by_label("Temporary password").fill(TEMP + "x")
    bob.get_by_role("button", name="Reset password").click()
    expect(bob.locator("#op-state")).to_have_text("must change password")
    sup.reload()
    expect(sup.get_by_role("heading", name="Sign in")).to_be_visible()  # its session ended

    sign_in(sup, "sup2", TEMP + "x")
    expect(sup.locator("#reset-note")).to_be_visible()
    sup.get_by_label("Current password").fill(TEMP + "x")
    sup.get_by_label("New password", exact=True).fill(OWN)
    sup.get_by_label("New password again").fill(OWN)
    sup.get_by_role("button", name="Change password").click()
    expect(sup.get_by_text("Password changed")).to_be_visible()
    sign_in(sup, "sup2", OWN)
    expect(sup.get_by_role("link", name="Management tokens")).to_be_visible()

    bob.reload()
    expect(bob.locator("#op-state")).to_have_text("awaiting a second admin")
    live = bob.locator("tr[data-token]", has_text="live")
    expect(live).to_have_count(1)
    live.get_by_role("button", name="Revoke").click()
    expect(bob.get_by_text("Token revoked.")).to_be_visible()
    sup.reload()
    expect(sup.get_by_role("heading", name="Sign in")).to_be_visible()
    with make_sessionmaker(engine)() as s:
        done = set(s.execute(select(AuditEntry.action, AuditEntry.actor)).all())
    assert {
        ("operator.create", "alice"),
        ("operator.activate", "bob"),
        ("operator.password_reset", "bob"),
        ("operator.password_change", "sup2"),
        ("api_token.revoke", "bob"),
    } <= done
