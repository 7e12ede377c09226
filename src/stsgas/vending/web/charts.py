"""Charts drawn on the server as inline SVG: no script, no CDN, works offline.

Two shapes serve the meter page: bars (gas per month, per hour) and a time line
of events. Every coordinate is computed with ``Decimal`` from the values as
given and written with one decimal; every text is escaped. The SVG uses classes
(styled by app.css) and presentation attributes only, so the console's
Content-Security-Policy (no inline styles) holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from markupsafe import Markup, escape

__all__ = ["Bar", "Mark", "bar_chart", "event_chart"]

_TENTH: Final = Decimal("0.1")
_PAD_LEFT: Final = 8
#: room for the first bar's label, centred under it
_BAR_LEFT: Final = 24
_PAD_TOP: Final = 16
_PAD_BOTTOM: Final = 20


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its axis label, its value (not negative) and the text shown on hover."""

    label: str
    value: Decimal
    title: str


@dataclass(frozen=True, slots=True)
class Mark:
    """One event on the time line; ``alert`` events are drawn as needing attention."""

    at: datetime
    title: str
    alert: bool = False


def _n(value: Decimal | int) -> str:
    """A coordinate with one decimal (no exponent, no float)."""
    return f"{Decimal(value).quantize(_TENTH, rounding=ROUND_HALF_UP):f}"


def _open(label: str, width: int, height: int, kind: str) -> list[str]:
    text = escape(label)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {kind}" role="img" '
        f'aria-label="{text}" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMinYMin meet">',
        f"<title>{text}</title>",
    ]


def bar_chart(
    bars: Sequence[Bar],
    *,
    label: str,
    unit: str,
    width: int = 720,
    height: int = 180,
    label_every: int = 1,
) -> Markup:
    """Bars scaled to the largest value (all flat when every value is 0); every
    ``label_every``-th bar gets its label under the axis."""
    if any(b.value < 0 for b in bars):
        raise ValueError("a bar chart draws no negative values")
    if label_every < 1:
        raise ValueError("label_every is at least 1")
    plot_w = Decimal(width - _BAR_LEFT)
    plot_h = Decimal(height - _PAD_TOP - _PAD_BOTTOM)
    base = Decimal(height - _PAD_BOTTOM)
    top = max((b.value for b in bars), default=Decimal(0))
    parts = _open(label, width, height, "bars")
    parts.append(
        f'<line class="axis" x1="{_BAR_LEFT}" y1="{_n(base)}" x2="{width}" y2="{_n(base)}"/>'
    )
    parts.append(
        f'<text class="tick" x="{_BAR_LEFT}" y="12">max {escape(f"{top:f}")} {escape(unit)}</text>'
    )
    parts.append('<g class="bar-group">')
    step = plot_w / len(bars) if bars else plot_w
    for i, b in enumerate(bars):
        h = Decimal(0) if top == 0 else b.value / top * plot_h
        x = Decimal(_BAR_LEFT) + step * i
        parts.append(
            f'<rect class="bar" x="{_n(x + step / 10)}" y="{_n(base - h)}" '
            f'width="{_n(step * 8 / 10)}" height="{_n(h)}" data-label="{escape(b.label)}" '
            f'data-value="{escape(f"{b.value:f}")}"><title>{escape(b.title)}</title></rect>'
        )
        if i % label_every == 0:
            parts.append(
                f'<text class="label" x="{_n(x + step / 2)}" y="{height - 6}" '
                f'text-anchor="middle">{escape(b.label)}</text>'
            )
    parts.append("</g></svg>")
    return Markup("".join(parts))


def event_chart(
    marks: Sequence[Mark],
    *,
    start: datetime,
    end: datetime,
    label: str,
    width: int = 720,
    height: int = 60,
) -> Markup:
    """Events placed by time between ``start`` and ``end`` (those outside sit at the ends)."""
    if end < start:
        raise ValueError("the time line ends before it starts")
    span = Decimal(str((end - start).total_seconds())) if end > start else Decimal(0)
    plot_w = Decimal(width - 2 * _PAD_LEFT)
    mid = Decimal(height) / 2
    parts = _open(label, width, height, "events")
    parts.append(
        f'<line class="axis" x1="{_PAD_LEFT}" y1="{_n(mid)}" '
        f'x2="{width - _PAD_LEFT}" y2="{_n(mid)}"/>'
    )
    parts.append(
        f'<text class="label" x="{_PAD_LEFT}" y="{height - 4}">{start:%Y-%m-%d}</text>'
        f'<text class="label" x="{width - _PAD_LEFT}" y="{height - 4}" '
        f'text-anchor="end">{end:%Y-%m-%d}</text>'
    )
    for m in marks:
        if span == 0:
            share = Decimal("0.5")
        else:
            seconds = Decimal(str((m.at - start).total_seconds()))
            share = min(max(seconds / span, Decimal(0)), Decimal(1))
        kind = "event alert" if m.alert else "event"
        parts.append(
            f'<circle class="{kind}" cx="{_n(_PAD_LEFT + share * plot_w)}" cy="{_n(mid)}" '
            f'r="5"><title>{escape(m.title)}</title></circle>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
