"""The split store (issue 15): the hourly trend in its own region of the NVM, so a register
commit does not rewrite it; a power cut at any write of a commit that carries both loses
neither the registers' atomicity nor the trend's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stsgas.meter import MemoryStateStore, Meter
from stsgas.meter.demo import demo_meter_json
from stsgas.meter.nvm import CrashingNvm, MemoryNvm, Nvm, NvmRegion, NvmTamperError, PowerCut
from stsgas.meter.nvm_store import EncryptedRecordStore, split_record_store
from stsgas.meter.storage import SplitStateStore

from .test_nvm_support import KEY, seeded_nonce

T0 = datetime(2026, 1, 1, 6, tzinfo=UTC)
H = timedelta(hours=1)
PAGE, PAGES, MAIN = 128, 512, 128  # main region: pages 0..127, trend region: 128..511


def _split(nvm: Nvm, seed: int = 0) -> SplitStateStore:
    return split_record_store(nvm, KEY, main_pages=MAIN, nonce=seeded_nonce(seed))


def test_a_region_is_its_own_page_range() -> None:
    """Page i of a region is page first + i of the device; nothing outside it is reachable."""
    nvm = MemoryNvm(64, 16)
    region = NvmRegion(nvm, 4, 8)
    region.write_page(0, b"\x01" * 64)
    assert nvm.read_page(4) == b"\x01" * 64
    assert nvm.read_page(3) == b"\xff" * 64
    with pytest.raises(IndexError):
        region.write_page(8, b"\x00" * 64)
    with pytest.raises(ValueError, match="region"):
        NvmRegion(nvm, 10, 8)


def test_a_register_commit_does_not_touch_the_trend_region() -> None:
    """Only a commit carrying ``hour`` writes the trend's pages."""
    nvm = MemoryNvm(PAGE, PAGES)
    store = _split(nvm)
    store.commit({"reg": b"r1", "hour": b"H1" + bytes(4000)})
    trend = nvm.image()[MAIN * PAGE :]
    store.commit({"reg": b"r2"})
    assert nvm.image()[MAIN * PAGE :] == trend
    assert store.load() == {"reg": b"r2", "hour": b"H1" + bytes(4000)}


def test_a_copy_moved_between_regions_is_not_trusted() -> None:
    """The two stores share a key but not their sealing keys: a region image sealed by the
    registers' store does not load as the trend's, nor the other way round."""
    nvm = MemoryNvm(PAGE, 64)
    EncryptedRecordStore(nvm, KEY, nonce=seeded_nonce(1)).commit({"reg": b"r1"})
    moved = MemoryNvm(PAGE, 64, image=nvm.image())
    with pytest.raises(NvmTamperError):
        EncryptedRecordStore(moved, KEY, domain="trend").load()
    assert EncryptedRecordStore(moved, KEY).load() == {"reg": b"r1"}


def _meter(store: SplitStateStore | MemoryStateStore, now: datetime) -> Meter:
    return Meter.from_json(demo_meter_json(), store=store, now=now)


def test_the_meter_runs_on_a_split_store_as_on_one() -> None:
    """Same inputs, same readout: registers, hourly records and events survive a restart."""
    doc = demo_meter_json()
    runs = []
    for store in (_split(MemoryNvm(PAGE, PAGES)), MemoryStateStore()):
        m = Meter.from_json({**doc, "initial_credit": "50"}, store=store, now=T0)
        for hour in range(72):
            m.flow(60 + hour, T0 + hour * H)
        m.flush()
        again = Meter.from_json(doc, store=store, now=T0 + 80 * H)
        runs.append((again.registers, again.hourly_records(), again.events()))
    assert runs[0] == runs[1]
    assert len(runs[0][1]) == 72


def test_a_power_cut_in_a_flush_keeps_each_part_old_or_new() -> None:
    """Cut at every write of a flush (trend first, then registers): the meter always boots,
    its registers and its trend are each the ones before or after the flush, and new
    registers never come with the old trend."""
    doc = {**demo_meter_json(), "initial_credit": "50", "persist_every_l": 100_000}
    base = MemoryNvm(PAGE, PAGES)
    m = Meter.from_json(doc, store=_split(base), now=T0)
    for hour in range(30):
        m.flow(50, T0 + hour * H)
    m.flush()
    before, total = base.image(), 30 * 50
    probe = MemoryNvm(PAGE, PAGES, image=before)
    pm = Meter.from_json(doc, store=_split(probe, 7), now=T0 + 30 * H)
    pm.open_key(T0 + 30 * H)  # every boot starts closed
    pm.flow(50, T0 + 31 * H)  # an hour later: no high-flow check, nothing committed
    writes = probe.writes
    pm.flush()
    seen = set()
    for cut in range(1, probe.writes - writes + 1):
        crash = CrashingNvm(MemoryNvm(PAGE, PAGES, image=before), after_writes=writes + cut)
        cm = Meter.from_json(doc, store=_split(crash, 7), now=T0 + 30 * H)
        cm.open_key(T0 + 30 * H)
        cm.flow(50, T0 + 31 * H)
        with pytest.raises(PowerCut):
            cm.flush()
        survivor = MemoryNvm(PAGE, PAGES, image=crash.inner.image())
        booted = _meter(_split(survivor, 11), T0 + 40 * H)
        registered = booted.registers.total_l
        trend = sum(litres for _, litres in booted.hourly_records())
        seen.add((registered, trend))
    # never new registers over an old trend within one flush; each part old or new
    assert seen <= {(total, total), (total, total + 50), (total + 50, total + 50)}
    assert (total, total + 50) in seen  # a cut between the two parts: the trend went first
