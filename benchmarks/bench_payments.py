"""Mobile-money callbacks per second against a live server on PostgreSQL.

Run: ``.venv/bin/python -m benchmarks payments`` (or ``-m benchmarks.bench_payments``;
options ``--seconds``, ``--rate``, ``--servers``). A scratch PostgreSQL database
is seeded (``bench_vending.seed``: meters with tariffs), the mobile-money
simulator runs as its own process, and ``uvicorn`` serves the app factory
with the M-Pesa webhook pointed at the simulator. The simulator is asked for
the payments first (each naming a meter, its callback kept back); then this
process posts their confirmations at a paced rate (default 500/s), each one
authenticated, verified with the simulator (OAuth token + status query) and
applied as a sale, and prints the achieved rate, p50 and p99 latency, the
errors, and the CPU each callback cost the server, the simulator (the
provider's side: on a real deployment another machine), PostgreSQL and this
load generator. Nothing is recorded here; figures come from a quiet machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.bench_vending import (
    PG_ADMIN_URL,
    Server,
    _Conn,
    _cpu_by_pid,
    _cpu_delta,
    _drop,
    _free_port,
    _pct,
    _postgres_pids,
    _recreate,
    _Stale,
    _tree,
    seed,
)

SECRET = "bench-callback-secret"
CONFIRM = f"/api/v1/payments/mpesa/confirmation?token={SECRET}"


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


def _payments(sim: str, pans: list[str], count: int) -> list[bytes]:
    """``count`` payments made at the simulator; their confirmation bodies."""
    bodies = []
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
            bodies.append(json.dumps(r.json()["confirmation"]).encode())
    return bodies


async def _paced(
    base: str, bodies: list[bytes], rate: float
) -> tuple[int, dict[str, int], float, list[float]]:
    lat: list[float] = []
    errors: dict[str, int] = {}
    done = 0
    idle: list[_Conn] = []

    async def one(body: bytes) -> None:
        nonlocal done
        conn = idle.pop() if idle else _Conn(base)
        t0 = time.perf_counter()
        try:
            try:
                status = await asyncio.wait_for(conn.post(CONFIRM, body, ""), 30.0)
            except _Stale:  # safe to resend: a payment is applied once per TransID
                conn.close()
                conn = _Conn(base)
                status = await asyncio.wait_for(conn.post(CONFIRM, body, ""), 30.0)
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
            conn.close()
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
    for k, body in enumerate(bodies):
        await asyncio.sleep(max(0.0, start + k / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(one(body)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    for conn in idle:
        conn.close()
    return done, errors, elapsed, lat


def main(argv: list[str]) -> int:
    """Seed, start simulator and server, drive paced callbacks, print the figures."""
    p = argparse.ArgumentParser(prog="bench_payments")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--rate", type=float, default=500.0, help="callbacks per second")
    p.add_argument("--servers", type=int, default=2, help="uvicorn workers")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds sent first, not counted")
    args = p.parse_args(argv)
    url = _recreate(PG_ADMIN_URL, "stsgas_bench_payments")
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
    try:
        count = max(1, int(args.rate * args.seconds))
        warm = int(args.rate * args.warmup)
        bodies = _payments(sim_url, pans, warm + count)
        # warm-up, not counted: the workers open their pooled connections and prepare
        # their statements, as bench_vending's runs do before measuring
        asyncio.run(_paced(server.base, bodies[:warm], args.rate))
        bodies = bodies[warm:]
        groups = {
            "server": _tree(server.proc.pid),
            "simulator": [sim.pid],
            "postgres": _postgres_pids(),
        }
        before = {k: _cpu_by_pid(v) for k, v in groups.items()}
        gen_before = time.process_time()
        done, errors, elapsed, lat = asyncio.run(_paced(server.base, bodies, args.rate))
        gen = time.process_time() - gen_before
        groups["postgres"] = _postgres_pids()  # connections opened meanwhile count whole
        spent = {k: _cpu_delta(before[k], _cpu_by_pid(v)) for k, v in groups.items()}
    finally:
        server.stop()
        sim.terminate()
        sim.wait(10)
    per = max(done, 1)
    cpu = " / ".join(
        f"{1000 * x / per:.2f}"
        for x in (spent["server"], spent["simulator"], spent["postgres"], gen)
    )
    print(
        "| callbacks | asked/s | achieved/s | p50 ms | p99 ms | errors "
        "| CPU ms/callback server/simulator/pg/gen |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {count:,} | {args.rate:,.0f} | {done / elapsed:,.0f} | {_pct(lat, 0.5):.1f} | "
        f"{_pct(lat, 0.99):.1f} | {errors or 0} | {cpu} |"
    )
    logged = server.errors()
    if logged:
        print(f"server logged {len(logged)} warnings/errors, first: {logged[0]}")
    _drop(PG_ADMIN_URL, "stsgas_bench_payments")
    return 0 if done == count else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
