"""JSON Lines per CPU-second through the token batch API and ``stsgas token encode|decode``.

Run: ``.venv/bin/python -m benchmarks token`` (add ``--src DIR`` to time the
CLI of another source tree, e.g. an older checkout, on the same files; and
``--lines N``, default 200,000). The process pins itself to one CPU. Rates
are lines per CPU-second: ``time.process_time`` around the library calls,
and the child's user+sys time for the CLI (start-up included), so other
jobs on a shared machine skew them less than wall time.

Files (generated into a temporary directory): plain gas credit lines over
1,000 meters, by ``issued`` (as people write them) and by ``tid`` (as a
vending system writes them); a mix of meter shapes (STA/DEA/MISTY1,
DKGA02/04, and meters given by their decoder key); and STA tokens to decode.
"""

from __future__ import annotations

import gc
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import orjson

from benchmarks.gen_jsonl import meters
from stsgas.sts import MeterConfig
from stsgas.sts.batch import Answers, encode_lines
from stsgas.sts.batch_decode import decode_lines

BATCH = 8192
_SHAPES = [("07", "02"), ("09", "02"), ("11", "04"), ("07", "04")]


def _requests(n: int, n_meters: int, form: str) -> list[bytes]:
    rng = random.Random(1)
    if form == "mixed":
        ms: list[dict[str, object]] = []
        for ea, dkga in _SHAPES:
            ms += meters(n_meters // 5, ea, dkga, 2014)
        for m in meters(n_meters // 5, "09", "02", 2014):  # the decoder key form
            key = MeterConfig.from_json(m).key().hex()
            ms.append({k: v for k, v in m.items() if k not in ("dkga", "vending_key")})
            ms[-1]["decoder_key"] = key
        rng.shuffle(ms)
    else:
        ms = meters(n_meters, "07", "02", 2014)
    out = []
    for i in range(n):
        tok: dict[str, object] = {"class": 0, "subclass": 2, "rnd": rng.randrange(16)}
        if form == "issued":
            tok["issued"] = f"2026-03-{1 + i % 28:02d}T{(i // 60) % 24:02d}:{i % 60:02d}Z"
        else:
            tok["tid"] = 6_500_000 + i
        tok["amount"] = f"{rng.randrange(1, 5000) / 10:.1f}"
        out.append(orjson.dumps({"meter": ms[i % len(ms)], "token": tok}))
    return out


def _decode_requests(encode_requests: list[bytes]) -> list[bytes]:
    answers = _run(encode_lines, encode_requests)
    return [
        orjson.dumps({"token": orjson.loads(a)["token"], "meter": orjson.loads(r)["meter"]})
        for a, r in zip(answers.lines, encode_requests, strict=True)
    ]


def _run(fn: Callable[..., Answers], raws: Sequence[bytes]) -> Answers:
    out: list[bytes] = []
    for start in range(0, len(raws), BATCH):
        answers = fn(raws[start : start + BATCH], first=start + 1)
        if answers.failed:
            raise RuntimeError(f"line {answers.failed[0]} failed")
        out += answers.lines
    return Answers(out)


def library_rate(fn: Callable[..., Answers], raws: Sequence[bytes]) -> float:
    """Lines per CPU-second through the batch API (caches warm from a first pass)."""
    _run(fn, raws[:BATCH])
    gc.disable()
    try:
        t0 = time.process_time()
        _run(fn, raws)
        return len(raws) / (time.process_time() - t0)
    finally:
        gc.enable()


def cli_rate(command: str, path: Path, n: int, src: str | None) -> tuple[float, float]:
    """(lines per CPU-second, lines per wall second) of ``stsgas token COMMAND --input``."""
    cmd = [sys.executable, "-m", "stsgas", "token", command, "--input", str(path)]
    if subprocess.run(["which", "taskset"], capture_output=True, check=False).returncode == 0:
        cmd = ["taskset", "-c", "0", *cmd]
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, check=False, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0 or proc.stdout.count(b"\n") != n:
        raise RuntimeError(proc.stderr.decode()[-500:])
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return n / cpu, n / wall


def main(argv: list[str]) -> int:
    """Print lines per CPU-second for each file, library and CLI."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    n = int(argv[argv.index("--lines") + 1]) if "--lines" in argv else 200_000
    src = argv[argv.index("--src") + 1] if "--src" in argv else None
    files = {form: _requests(n, 1000, form) for form in ("issued", "tid", "mixed")}
    files["decode"] = _decode_requests(files["issued"])
    print(f"{n:,} lines per file; lines per CPU-second on one core (CLI: wall in brackets)")
    print(f"{'file':<10}{'batch API':>14}{'token CLI':>14}{'(wall)':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for form, raws in files.items():
            path = Path(tmp) / f"{form}.jsonl"
            path.write_bytes(b"\n".join(raws) + b"\n")
            fn = decode_lines if form == "decode" else encode_lines
            lib = library_rate(fn, raws) if src is None else float("nan")
            command = "decode" if form == "decode" else "encode"
            cpu, wall = cli_rate(command, path, n, src)
            print(f"{form:<10}{lib:>12,.0f}/s{cpu:>12,.0f}/s{wall:>10,.0f}/s")
    print("goal: 300,000 lines per CPU-second for plain credit lines, either form")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
