"""Decoder-side TID checks: Old, Used, KeyExpired and the memory's eviction rule."""

from hypothesis import given, settings
from hypothesis import strategies as st

from stsgas.sts.decoder import TidVerdict, check_tid, remember_tid


def test_verdicts_in_the_standards_order() -> None:
    """Old beats Used, Used beats KeyExpired, and a fresh TID passes."""
    memory = (100, 200, 300)
    assert check_tid(50, memory, capacity=3) is TidVerdict.OLD
    assert check_tid(50, memory, capacity=4) is TidVerdict.OK  # not full: not Old
    assert check_tid(200, memory, capacity=3) is TidVerdict.USED
    assert check_tid(5 << 16, (), capacity=3, ken=4) is TidVerdict.EXPIRED
    assert check_tid(400, memory, capacity=3, ken=255) is TidVerdict.OK


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 2**24 - 1), max_size=80), st.integers(1, 60))
def test_memory_never_accepts_a_tid_twice(tids: list[int], capacity: int) -> None:
    """Replaying any accepted TID is refused as Used or Old, whatever the memory size."""
    memory: tuple[int, ...] = ()
    accepted = []
    for tid in tids:
        if check_tid(tid, memory, capacity) is TidVerdict.OK:
            memory = remember_tid(memory, tid, capacity)
            accepted.append(tid)
        assert len(memory) <= capacity
    for tid in accepted:
        assert check_tid(tid, memory, capacity) in (TidVerdict.USED, TidVerdict.OLD)
