"""Meter book import: meters per second through ``stsgas import meters``, end to end.

Run: ``.venv/bin/python -m benchmarks import`` (options ``--meters N``, ``--only
sqlite|postgresql``). A CSV book of N meters (default 100,000; half with a
customer, a third on a tariff) is written to a file, then imported with the CLI
command itself (read, check, write, audit, commit) into a fresh SQLite file and a
fresh PostgreSQL database (``STSGAS_BENCH_PG_URL``'s server, database
``stsgas_bench_import``, dropped after). The database is migrated beforehand so
the figure is the import's own.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_vending import MASTER, PG_ADMIN_URL, _drop, _recreate
from stsgas.cli import main as cli
from stsgas.sts import pan_from_iin_drn
from stsgas.sts.identity import drn_with_check
from stsgas.vending.db import make_engine, make_sessionmaker
from stsgas.vending.imports import COLUMNS
from stsgas.vending.keys.security import KeyRef, SoftwareSecurityModule
from stsgas.vending.migrations import upgrade
from stsgas.vending.models import SupplyGroup, Tariff

PG_DB = "stsgas_bench_import"


def write_book(path: Path, n: int) -> None:
    """A book of ``n`` good meters."""
    with path.open("w", encoding="utf-8") as f:
        f.write(",".join(COLUMNS) + "\n")
        for i in range(n):
            pan = pan_from_iin_drn("600727", drn_with_check(f"04{i:08d}"))
            mode = "volume" if i % 2 else "amount"
            tariff = f"bench-{mode}" if i % 3 == 0 else ""
            customer = f"Customer {i},+2557{i:08d},Plot {i}" if i % 2 else ",,"
            f.write(f"{pan},{mode},123456,1,01,{tariff},{customer}\n")


def _prepare(url: str) -> None:
    """Migrate, and add the supply group and tariffs the book names."""
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
        for mode in ("volume", "amount"):
            s.add(Tariff(name=f"bench-{mode}", mode=mode, currency="TZS"))
    engine.dispose()


def _run(label: str, url: str, book: Path, n: int) -> None:
    _prepare(url)
    out = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out):
        status = cli(["import", "meters", str(book), "--database", url])
    dt = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"{label}: import failed ({status})")
    done = json.loads(out.getvalue())
    print(
        f"{label:<11} {done['meters']:,} meters + {done['customers']:,} customers "
        f"in {dt:.2f} s: {n / dt:,.0f} meters/s"
    )


def main(argv: list[str]) -> int:
    """Generate a book, import it into each database, print meters/s."""
    p = argparse.ArgumentParser(prog="benchmarks import")
    p.add_argument("--meters", type=int, default=100_000)
    p.add_argument("--only", choices=("sqlite", "postgresql"))
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="stsgas-bench-"))
    try:
        book = tmp / "book.csv"
        write_book(book, args.meters)
        size = book.stat().st_size / 1e6
        print(
            f"book: {args.meters:,} meters, {size:.1f} MB; `stsgas import meters`, one transaction"
        )
        if args.only != "postgresql":
            _run("SQLite", f"sqlite:///{tmp / 'import.db'}", book, args.meters)
        if args.only != "sqlite":
            try:
                _run("PostgreSQL", _recreate(PG_ADMIN_URL, PG_DB), book, args.meters)
            finally:
                _drop(PG_ADMIN_URL, PG_DB)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
