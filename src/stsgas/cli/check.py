"""``stsgas check``: the daily integrity check of a vending database (V5), for cron.

Runs the reconciliation (ledger balanced, one credit token per sale, each
sale's journal, every meter's sales chain) and verifies the audit hash chain
on ``STSGAS_DATABASE_URL`` (or ``--database``). Prints one JSON report.
Exit status: 0 all checks hold, 1 a check failed, 2 the database could not be
read (no such file, not migrated, unreachable).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stsgas check", description=__doc__.splitlines()[0])
    p.add_argument("--database", help="database URL (default: STSGAS_DATABASE_URL)")
    return p


def main(argv: list[str]) -> int:
    """Check, print the report, exit 0/1/2."""
    args = _parser().parse_args(argv)
    from stsgas.vending.audit.service import verify_chain
    from stsgas.vending.db import make_engine, make_sessionmaker
    from stsgas.vending.reports.service import reconciliation
    from stsgas.vending.settings import Settings

    url = args.database or Settings().database_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        print(f"stsgas check: no database file {parsed.database!r}", file=sys.stderr)
        return 2
    engine = make_engine(url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            report = reconciliation(session)
            audit = verify_chain(session)
    except SQLAlchemyError as exc:
        print(
            f"stsgas check: cannot read the database: {exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0]}",
            file=sys.stderr,
        )
        return 2
    finally:
        engine.dispose()
    report["audit_chain"] = {
        "ok": audit.ok,
        "entries": audit.entries,
        "first_bad_seq": audit.first_bad_seq,
        "reason": audit.reason,
    }
    report["ok"] = bool(report["ok"] and audit.ok)
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1
