"""Mobile-money callbacks per second against a live server on PostgreSQL.

Run: ``.venv/bin/python -m benchmarks payments`` (or ``-m benchmarks.bench_payments``;
options ``--seconds``, ``--rates``, ``--servers``). A scratch PostgreSQL database
is seeded (``bench_vending.seed``: meters with tariffs), the mobile-money
simulator runs as its own process, and ``uvicorn`` serves the app factory
with the M-Pesa webhook pointed at the simulator. The simulator is asked for
the payments first (each naming a meter, its callback kept back); then this
process posts their confirmations at each paced rate in turn (default 200,
300, 400 and 500/s), each one authenticated, verified with the simulator
(OAuth token + status query) and applied as a sale, and prints one row per
rate: the achieved rate, p50/p99/max latency, the errors, and the CPU each
callback cost the server, the simulator (the provider's side: on a real
deployment another machine), PostgreSQL (this database's backends and the
WAL writer, background writer and checkpointer: not other databases' work)
and this load generator. Nothing is recorded here; figures come from a quiet
machine.

The generator is lean on purpose (it shares the cores with what it measures):
uvloop, each request's bytes built before the clock starts, raw keep-alive
connections that read the status line and ``Content-Length`` only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
from sqlalchemy.engine import make_url

from benchmarks._gc import collector_off
from benchmarks.bench_vending import (
    PG_ADMIN_URL,
    Server,
    _cpu_by_pid,
    _cpu_delta,
    _drop,
    _free_port,
    _pct,
    _recreate,
    _tree,
    seed,
)

SECRET = "bench-callback-secret"
CONFIRM = f"/api/v1/payments/mpesa/confirmation?token={SECRET}"
DB = "stsgas_bench_payments"
T = TypeVar("T")
#: PostgreSQL's own processes whose work a callback's commit causes
_PG_SHARED = ("walwriter", "background writer", "checkpointer")


def _simulator(callback: str) -> tuple[subprocess.Popen[bytes], str]:
    """The simulator process (its own callbacks unused: this process sends them)."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stsgas.paysim",
            f"--port={port}",
            f"--callback={callback}",
            "--consumer-key=bench",
            "--consumer-secret=bench-secret",
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + "/", timeout=1.0)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the simulator did not start")


