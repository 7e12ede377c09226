"""Meter book import: meters per second of ``stsgas import meters``'s work.

Run: ``.venv/bin/python -m benchmarks import`` (options ``--meters N``, ``--only
sqlite|postgresql``). A CSV book of N meters (default 100,000; half with a
customer, a third on a tariff) is written to a file, then imported as the CLI
command does it (read the file, check, write, audit, commit: the same service
call) into a fresh SQLite file and a fresh PostgreSQL database
(``STSGAS_BENCH_PG_URL``'s server, database ``stsgas_bench_import``, dropped
after). The database is migrated beforehand so the figure is the import's own.

Printed: wall-clock meters/s, and meters per CPU-second counting this process and,
on PostgreSQL, the server backend that did the work (read from /proc: the server
must run on this machine). On a machine shared with other jobs the wall clock
swings with their load; the CPU figure much less.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from benchmarks.bench_vending import (
    MASTER,
    PG_ADMIN_URL,
    _cpu_by_pid,
    _drop,
    _recreate,
    bench_group,
)
from stsgas.sts import pan_from_iin_drn
from stsgas.sts.identity import drn_with_check
from stsgas.vending.db import make_engine, make_sessionmaker
from stsgas.vending.imports import COLUMNS, import_meters
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.migrations import upgrade
from stsgas.vending.models import Tariff

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
        s.add(bench_group(sm))
        for mode in ("volume", "amount"):
            s.add(Tariff(name=f"bench-{mode}", mode=mode, currency="TZS"))
    engine.dispose()


def _run(label: str, url: str, book: Path, n: int) -> None:
    _prepare(url)
    engine = make_engine(url, pool_size=1)
    with make_sessionmaker(engine)() as s:
        backend: list[int] = []
        if engine.dialect.name == "postgresql":
            backend = [int(s.execute(text("SELECT pg_backend_pid()")).scalar_one())]
        server0 = sum(_cpu_by_pid(backend).values())
        cpu0, t0 = time.process_time(), time.perf_counter()
        done = import_meters(s, book.read_bytes(), actor=None, imported_by="bench")
        s.commit()
        dt, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        server = sum(_cpu_by_pid(backend).values()) - server0
    engine.dispose()
    where = f" + server {server:.2f} s" if backend else ""
    print(
        f"{label:<11} {done.meters:,} meters + {done.customers:,} customers in {dt:.2f} s: "
        f"{n / dt:,.0f} meters/s; CPU {cpu:.2f} s{where}: "
        f"{n / (cpu + server):,.0f} meters per CPU-second"
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
        print(f"book: {args.meters:,} meters, {size:.1f} MB; one transaction each")
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
