"""A scenario's credit spec may give the TID itself, as a vending system picks one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stsgas.meter.scenario import ScenarioError, run_scenario

DATA = Path(__file__).resolve().parents[1] / "data" / "meter" / "scenario-credit-tid.json"


def _doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return doc


def test_credit_with_tid_is_the_token_of_that_tid() -> None:
    """Two sales in one minute: the second, one minute past, is accepted; a replay is not."""
    report = run_scenario(_doc())
    assert [(s["accepted"], s["code"]) for s in report["steps"]] == [
        (True, "ok"),
        (True, "ok"),
        (False, "used"),
    ]
    assert report["final"]["credit"] == "15"
    assert report["final"]["tids"][-2:] == [6_500_000, 6_500_001]


def test_credit_tid_must_be_a_number() -> None:
    """A TID that is not a whole number is a scenario error naming the step."""
    doc = _doc()
    doc["steps"][0]["token"]["tid"] = "6500000"
    with pytest.raises(ScenarioError, match="'tid' must be a whole number"):
        run_scenario(doc)
