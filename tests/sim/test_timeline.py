"""The jump loop runs steps and meter timers in time order and stops at the end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stsgas.sim.timeline import Timeline, run_until

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class HourlyTicker:
    """A meter double whose only timer is the top of each hour."""

    def __init__(self, log: list[tuple[str, datetime]]) -> None:
        self.log = log
        self.next = T0 + timedelta(hours=1)

    def next_deadline(self) -> datetime | None:
        return self.next

    def handle_timer(self, now: datetime) -> None:
        self.log.append(("timer", now))
        self.next = now + timedelta(hours=1)


def test_steps_and_timers_interleave_in_time_order() -> None:
    """Steps and deadlines run by time; a timer due with a step runs first; the end is open."""
    log: list[tuple[str, datetime]] = []
    meter = HourlyTicker(log)
    tl = Timeline()
    for minutes in (30, 60, 150):
        tl.schedule(T0 + timedelta(minutes=minutes), lambda t: log.append(("step", t)))
    fired = run_until(meter, tl, T0 + timedelta(hours=3))
    assert [(k, (t - T0).total_seconds() / 60) for k, t in log] == [
        ("step", 30),
        ("timer", 60),
        ("step", 60),
        ("timer", 120),
        ("step", 150),
    ]
    assert fired == 2
    assert [t for _, t in log] == sorted(t for _, t in log)


def test_steps_at_one_instant_keep_scheduling_order() -> None:
    """Two steps at the same moment run in the order they were scheduled."""
    log: list[str] = []
    tl = Timeline()
    at = T0 + timedelta(minutes=5)
    tl.schedule(at, lambda t: log.append("first"))
    tl.schedule(at, lambda t: log.append("second"))
    run_until(HourlyTicker([]), tl, T0 + timedelta(minutes=10))
    assert log == ["first", "second"]
    assert len(tl) == 0


def test_a_step_may_schedule_more_steps() -> None:
    """A step that schedules a follow-up sees it run before the end."""
    seen: list[datetime] = []
    tl = Timeline()

    def again(t: datetime) -> None:
        seen.append(t)
        tl.schedule(t + timedelta(minutes=20), again)

    tl.schedule(T0, again)
    run_until(HourlyTicker([]), tl, T0 + timedelta(hours=1))
    assert len(seen) == 3
    assert tl.next_time() == T0 + timedelta(minutes=60)
