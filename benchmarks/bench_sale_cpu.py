"""The server's own CPU per sale, with the database's answers replayed.

Run: ``.venv/bin/python -m benchmarks.bench_sale_cpu`` (options ``--sales``,
``--repeats``). A sale's wall time on one client is the server's CPU, the
database's and the round trips between them, and two of those three swing with
the host. This isolates the first: a scratch PostgreSQL database is seeded
(``bench_vending.seed``), the app runs in this process (its lifespan opens the
sale pool), two real sales of a meter are made (a vendor's first may make its
ledger accounts), and the asyncpg answers of a third are recorded. Every later
sale of that meter is then answered from the recording, so nothing waits on
the database and the CPU this thread spends is the app's: the request guard,
the sale shim, the pipeline, the token and the receipt. It prints the median
and the least of ``--repeats`` runs of ``--sales`` sales, for an amount meter
and a volume meter (whose token draws a random nibble).

Its figure is comparable between two trees on one host (alternate them); it
is not a sales rate. The collector runs as it does in the server.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from benchmarks import bench_vending as bv

Message = MutableMapping[str, Any]
#: the scratch database (its own name: it may run beside bench_vending)
DB = "stsgas_bench_sale_cpu"


class _Replay:
    """Stands in for the sale pool's asyncpg pool: records one sale's answers, then
    gives them back to every later sale (statement for statement, in order)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.answers: list[Any] = []
        self.recording = True
        self._next = 0

    def __getattr__(self, name: str) -> Any:  # sizes for the pool gauges
        return getattr(self.real, name)

    async def acquire(self, timeout: float | None = None) -> Any:
        self._next = 0
        if self.recording:
            return _Recording(self, await self.real.acquire(timeout=timeout))
        return _Replaying(self)

    async def release(self, conn: Any) -> None:
        if isinstance(conn, _Recording):
            await self.real.release(conn.conn)

    def answer(self) -> Any:
        found = self.answers[self._next % len(self.answers)]
        self._next += 1
        return found


class _Recording:
    def __init__(self, replay: _Replay, conn: Any) -> None:
        self.replay = replay
        self.conn = conn

    def is_in_transaction(self) -> bool:
        return bool(self.conn.is_in_transaction())

    async def execute(self, sql: str, *args: Any) -> Any:
        return await self.conn.execute(sql, *args)

    async def fetch(self, sql: str, *args: Any) -> Any:
        rows = await self.conn.fetch(sql, *args)
        self.replay.answers.append(rows)
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        row = await self.conn.fetchrow(sql, *args)
        self.replay.answers.append(row)
        return row


class _Replaying:
    def __init__(self, replay: _Replay) -> None:
        self.replay = replay

    def is_in_transaction(self) -> bool:
        return False

    async def execute(self, sql: str, *args: Any) -> str:
        return "OK"  # BEGIN, COMMIT

    async def fetch(self, sql: str, *args: Any) -> Any:
        return self.replay.answer()

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        return self.replay.answer()


async def _sale(app: Any, pan: str, token: str, key: str) -> list[int]:
    """POST one sale to the ASGI app; the statuses it answered."""
    body = b'{"meter_number":"%s","amount":"5.00","channel":"pos"}' % pan.encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/sales",
        "raw_path": b"/api/v1/sales",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", f"Bearer {token}".encode()),
            (b"idempotency-key", key.encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    statuses: list[int] = []

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client stays: never a disconnect
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(int(message["status"]))

    await app(scope, receive, send)
    return statuses


async def _lifespan(app: Any) -> Callable[[], Awaitable[None]]:
    """Start the app's lifespan; the returned coroutine function ends it."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    task = asyncio.create_task(app({"type": "lifespan", "state": {}}, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"the app did not start: {started}")

    async def stop() -> None:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task

    return stop


async def _measure(url: str, pans: list[str], token: str, sales: int, repeats: int) -> None:
    os.environ.update(
        {
            "STSGAS_DATABASE_URL": url,
            "STSGAS_MASTER_KEY": bv.MASTER,
            "STSGAS_CUSTOMER_SALES_PER_HOUR": "1000000",
            "STSGAS_VENDOR_SALES_PER_MINUTE": "1000000",
        }
    )
    from stsgas.vending.app import create_app

    app = create_app()
    stop = await _lifespan(app)
    pool = app.state.sale_pool
    count = iter(range(10**9))
    print("| meter | sales | µs CPU per sale, median | least |")
    print("| --- | ---: | ---: | ---: |")
    try:
        # seed(): even meters sell by amount, odd ones by volume
        for kind, pan in (("amount", pans[0]), ("volume", pans[1])):
            for _ in range(2):  # real sales: a vendor's first may make its accounts
                assert await _sale(app, pan, token, f"real-{next(count)}") == [201]
            replay = _Replay(pool.pool)
            pool.pool = replay
            try:
                assert await _sale(app, pan, token, f"rec-{next(count)}") == [201]
                replay.recording = False
                for _ in range(500):  # warm
                    assert await _sale(app, pan, token, f"w-{next(count)}") == [201]
                runs = []
                for _ in range(repeats):
                    gc.collect()
                    began = time.thread_time()
                    for _ in range(sales):
                        await _sale(app, pan, token, f"m-{next(count)}")
                    runs.append((time.thread_time() - began) / sales * 1e6)
            finally:
                pool.pool = replay.real
            print(f"| {kind} | {sales:,} | {statistics.median(runs):.1f} | {min(runs):.1f} |")
    finally:
        await stop()


def main(argv: list[str]) -> int:
    """Seed, measure both meter kinds, print the table; 0 on success."""
    p = argparse.ArgumentParser(prog="bench_sale_cpu", description=__doc__.split("\n")[0])
    p.add_argument("--sales", type=int, default=3000, help="sales per measured run")
    p.add_argument("--repeats", type=int, default=5, help="measured runs per meter kind")
    args = p.parse_args(argv)
    url = bv._recreate(bv.PG_ADMIN_URL, DB)
    try:
        pans, tokens = bv.seed(url, 1)
        asyncio.run(_measure(url, pans, tokens[0], args.sales, args.repeats))
    finally:
        bv._drop(bv.PG_ADMIN_URL, DB)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
