"""The cost of one log line through the stsgas renderer (every request writes one).

Run: ``.venv/bin/python -m benchmarks logs`` (option ``--lines N``). Formats
uvicorn-style access records with a request id bound, through the JSON and the
console renderers, and, for comparison, through the standard library's plain
formatter; prints CPU microseconds per line and lines per CPU-second.
"""

from __future__ import annotations

import argparse
import contextvars
import io
import logging
import time

from stsgas.vending import logs


def _time(formatter: logging.Formatter, n: int) -> float:
    """CPU seconds to format and write ``n`` access records."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    logger = logging.getLogger("uvicorn.access.bench")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)

    def run() -> float:
        logs.bind_request_id("0123456789abcdef0123456789abcdef")
        t0 = time.process_time()
        for i in range(n):
            logger.info(
                '%s - "%s %s HTTP/%s" %d', "10.0.0.9:5123", "POST", "/api/v1/sales", "1.1", 201
            )
            if i % 1000 == 999:
                out.seek(0)
                out.truncate()
        return time.process_time() - t0

    return contextvars.copy_context().run(run)


def main(argv: list[str]) -> int:
    """Time each renderer; print µs per line and lines per CPU-second."""
    p = argparse.ArgumentParser(prog="benchmarks logs")
    p.add_argument("--lines", type=int, default=50_000)
    args = p.parse_args(argv)
    cases = {
        "stdlib plain formatter (baseline)": logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s"
        ),
        "stsgas json": logs.formatter("json"),
        "stsgas console": logs.formatter("console"),
    }
    for name, formatter in cases.items():
        _time(formatter, 2_000)  # warm up
        cpu = _time(formatter, args.lines)
        per_line = cpu / args.lines * 1e6
        print(f"{name:<36} {per_line:8.1f} µs/line  {args.lines / cpu:10,.0f} lines/CPU-s")
    return 0
