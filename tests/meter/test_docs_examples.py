"""The runnable examples in docs/meter.md run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "meter.md"
EXAMPLES = [
    block
    for block in re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    if block.startswith("# example:")
]


def test_docs_have_examples() -> None:
    """The local-time section keeps its example."""
    assert any("billing_day" in block for block in EXAMPLES)


@pytest.mark.parametrize("block", EXAMPLES, ids=lambda b: b.splitlines()[0][11:])
def test_example_runs(block: str) -> None:
    """Each ``# example:`` block executes and its asserts hold."""
    exec(compile(block, str(DOC), "exec"), {})  # our own documentation, run as written
