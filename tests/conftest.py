"""Suite-wide rules: the PostgreSQL half is never left out silently.

``make test`` requires PostgreSQL (``STSGAS_REQUIRE_PG=1``: its tests fail
without it). ``STSGAS_SKIP_PG=1`` leaves the ``postgres`` tests out on purpose;
either way, any skipped PostgreSQL test ends the run with a loud summary line.
"""

from __future__ import annotations

import os

import pytest

SKIP_PG = os.environ.get("STSGAS_SKIP_PG") == "1"


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
