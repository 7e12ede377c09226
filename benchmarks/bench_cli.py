"""Start-up time of the ``stsgas`` command: what a person waits before anything happens.

Run: ``.venv/bin/python -m benchmarks cli`` (options ``--runs N``, ``--src DIR`` to
time another checkout's ``src`` folder, for a before/after comparison). Each
command runs as a fresh process, ``python -m stsgas …``; the figures are the
median and the fastest wall time, and how many modules the process imported
(``python -X importtime``), and whether the web stack (fastapi, sqlalchemy) was one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LINE = Path(__file__).resolve().parents[1] / "tests" / "data" / "cli" / "credit-line.jsonl"

COMMANDS = {
    "stsgas --help": ["--help"],
    "stsgas --version": ["--version"],
    "stsgas token encode (1 line)": ["token", "encode", "--input", str(LINE)],
    "stsgas token credit": [
        "token", "credit", "--pan", "600727000000000009", "--sgc", "123456", "--ti", "01",
        "--krn", "1", "--base-date", "2014", "--ea", "07", "--dkga", "02",
        "--vending-key", "abababababababab", "--amount", "12.5", "--at", "2026-03-01T10:00Z",
    ],
    "stsgas meter codes": ["meter", "codes"],
}  # fmt: skip


def _env(src: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STSGAS_")}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def _time(argv: list[str], env: dict[str, str], cwd: str) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "stsgas", *argv],
        capture_output=True,
        env=env,
        cwd=cwd,
        check=False,
    )
    took = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{argv}: exit {done.returncode}: {done.stderr.decode()[-300:]}")
    return took


def _modules(argv: list[str], env: dict[str, str], cwd: str) -> tuple[int, bool]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "stsgas", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )
    names = [
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    ]
    web = any(n in ("fastapi", "sqlalchemy") for n in names)
    return len(names), web


def main(argv: list[str]) -> int:
    """Time each command ``--runs`` times and print one line per command."""
    p = argparse.ArgumentParser(prog="benchmarks cli")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--src", type=Path, help="a checkout's src folder to time instead")
    args = p.parse_args(argv)
    env = _env(args.src)
    with tempfile.TemporaryDirectory() as cwd:
        print(f"{'command':<30} {'median':>8} {'fastest':>8} {'modules':>8}  web stack")
        for name, cmd in COMMANDS.items():
            _time(cmd, env, cwd)  # warm the file cache
            times = [_time(cmd, env, cwd) for _ in range(args.runs)]
            count, web = _modules(cmd, env, cwd)
            print(
                f"{name:<30} {statistics.median(times) * 1000:>6.0f}ms "
                f"{min(times) * 1000:>6.0f}ms {count:>8}  {'yes' if web else 'no'}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
