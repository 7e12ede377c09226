"""The simulator's seam: one pass over an input's events counts what the two readers count."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from stsgas.meter.events import CloseReason, Events, LcdChanged, Logged, LogKind, ValveChanged
from stsgas.sim import driver

AT = datetime(2026, 1, 1, tzinfo=UTC)


def test_tally_counts_the_log_and_the_real_closes_as_logged_and_closures_do() -> None:
    """Log entries are counted by type; only closes that moved the valve are reported."""
    out = Events(
        [
            LcdChanged(text="CR 1 m3"),
            Logged(type=LogKind.VALVE_CLEANED, at=AT),
            ValveChanged(at=AT, open=False, reason=CloseReason.CREDIT, ok=True),
            ValveChanged(at=AT, open=False, reason=CloseReason.MANUAL, ok=False),
            ValveChanged(at=AT, open=True, reason=None, ok=True),
            Logged(type=LogKind.VALVE_CLEANED, at=AT),
        ]
    )
    one, two = Counter[str](), Counter[str]()
    closed = driver.tally(out, one)
    driver.logged(out, two)
    assert (closed, one) == (driver.closures(out), two)
    assert closed == ["credit"]
    assert one == {"valve_cleaned": 2}
