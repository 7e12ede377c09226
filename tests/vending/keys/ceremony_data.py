"""The key-ceremony cases of tests/data/vending/keys/ceremony.json, loaded once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CASES: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "data" / "vending" / "keys" / "ceremony.json").read_text()
)
