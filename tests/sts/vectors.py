"""Loader for the shared STS vectors (tests/data/sts-vectors.json), grouped by what they check."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parent.parent / "data"


@cache
def all_vectors() -> list[dict[str, Any]]:
    """Every vector in the file, in file order."""
    doc = json.loads((DATA / "sts-vectors.json").read_text(encoding="utf-8"))
    vectors: list[dict[str, Any]] = doc["vectors"]
    assert len(vectors) == doc["count"]
    return vectors


def params(select: Callable[[dict[str, Any]], bool]) -> list[Any]:
    """pytest params (id = vector id + position) for the vectors ``select`` keeps."""
    return [pytest.param(v, id=f"{v['id']}#{n}") for n, v in enumerate(all_vectors()) if select(v)]
