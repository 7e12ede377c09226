"""Sales per second through the HTTP API with durable commits, SQLite and PostgreSQL.

Run: ``.venv/bin/python -m benchmarks.bench_vending`` (options: ``--seconds``,
``--backends``, ``--clients``, ``--servers`` = uvicorn workers on PostgreSQL). A
scratch database is built and seeded (a supply group, 2,000 meters of both
modes, one cashier and vendor per client), a real ``uvicorn`` runs the app
factory on it, and a lean asyncio keep-alive HTTP client in this process posts
sales (each with an Idempotency-Key) with 1, 8 and 32 concurrent clients, then
at a paced 200 sales/s, printing latency and CPU per sale of the server,
PostgreSQL and itself. Two runs without HTTP call the sale code in this
process (the service; on PostgreSQL also the event-loop sale), their CPU
column being this process / PostgreSQL. ``pgbench`` gives the database's own
TPS on the same machine as the ceiling. ``STSGAS_BENCH_DB`` names the
PostgreSQL scratch database (default ``stsgas_bench``).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks._gc import collector_off
from stsgas.sts import pan_from_iin_drn
from stsgas.sts.identity import drn_with_check
from stsgas.vending.db import make_engine, make_sessionmaker
from stsgas.vending.keys.security import KeyRef, SoftwareSecurityModule
from stsgas.vending.migrations import upgrade
from stsgas.vending.models import (
    Meter,
    MeterMode,
    Role,
    SupplyGroup,
    Tariff,
    TariffStep,
    TariffVersion,
    Vendor,
)
from stsgas.vending.operators import service as operators

MASTER = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
PG_ADMIN_URL = os.environ.get(
    "STSGAS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
METERS = 2000
#: the scratch database's name (set it when two benchmarks share one server)
BENCH_DB = os.environ.get("STSGAS_BENCH_DB", "stsgas_bench")
#: error kinds seen by the load generator (printed at the end)
FAILURES: dict[str, int] = {}


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """One measured run."""

    label: str
    sales: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    #: CPU milliseconds per sale: API server processes, PostgreSQL, load generator
    cpu_ms: tuple[float, float, float] | None = None

    def line(self) -> str:
        """A table row."""
        rate = self.sales / self.seconds if self.seconds else 0.0
        cpu = " / ".join(f"{x:.2f}" for x in self.cpu_ms) if self.cpu_ms else "—"
        return (
            f"| {self.label:<28} | {rate:>9,.0f} | {self.p50_ms:>8.1f} | "
            f"{self.p99_ms:>8.1f} | {self.errors:>6} | {cpu:>18} |"
        )


def _cpu_seconds(pids: list[int]) -> float:
    """user + system CPU of processes (Linux /proc; 0 elsewhere)."""
    return sum(_cpu_by_pid(pids).values())


def _cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """Each live process's user + system CPU seconds so far."""
    out: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def _cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU spent between two snapshots; a process born in between counts whole (the
    pool's connections open lazily), one that died in between is lost."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def _tree(pid: int) -> list[int]:
    """A process and its descendants (uvicorn --workers forks its workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            kids = []
        todo.extend(int(k) for k in kids)
    return out


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_group(sm: SoftwareSecurityModule) -> SupplyGroup:
    """The benchmarks' supply group (SGC 123456, DKGA02, a fixed vending key)."""
    return SupplyGroup(
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


def seed(url: str, clients: int) -> tuple[list[str], list[str]]:
    """Migrate and seed; returns meter numbers and one bearer token per client."""
    engine = make_engine(url, pool_size=2)
    upgrade(url, engine=engine)
    sm = SoftwareSecurityModule(bytes.fromhex(MASTER))
    pans: list[str] = []
    tokens: list[str] = []
    with make_sessionmaker(engine).begin() as s:
        sg = bench_group(sm)
        s.add(sg)
        tariffs = {}
        for mode in MeterMode:
            t = Tariff(name=f"bench-{mode.value}", mode=mode.value)
            s.add(t)
            s.flush()
            v = TariffVersion(
                tariff_id=t.id,
                version=1,
                effective_from=datetime(2020, 1, 1, tzinfo=UTC),
                fixed_charge=0,
                tax_rate_bp=1500,
                debt_recovery_bp=0,
            )
            v.steps = [TariffStep(position=1, up_to_litres=None, price_per_m3=150)]
            s.add(v)
            tariffs[mode] = t.id
        s.flush()
        for i in range(METERS):
            drn = drn_with_check(f"02{i:08d}")
            mode = MeterMode.VOLUME if i % 2 else MeterMode.AMOUNT
            m = Meter(
                pan=pan_from_iin_drn("600727", drn),
                iin="600727",
                drn=drn,
                mode=mode.value,
                supply_group_id=sg.id,
                ti="01",
                ken=255,
                base_date=2014,
                tariff_id=tariffs[mode],
            )
            s.add(m)
            pans.append(m.pan)
        for c in range(clients):
            vendor = Vendor(name=f"bench-vendor-{c}", float_balance=10**15)
            s.add(vendor)
            s.flush()
            op = operators.create_operator(
                s,
                actor=None,
                username=f"bench{c}",
                role=Role.CASHIER,
                password="bench password 1",
                vendor_id=vendor.id,
            )
            tokens.append(operators.issue_token(s, op, ttl=None, name="bench").secret)
    engine.dispose()
    return pans, tokens


class Server:
    """uvicorn on the app factory, on loopback."""

    def __init__(self, url: str, workers: int, log: Path) -> None:
        self.log = log
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "STSGAS_DATABASE_URL": url,
            "STSGAS_MASTER_KEY": MASTER,
            "STSGAS_POOL_SIZE": "20",
            "STSGAS_CUSTOMER_SALES_PER_HOUR": "1000000",
            "STSGAS_VENDOR_SALES_PER_MINUTE": "1000000",
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "stsgas.vending.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("ab"),
        )
        # every worker answering, not just the first: connections opened while one is
        # still importing the app all go to the other, and the run measures one process
        # (splits of 1/7 and 7/1 at 8 clients were seen, and the sales/s followed them)
        seen: set[str] = set()
        for _ in range(600):
            try:
                r = httpx.get(f"{self.base}/healthz", timeout=1.0)  # a new connection each
                rid = r.headers.get("x-request-id")
                if rid:
                    seen.add(rid[:24])  # the worker's own prefix
                if len(seen) >= workers:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{len(seen)} of {workers} workers answered")

    def errors(self) -> list[str]:
        """What the server logged at warning or above (it should log nothing)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [
            ln
            for ln in text.splitlines()
            if ln.startswith(("ERROR", "WARNING", "Traceback", "CRITICAL"))
        ]

    def stop(self) -> None:
        """Stop the server."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


class _Stale(Exception):
    """A reused keep-alive connection closed before any byte of the answer (the
    server's idle timeout raced the request): resend on a new connection."""


class _Conn:
    """One keep-alive HTTP/1.1 connection: a lean client, so the load generator
    (sharing the 2 cores with the server) costs tens of microseconds a request."""

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = False

    async def connect(self) -> None:
        """Open the connection (``post`` opens it when it is not open)."""
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, path: str, body: bytes, headers: str) -> int:
        """POST and read the whole response; returns the status code."""
        if self.writer is None:
            await self.connect()
        assert self.reader is not None
        assert self.writer is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"{headers}\r\n"
        ).encode()
        self.writer.write(head + body)
        try:
            raw = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionResetError) as exc:
            if self.used and not getattr(exc, "partial", b""):
                raise _Stale from exc
            raise
        self.used = True
        status = int(raw[9:12])
        length = 0
        for line in raw.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        """Close the connection."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def _load(
    bases: list[str],
    pans: list[str],
    tokens: list[str],
    *,
    clients: int,
    seconds: float,
    rate: float | None,
    tag: str,
) -> tuple[int, int, float, list[float]]:
    lat: list[float] = []
    errors = 0
    done = 0
    counter = iter(range(10**9))
    idle: list[list[_Conn]] = [[] for _ in bases]

    async def one(c: int) -> None:
        nonlocal errors, done
        n = next(counter)
        which = c % len(bases)
        conn = idle[which].pop() if idle[which] else _Conn(bases[which])
        body = (
            b'{"meter_number":"%s","amount":"5.00","channel":"pos"}' % random.choice(pans).encode()
        )
        headers = (
            f"Authorization: Bearer {tokens[c % len(tokens)]}\r\nIdempotency-Key: {tag}-{n}\r\n"
        )
        t0 = time.perf_counter()
        try:
            try:
                status = await asyncio.wait_for(conn.post("/api/v1/sales", body, headers), 10.0)
            except _Stale:
                # safe to resend: the request carries its Idempotency-Key
                FAILURES["stale keep-alive, resent"] = (
                    FAILURES.get("stale keep-alive, resent", 0) + 1
                )
                conn.close()
                conn = _Conn(bases[which])
                status = await asyncio.wait_for(conn.post("/api/v1/sales", body, headers), 10.0)
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
            conn.close()
            errors += 1
            FAILURES[type(exc).__name__] = FAILURES.get(type(exc).__name__, 0) + 1
            return
        lat.append(time.perf_counter() - t0)
        idle[which].append(conn)
        if status == 201:
            done += 1
        else:
            errors += 1
            FAILURES[str(status)] = FAILURES.get(str(status), 0) + 1

    # the connections open one at a time before the clock starts, as clients arrive in
    # the field: opened all at once, the first worker to wake accepts every one queued
    # and the others sit idle (splits of 7/1 at 8 clients), so the run measures one
    # process and its figure swings with the split
    for c in range(clients):
        conn = _Conn(bases[c % len(bases)])
        await conn.connect()
        idle[c % len(bases)].append(conn)
        await asyncio.sleep(0.005)
    start = time.perf_counter()
    end = start + seconds
    if rate is None:

        async def worker(c: int) -> None:
            while time.perf_counter() < end:
                await one(c)

        await asyncio.gather(*(worker(c) for c in range(clients)))
    else:
        tasks = []
        k = 0
        while True:
            due = start + k / rate
            if due >= end:
                break
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(one(k)))
            k += 1
        await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    for pool in idle:
        for conn in pool:
            conn.close()
    return done, errors, elapsed, lat


def measure(
    bases: list[str],
    pans: list[str],
    tokens: list[str],
    label: str,
    *,
    clients: int,
    seconds: float,
    rate: float | None = None,
    server_pids: list[int] | None = None,
) -> Run:
    """Warm up briefly, then one measured run (with CPU per sale when pids are given)."""
    tag = f"{label}-{random.getrandbits(32)}"
    asyncio.run(_load(bases, pans, tokens, clients=clients, seconds=0.5, rate=None, tag=tag + "w"))
    servers = [p for pid in server_pids or [] for p in _tree(pid)]
    on_pg = "postgresql" in label
    pg_before = _cpu_by_pid(_postgres_pids()) if on_pg else {}
    before = (_cpu_seconds(servers), time.process_time())
    with collector_off():  # the generator's collector measured itself (benchmarks._gc)
        done, errors, elapsed, lat = asyncio.run(
            _load(bases, pans, tokens, clients=clients, seconds=seconds, rate=rate, tag=tag)
        )
    after = (_cpu_seconds(servers), time.process_time())
    pg_cpu = _cpu_delta(pg_before, _cpu_by_pid(_postgres_pids())) if on_pg else 0.0
    cpu = None
    if servers and done:
        cpu = (
            1000 * (after[0] - before[0]) / done,
            1000 * pg_cpu / done,
            1000 * (after[1] - before[1]) / done,
        )
    return Run(
        label=label,
        sales=done,
        errors=errors,
        seconds=elapsed,
        p50_ms=_pct(lat, 0.50),
        p99_ms=_pct(lat, 0.99),
        cpu_ms=cpu,
    )


def pgbench_tps(admin_url: str, seconds: int) -> str:
    """pgbench's TPS (TPC-B-like, 8 clients) on a scratch database, or why not."""
    if shutil.which("pgbench") is None:
        return "pgbench not installed"
    u = make_url(admin_url)
    env = {**os.environ, "PGPASSWORD": u.password or ""}
    conn = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
    _recreate(admin_url, BENCH_DB + "_pgbench")
    subprocess.run(
        ["pgbench", "-i", "-q", "-s", "8", *conn, BENCH_DB + "_pgbench"],
        env=env,
        check=True,
        capture_output=True,
    )
    out = {}
    for mode, extra in (("tpcb", []), ("select-free insert", ["-N"])):
        r = subprocess.run(
            [
                "pgbench",
                "-c",
                "8",
                "-j",
                "2",
                "-T",
                str(seconds),
                *extra,
                *conn,
                BENCH_DB + "_pgbench",
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        m = re.search(r"tps = ([\d.]+)", r.stdout)
        out[mode] = m.group(1) if m else "?"
    _drop(admin_url, BENCH_DB + "_pgbench")
    tpcb, simple = float(out["tpcb"]), float(out["select-free insert"])
    return f"TPC-B {tpcb:,.0f} tps; simple-update (-N) {simple:,.0f} tps (8 clients)"


def _recreate(admin_url: str, name: str) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def service_only(url: str, pans: list[str], tokens: list[str], n: int = 200) -> Run:
    """One thread calling the sale service directly (no HTTP): the per-sale DB + token
    cost; CPU per sale of this process (the sale's own code) and of PostgreSQL."""
    from stsgas.vending import transaction
    from stsgas.vending.operators import service as ops
    from stsgas.vending.sales import service

    engine = make_engine(url, pool_size=2)
    sm = make_sessionmaker(engine)
    sec = SoftwareSecurityModule(bytes.fromhex(MASTER))
    backend = make_url(url).get_backend_name()
    lat = []

    def sell(i: int) -> None:
        with sm() as s:
            op = ops.authenticate(s, tokens[0])
            req = service.SaleRequest(
                meter_number=pans[i % len(pans)],
                paid=500,
                channel="api",
                idempotency_key=f"svc-{i}",
            )
            transaction.run(s, functools.partial(service.sell, s, req, operator=op, security=sec))

    sell(n)  # warm-up: the first sale prepares the statements
    pg_before = _cpu_by_pid(_postgres_pids()) if backend == "postgresql" else {}
    cpu_before = time.process_time()
    start = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        sell(i)
        lat.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_before
    pg_cpu = _cpu_delta(pg_before, _cpu_by_pid(_postgres_pids())) if pg_before else 0.0
    engine.dispose()
    return _in_process(f"{backend} service, no HTTP", lat, elapsed, cpu, pg_cpu)


def loop_only(url: str, pans: list[str], tokens: list[str], n: int = 2000) -> Run:
    """PostgreSQL: 8 tasks calling the event-loop sale (``sales.fast.sell``) directly, no
    HTTP: CPU per sale of this process (the sale's own code on asyncpg) and of PostgreSQL.
    Steadier than the server's figure on a shared machine, since no HTTP runs beside it."""
    from stsgas.vending.sales import fast
    from stsgas.vending.sales.request import SaleRequest
    from stsgas.vending.sales.settle import SaleLimits

    sec = SoftwareSecurityModule(bytes.fromhex(MASTER))
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    tasks = 8
    lat: list[float] = []

    async def run() -> tuple[float, float, float]:
        pool = await fast.SalePool.open(dsn, size=tasks)
        numbers = iter(range(10**9))

        async def worker(w: int, count: int, timed: bool) -> None:
            for _ in range(count):
                i = next(numbers)
                req = SaleRequest(
                    meter_number=pans[i % len(pans)],
                    paid=500,
                    channel="api",
                    idempotency_key=f"loop-{i}",
                )
                t0 = time.perf_counter()
                token = tokens[w % len(tokens)]
                await fast.sell(pool, req, token, security=sec, limits=SaleLimits())
                if timed:
                    lat.append(time.perf_counter() - t0)

        try:
            await asyncio.gather(*(worker(w, 25, False) for w in range(tasks)))  # warm-up
            pg_before = _cpu_by_pid(_postgres_pids())
            cpu_before, start = time.process_time(), time.perf_counter()
            await asyncio.gather(*(worker(w, n // tasks, True) for w in range(tasks)))
            elapsed = time.perf_counter() - start
            cpu = time.process_time() - cpu_before
            pg_cpu = _cpu_delta(pg_before, _cpu_by_pid(_postgres_pids()))
        finally:
            await pool.close()
        return elapsed, cpu, pg_cpu

    elapsed, cpu, pg_cpu = asyncio.run(run())
    return _in_process("postgresql loop, no HTTP", lat, elapsed, cpu, pg_cpu)


def _in_process(label: str, lat: list[float], elapsed: float, cpu: float, pg_cpu: float) -> Run:
    """A run of sales called in this process (no HTTP, no errors): one sale per latency,
    CPU per sale of this process and of PostgreSQL (no load generator)."""
    n = len(lat)
    return Run(
        label=label,
        sales=n,
        errors=0,
        seconds=elapsed,
        p50_ms=_pct(lat, 0.5),
        p99_ms=_pct(lat, 0.99),
        cpu_ms=(1000 * cpu / n, 1000 * pg_cpu / n, 0.0),
    )


#: what the servers logged at warning or above, per backend (printed at the end)
SERVER_ERRORS: list[str] = []
#: per backend: what reconciliation said after all the load (RELIABILITY T4)
AFTER: dict[str, str] = {}


def _reconcile(url: str) -> str:
    """Reconciliation and the sales chains over everything the load wrote."""
    from stsgas.vending.reports.service import reconciliation

    engine = make_engine(url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as s:
            report = reconciliation(s)
    finally:
        engine.dispose()
    broken = report["meters_with_broken_sales_chain"]
    return (
        f"{'ok' if report['ok'] else 'NOT OK'}: ledger {report['ledger_debits']} = "
        f"{report['ledger_credits']}, {report['credit_tokens']:,} credit tokens, "
        f"{len(report['sales_without_one_credit_token'])} sales without one, "
        f"{len(broken)} broken sales chains"
    )


def bench_backend(backend: str, args: argparse.Namespace) -> list[Run]:
    """All runs on one backend."""
    tmp = Path(tempfile.mkdtemp(prefix="stsgas-bench-"))
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'bench.db'}"
        count = args.sqlite_servers
    else:
        url = _recreate(PG_ADMIN_URL, BENCH_DB)
        count = args.servers
    pans, tokens = seed(url, max(args.clients))
    runs = [service_only(url, pans, tokens)]
    if backend == "postgresql":
        runs.append(loop_only(url, pans, tokens))
    # one uvicorn with --workers N, as `stsgas serve --workers N` runs
    servers = [Server(url, count, tmp / "server.log")]
    bases = [sv.base for sv in servers]
    pids = [sv.proc.pid for sv in servers]
    try:
        for c in args.clients:
            runs.append(
                measure(
                    bases,
                    pans,
                    tokens,
                    f"{backend} {c} clients",
                    clients=c,
                    seconds=args.seconds,
                    server_pids=pids,
                )
            )
        runs.append(
            measure(
                bases,
                pans,
                tokens,
                f"{backend} paced 200/s",
                clients=32,
                seconds=args.seconds,
                rate=200.0,
                server_pids=pids,
            )
        )
        for sv in servers:
            sv.stop()
            for line in sv.errors():
                SERVER_ERRORS.append(f"{backend}: {line}")
        AFTER[backend] = _reconcile(url)
    finally:
        for sv in servers:
            sv.stop()
        if backend == "postgresql":
            _drop(PG_ADMIN_URL, BENCH_DB)
        shutil.rmtree(tmp, ignore_errors=True)
    return runs


def main(argv: list[str]) -> int:
    """Run and print the table."""
    p = argparse.ArgumentParser(prog="benchmarks vending")
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 32])
    p.add_argument("--servers", type=int, default=2, help="uvicorn workers on PostgreSQL")
    p.add_argument("--sqlite-servers", type=int, default=1, help="uvicorn workers on SQLite")
    args = p.parse_args(argv)
    print("sales through POST /api/v1/sales (durable commits), load generator in-process")
    print(f"load average before: {os.getloadavg()[0]:.1f} (2 cores: figures above ~2 are shared)")
    print(
        "| run                          |  sales/s |  p50 ms |  p99 ms | errors | "
        "CPU ms/sale srv/pg/gen |"
    )
    print(
        "| ---------------------------- | --------:| -------:| -------:| ------:| "
        "-----------------:|"
    )
    for backend in args.backends.split(","):
        for run in bench_backend(backend, args):
            print(run.line(), flush=True)
    if "postgresql" in args.backends:
        print(f"pgbench ceiling: {pgbench_tps(PG_ADMIN_URL, int(args.seconds))}")
    for backend, verdict in AFTER.items():
        print(f"reconciliation after the {backend} runs: {verdict}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    if FAILURES:
        print(f"failures and resends: {FAILURES}")
    print(f"server log lines at warning or above: {len(SERVER_ERRORS)}")
    for line in SERVER_ERRORS[:20]:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
