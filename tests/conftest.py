"""Suite-wide rules: the PostgreSQL half is never left out silently.

``make test`` requires PostgreSQL (``STSGAS_REQUIRE_PG=1``: its tests fail
without it). ``STSGAS_SKIP_PG=1`` leaves the ``postgres`` tests out on purpose;
either way, any skipped PostgreSQL test ends the run with a loud summary line.

Passwords are hashed in-process with a cheap argon2id (see ``pytest_configure``):
the production cost is pinned by ``tests/vending/operators/test_password_cost.py``
and paid by every test that starts a real server process.
"""

from __future__ import annotations

import os

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, settings

from stsgas.vending.operators import passwords

SKIP_PG = os.environ.get("STSGAS_SKIP_PG") == "1"

#: Property tests judge what they generate, never how fast: on a shared 2-core CI
#: machine a large example (a whole receipt, a meter state) can take a second to draw
#: or check, and Hypothesis' deadline and "input generation is slow" check would then
#: fail a correct test (the suite asserts no timings; benchmarks measure speed).
settings.register_profile("stsgas", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("stsgas")
#: The hasher the application ships with (argon2-cffi defaults), kept for its own test.
PRODUCTION_HASHER = passwords._HASHER
#: Still argon2id with a fresh random salt per hash, at the lowest cost argon2 allows:
#: a production hash costs ~0.16 s to make and again to check, and the suite makes
#: thousands (every operator a fixture creates, every sign-in), minutes of a CI run.
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def pytest_configure(config: pytest.Config) -> None:
    """Swap in the cheap hasher for this process (each xdist worker runs this too).

    Hashes the suite stores from data files, made at production cost, still verify:
    argon2 reads the cost from the hash itself.
    """
    passwords._HASHER = TEST_HASHER


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under STSGAS_SKIP_PG=1, skip every ``postgres`` test without trying the server."""
    if not SKIP_PG:
        return
    skip = pytest.mark.skip(reason="STSGAS_SKIP_PG=1: the PostgreSQL half is left out")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Count the skipped PostgreSQL tests and say so where nobody can miss it."""
    skipped = [
        r
        for r in terminalreporter.stats.get("skipped", [])
        if "postgres" in getattr(r, "keywords", {})
    ]
    if not skipped:
        return
    terminalreporter.write_sep(
        "!",
        f"{len(skipped)} PostgreSQL tests SKIPPED: the PostgreSQL half did not run",
        red=True,
        bold=True,
    )
    terminalreporter.write_line(
        "`make test` starts the local server itself (scripts/ensure-postgres.sh); "
        "STSGAS_TEST_PG_URL names another; STSGAS_SKIP_PG=1 leaves them out on purpose."
    )
