"""End-to-end fixtures: the vending app and database fixtures, on SQLite.

These tests cross the vending/meter seam (what the office signs or sells against what
the firmware model does with it); the database backend does not change that seam,
and the PostgreSQL halves of both sides have their own tests, so only SQLite runs here.
"""

from __future__ import annotations

import pytest

from tests.vending.conftest import (  # noqa: F401  (fixtures)
    app,
    approver_token,
    client,
    db_url,
    engine,
    make_operator,
    master_key,
    security_module,
    settings,
    shop,
    sqlite_template,
)


@pytest.fixture
def backend() -> str:
    """SQLite only (see the module docstring)."""
    return "sqlite"
