"""Run benchmark modules: ``python -m benchmarks`` (all) or ``python -m benchmarks sts meter``.

Each ``benchmarks/bench_<name>.py`` exposes ``main(argv: list[str]) -> int`` and
prints its figures.
"""

from __future__ import annotations

import importlib
import platform
import subprocess
import sys
from pathlib import Path


def _machine() -> str:
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in subprocess.run(
                ["lscpu"], capture_output=True, text=True, check=False
            ).stdout.splitlines()
            if line.startswith("Model name")
        )
    except (StopIteration, OSError):
        model = platform.processor() or "unknown CPU"
    import os

    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main(argv: list[str]) -> int:
    """Run the named benchmarks, or all of them."""
    here = Path(__file__).parent
    names = argv or sorted(p.stem.removeprefix("bench_") for p in here.glob("bench_*.py"))
    print(f"machine: {_machine()}")
    status = 0
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        print(f"\n== {name}")
        status |= module.main([])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
