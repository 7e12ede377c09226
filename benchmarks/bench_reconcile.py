"""Reconciliation over many sales: the ledger checks and each meter's sales chain.

Run: ``.venv/bin/python -m benchmarks reconcile`` (option ``--sales N``). Sales
are made through the sale service on a scratch SQLite file (durable commits),
then ``reports.service.reconciliation`` and ``sales.chain.broken_meters`` are
timed on their own.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_vending import seed, service_only
from stsgas.vending.db import make_engine, make_sessionmaker
from stsgas.vending.reports.service import reconciliation
from stsgas.vending.sales import chain


def main(argv: list[str]) -> int:
    """Make the sales, then time the checks."""
    p = argparse.ArgumentParser(prog="benchmarks reconcile")
    p.add_argument("--sales", type=int, default=5000)
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="stsgas-bench-"))
    try:
        url = f"sqlite:///{tmp / 'reconcile.db'}"
        pans, tokens = seed(url, 1)
        service_only(url, pans, tokens, n=args.sales)
        engine = make_engine(url, pool_size=1)
        with make_sessionmaker(engine)() as s:
            t0 = time.perf_counter()
            broken = chain.broken_meters(s)
            t_chain = time.perf_counter() - t0
            t0 = time.perf_counter()
            report = reconciliation(s)
            t_all = time.perf_counter() - t0
        engine.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{args.sales:,} sales on {len(pans):,} meters (SQLite)")
    print(
        f"sales chain check: {t_chain:.2f} s ({args.sales / t_chain:,.0f} sales/s), "
        f"broken meters: {len(broken)}"
    )
    print(f"whole reconciliation: {t_all:.2f} s, ok={report['ok']}")
    return 0 if report["ok"] and not broken else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
