"""The server-drawn SVG charts: well-formed, one bar or mark per value, scaled exactly."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsgas.vending.web.charts import Bar, Mark, bar_chart, event_chart

SVG = "{http://www.w3.org/2000/svg}"


def _tree(markup: str) -> ET.Element:
    return ET.fromstring(markup)


def test_bars_are_scaled_to_the_largest_value() -> None:
    """Three bars 1, 2, 4 m³: heights in the same ratio, the largest fills the plot."""
    svg = _tree(
        bar_chart(
            [Bar("a", Decimal(1), "a"), Bar("b", Decimal(2), "b"), Bar("c", Decimal(4), "c")],
            label="Gas",
            unit="m³",
            height=180,
        )
    )
    rects = svg.findall(f".//{SVG}rect")
    heights = [Decimal(r.attrib["height"]) for r in rects]
    assert heights == [Decimal("36.0"), Decimal("72.0"), Decimal("144.0")]  # plot 180-16-20
    assert [r.attrib["data-label"] for r in rects] == ["a", "b", "c"]
    assert svg.attrib["role"] == "img"
    assert svg.attrib["aria-label"] == "Gas"


def test_all_zero_values_draw_flat_bars() -> None:
    """A month without gas is a bar of height 0, not a division by zero."""
    svg = _tree(bar_chart([Bar("a", Decimal(0), "a")] * 3, label="Gas", unit="m³"))
    assert [r.attrib["height"] for r in svg.findall(f".//{SVG}rect")] == ["0.0"] * 3


def test_no_bars_is_an_empty_chart() -> None:
    """No values: an axis and no bar."""
    assert _tree(bar_chart([], label="Gas", unit="m³")).findall(f".//{SVG}rect") == []


def test_text_is_escaped() -> None:
    """A label with markup stays text."""
    markup = bar_chart([Bar("<b>", Decimal(1), '"&')], label="<script>", unit="m³")
    assert "<script>" not in markup
    svg = _tree(markup)
    assert svg.attrib["aria-label"] == "<script>"
    assert svg.find(f".//{SVG}rect/{SVG}title").text == '"&'  # type: ignore[union-attr]


def test_negative_values_are_refused() -> None:
    """A bar chart of consumption has no negative bars."""
    with pytest.raises(ValueError):
        bar_chart([Bar("a", Decimal(-1), "a")], label="Gas", unit="m³")


def test_labels_every_nth_bar() -> None:
    """120 months labelled once a year: 10 labels."""
    bars = [Bar(str(i), Decimal(i), str(i)) for i in range(120)]
    svg = _tree(bar_chart(bars, label="Gas", unit="m³", label_every=12))
    assert len(svg.findall(f".//{SVG}text[@class='label']")) == 10


def test_events_are_placed_by_time_and_alerts_marked() -> None:
    """Start, middle and end of the span; the middle one needs a visit."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=10)
    marks = [Mark(start, "a"), Mark(start + timedelta(days=5), "b", alert=True), Mark(end, "c")]
    svg = _tree(event_chart(marks, start=start, end=end, label="Events", width=720))
    circles = svg.findall(f".//{SVG}circle")
    assert [c.attrib["cx"] for c in circles] == ["8.0", "360.0", "712.0"]
    assert [c.attrib["class"] for c in circles] == ["event", "event alert", "event"]


@given(st.lists(st.integers(min_value=0, max_value=10**12), max_size=60))
def test_any_values_give_one_well_formed_bar_each(values: list[int]) -> None:
    """Any litre counts: one bar each, heights within the plot, never negative."""
    bars = [Bar(str(i), Decimal(v).scaleb(-3), "t") for i, v in enumerate(values)]
    svg = _tree(bar_chart(bars, label="Gas", unit="m³", height=180))
    heights = [Decimal(r.attrib["height"]) for r in svg.findall(f".//{SVG}rect")]
    assert len(heights) == len(values)
    assert all(Decimal(0) <= h <= Decimal(144) for h in heights)
