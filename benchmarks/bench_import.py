"""Meter book import: meters per second through ``stsgas import meters``'s service.

Run: ``.venv/bin/python -m benchmarks import`` (option ``--meters N``). A CSV of
N meters (half with a customer) is generated and imported into a scratch
SQLite file in one transaction, each meter and customer audited.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_vending import MASTER
from stsgas.sts import pan_from_iin_drn
from stsgas.sts.identity import drn_with_check
from stsgas.vending.db import make_engine, make_sessionmaker
from stsgas.vending.imports import COLUMNS, import_meters
from stsgas.vending.keys.security import KeyRef, SoftwareSecurityModule
from stsgas.vending.migrations import upgrade
from stsgas.vending.models import SupplyGroup


def _book(n: int) -> str:
    rows = [",".join(COLUMNS)]
    for i in range(n):
        pan = pan_from_iin_drn("600727", drn_with_check(f"04{i:08d}"))
        mode = "volume" if i % 2 else "amount"
        customer = f"Customer {i},+2557{i:08d},Plot {i}" if i % 2 else ",,"
        rows.append(f"{pan},{mode},123456,1,01,,{customer}")
    return "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    """Generate, import, print the rate."""
    p = argparse.ArgumentParser(prog="benchmarks import")
    p.add_argument("--meters", type=int, default=2000)
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="stsgas-bench-"))
    try:
        url = f"sqlite:///{tmp / 'import.db'}"
        engine = make_engine(url, pool_size=1)
        upgrade(url, engine=engine)
        sm = SoftwareSecurityModule(bytes.fromhex(MASTER))
        with make_sessionmaker(engine).begin() as s:
            s.add(
                SupplyGroup(
                    name="bench",
                    sgc="123456",
                    krn=1,
                    key_type=2,
                    base_date=2014,
                    ea=7,
                    dkga=2,
                    ken=255,
                    vending_key_enc=sm.wrap(KeyRef(sgc="123456", krn=1), bytes.fromhex("ab" * 8)),
                )
            )
        text = _book(args.meters)
        with make_sessionmaker(engine)() as s:
            t0 = time.perf_counter()
            done = import_meters(s, text, actor=None)
            s.commit()
            dt = time.perf_counter() - t0
        engine.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"{done.meters:,} meters and {done.customers:,} customers imported in {dt:.2f} s "
        f"({done.meters / dt:,.0f} meters/s, SQLite, one transaction, each audited)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
