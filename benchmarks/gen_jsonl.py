"""Generate a JSON Lines request file for ``stsgas token encode`` benchmarks."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from stsgas.sts.identity import drn_with_check, pan_from_iin_drn

VK02 = "abababababababab"
VK04 = "abababababababab949494949494949401234567"


def meters(count: int, ea: str, dkga: str, base_date: int) -> list[dict[str, object]]:
    """``count`` distinct valid meters."""
    out = []
    for i in range(count):
        drn = drn_with_check(f"01{i:08d}")
        out.append(
            {
                "pan": pan_from_iin_drn("600727", drn),
                "key_type": 2,
                "sgc": "123456",
                "ti": "01",
                "krn": 1,
                "ken": 255,
                "base_date": base_date,
                "ea": ea,
                "dkga": dkga,
                "vending_key": VK02 if dkga == "02" else VK04,
            }
        )
    return out


def write(
    path: Path,
    lines: int,
    n_meters: int,
    ea: str = "07",
    dkga: str = "02",
    base_date: int = 2014,
    seed: int = 1,
) -> None:
    """Write ``lines`` gas credit requests spread over ``n_meters`` meters."""
    rng = random.Random(seed)
    ms = meters(n_meters, ea, dkga, base_date)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(lines):
            day = 1 + i % 28
            req = {
                "meter": ms[i % n_meters],
                "token": {
                    "class": 0,
                    "subclass": 2,
                    "rnd": rng.randrange(16),
                    "issued": f"2026-03-{day:02d}T{(i // 60) % 24:02d}:{i % 60:02d}Z",
                    "amount": f"{rng.randrange(1, 5000) / 10:.1f}",
                },
            }
            fh.write(json.dumps(req) + "\n")


if __name__ == "__main__":
    write(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