def _payments(sim: str, pans: list[str], count: int, host: str) -> list[bytes]:
    """``count`` payments made at the simulator; their confirmation requests' bytes."""
    requests = []
    with httpx.Client(base_url=sim, timeout=10.0) as c:
        for i in range(count):
            r = c.post(
                "/pay",
                json={
                    "phone": "254700000001",
                    "account": pans[i % len(pans)],
                    "amount": "5.00",
                    "callback": False,
                },
            )
            r.raise_for_status()
            body = json.dumps(r.json()["confirmation"]).encode()
            head = (
                f"POST {CONFIRM} HTTP/1.1\r\nHost: {host}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            requests.append(head.encode() + body)
    return requests


def _pg_pids(url: str) -> list[int]:
    """This database's backends and PostgreSQL's shared writers (not other databases')."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as c:
        rows = c.execute(
            "SELECT pid FROM pg_stat_activity WHERE (datname = %s AND pid <> pg_backend_pid())"
            " OR backend_type = ANY(%s)",
            (DB, list(_PG_SHARED)),
        ).fetchall()
    return [int(r[0]) for r in rows]


class _Client(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection that reads just the status and the length."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        at = self.buf.find(b"content-length:", 0, end)
        if at < 0:
            at = self.buf.lower().find(b"content-length:", 0, end)
        length = int(self.buf[at + 15 : self.buf.find(b"\r\n", at)]) if at >= 0 else 0
        if len(self.buf) < end + 4 + length:
            return
        status = int(self.buf[9:12])
        del self.buf[: end + 4 + length]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionResetError("closed by the server"))

    async def post(self, request: bytes) -> int:
        if self.transport is None:
            raise ConnectionResetError("closed by the server")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter


async def _paced(
    host: str, port: int, requests: list[bytes], rate: float
) -> tuple[int, dict[str, int], float, list[float]]:
    loop = asyncio.get_running_loop()
    lat: list[float] = []
    errors: dict[str, int] = {}
    done = 0
    idle: list[_Client] = []

    async def connect() -> _Client:
        _t, client = await loop.create_connection(_Client, host, port)
        return client

    async def one(request: bytes) -> None:
        nonlocal done
        while idle and idle[-1].transport is None:
            idle.pop()
        conn = idle.pop() if idle else await connect()
        t0 = time.perf_counter()
        try:
            try:
                status = await asyncio.wait_for(conn.post(request), 30.0)
            except ConnectionResetError:  # a kept-alive connection the server closed:
                conn = await connect()  # safe to resend, a payment is applied once
                status = await asyncio.wait_for(conn.post(request), 30.0)
        except (TimeoutError, OSError) as exc:
            if conn.transport is not None:
                conn.transport.close()
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            return
        lat.append(time.perf_counter() - t0)
        idle.append(conn)
        if status == 200:
            done += 1
        else:
            errors[str(status)] = errors.get(str(status), 0) + 1

    start = time.perf_counter()
    tasks = []
    for k, request in enumerate(requests):
        delay = start + k / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(loop.create_task(one(request)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    for conn in idle:
        if conn.transport is not None:
            conn.transport.close()
    return done, errors, elapsed, lat


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on uvloop (the generator's CPU is part of what the box spends)."""
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def _machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if os.name == "posix" else "?"
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, load {load}"


def main(argv: list[str]) -> int:
    """Seed, start simulator and server, drive paced callbacks, print the figures."""
    p = argparse.ArgumentParser(prog="bench_payments")
    p.add_argument("--seconds", type=float, default=10.0, help="measured seconds per rate")
    p.add_argument(
        "--rates", default="200,300,400,500", help="callbacks per second, comma separated"
    )
    p.add_argument("--rate", type=float, help="one rate (instead of --rates)")
    p.add_argument("--servers", type=int, default=2, help="uvicorn workers")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds sent first, not counted")
    args = p.parse_args(argv)
    rates = [args.rate] if args.rate else [float(r) for r in args.rates.split(",")]
    url = _recreate(PG_ADMIN_URL, DB)
    pans, _tokens = seed(url, 1)
    tmp = Path(tempfile.mkdtemp(prefix="stsgas-bench-payments-"))
    sim, sim_url = _simulator("http://127.0.0.1:9/unused")
    os.environ.update(
        {
            "STSGAS_MPESA_CALLBACK_TOKEN": SECRET,
            "STSGAS_MPESA_API_URL": sim_url,
            "STSGAS_MPESA_CONSUMER_KEY": "bench",
            "STSGAS_MPESA_CONSUMER_SECRET": "bench-secret",
            "STSGAS_MPESA_OPERATOR": "bench0",
        }
    )
    server = Server(url, args.servers, tmp / "server.log")
    host, port = server.base.removeprefix("http://").split(":")
    rows, ok = [], True
    print(f"machine: {_machine()}; {args.servers} server workers, {args.seconds:g} s per rate")
    try:
        warm = int(rates[0] * args.warmup)
        todo = [max(1, int(rate * args.seconds)) for rate in rates]
        made = _payments(sim_url, pans, warm + sum(todo), host)
        # warm-up, not counted: the workers open their pooled connections and prepare
        # their statements, as bench_vending's runs do before measuring
        _run(_paced(host, int(port), made[:warm], rates[0]))
        made = made[warm:]
        for rate, count in zip(rates, todo, strict=True):
            requests, made = made[:count], made[count:]
            groups = {
                "server": _tree(server.proc.pid),
                "simulator": [sim.pid],
                "postgres": _pg_pids(url),
            }
            before = {k: _cpu_by_pid(v) for k, v in groups.items()}
            gen_before = time.process_time()
            with collector_off():  # the generator's own pauses are not the server's
                result = _run(_paced(host, int(port), requests, rate))
            gen = time.process_time() - gen_before
            groups["postgres"] = _pg_pids(url)  # connections opened meanwhile count whole
            spent = {k: _cpu_delta(before[k], _cpu_by_pid(v)) for k, v in groups.items()}
            done, errors, elapsed, lat = result
            ok &= done == count
            per = 1000 / max(done, 1)
            cpu = [spent["server"] * per, spent["simulator"] * per, spent["postgres"] * per]
            cpu.append(gen * per)
            rows.append(
                f"| {rate:,.0f} | {done / elapsed:,.0f} | {_pct(lat, 0.5):.1f} | "
                f"{_pct(lat, 0.99):.1f} | {max(lat, default=0) * 1000:,.0f} | "
                f"{sum(errors.values()) or 0} | " + " / ".join(f"{x:.2f}" for x in cpu) + " | "
                f"{sum(cpu):.2f} |"
            )
            print(rows[-1] if len(rows) > 1 else _HEADER + "\n" + rows[-1], flush=True)
            if errors:
                print(f"errors at {rate:,.0f}/s: {errors}")
    finally:
        server.stop()
        sim.terminate()
        sim.wait(10)
    logged = server.errors()
    if logged:
        print(f"server logged {len(logged)} warnings/errors, first: {logged[0]}")
    _drop(PG_ADMIN_URL, DB)
    return 0 if ok else 1


_HEADER = (
    "| asked/s | achieved/s | p50 ms | p99 ms | max ms | errors "
    "| CPU ms/callback server / simulator / pg / generator | total |\n"
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
