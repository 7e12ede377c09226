"""Nvm.write_span: one blob of whole pages written as write_pages would write its pages."""

from __future__ import annotations

import pytest

from stsgas.meter.nvm import CrashingNvm, MemoryNvm, NvmRegion, PowerCut

PAGES = [bytes([k + 1]) * 64 for k in range(5)]
BLOB = b"".join(PAGES)


def test_a_span_writes_what_its_pages_write() -> None:
    """Same image and same write count as the run of pages, on a device and on a region."""
    span, run = MemoryNvm(64, 16), MemoryNvm(64, 16)
    span.write_span(3, BLOB)
    run.write_pages(3, PAGES)
    assert (span.image(), span.writes) == (run.image(), run.writes)
    inner = MemoryNvm(64, 16)
    NvmRegion(inner, 8, 8).write_span(1, BLOB[:128])
    assert [inner.read_page(k) for k in (9, 10)] == PAGES[:2]


@pytest.mark.parametrize("device", [MemoryNvm(64, 16), NvmRegion(MemoryNvm(64, 32), 16, 16)])
def test_a_bad_span_is_refused_and_nothing_is_written(device: MemoryNvm | NvmRegion) -> None:
    """A span past the end or not whole pages raises before any page changes."""
    before = device.image()
    with pytest.raises(IndexError):
        device.write_span(14, BLOB)
    with pytest.raises(ValueError, match="whole pages"):
        device.write_span(0, BLOB + b"x")
    assert device.image() == before


def test_a_power_cut_stops_a_span_at_its_page() -> None:
    """On a device that can be cut a span is single writes, last page first."""
    crash = CrashingNvm(MemoryNvm(64, 16), after_writes=3, torn=False)
    with pytest.raises(PowerCut):
        crash.write_span(0, BLOB)
    assert [crash.inner.read_page(k) == PAGES[k] for k in range(5)] == [
        False, False, False, True, True,
    ]  # fmt: skip
