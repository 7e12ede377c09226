"""The generated valve diagram and lockout table: complete, and the docs' copy current."""

from __future__ import annotations

from pathlib import Path

from stsgas.meter import _state as S  # noqa: N812
from stsgas.meter.diagram import lockout_table, valve_mermaid

DOC = Path(__file__).resolve().parents[2] / "docs" / "meter.md"


def test_every_table_entry_is_an_edge() -> None:
    """Each (state, input) pair of VALVE_TABLE is drawn, to the state the table names."""
    text = valve_mermaid()
    for (state, inp), (nxt, _reason) in S.VALVE_TABLE.items():
        assert f"    {state.value} --> {nxt.value}: {inp.value}" in text


def test_lockout_rows_follow_the_rule() -> None:
    """The lockout table is lockout_seconds, row by row."""
    rows = lockout_table(12).splitlines()[1:]
    assert [int(r.split()[1]) for r in rows] == [S.lockout_seconds(n) for n in range(1, 13)]


def test_docs_show_the_current_diagram() -> None:
    """docs/meter.md carries the generator's output, so the picture cannot drift."""
    doc = DOC.read_text(encoding="utf-8")
    assert "```mermaid\n" + valve_mermaid() + "\n```" in doc
    assert "```text\n" + lockout_table() + "\n```" in doc
