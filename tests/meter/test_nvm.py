"""The page devices: memory, file and crash injection behave like an EEPROM that can lose power."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from stsgas.meter.adapters.file_nvm import FileNvm
from stsgas.meter.nvm import CrashingNvm, MemoryNvm, NvmError, NvmRegion, PowerCut


def test_memory_nvm_starts_erased_and_keeps_writes() -> None:
    """A new memory device reads 0xFF everywhere and returns what was written."""
    nvm = MemoryNvm(64, 8)
    assert nvm.image() == b"\xff" * 512
    nvm.write_page(3, bytes(range(64)))
    assert nvm.read_page(3) == bytes(range(64))
    assert nvm.read_page(2) == b"\xff" * 64
    assert nvm.writes == 1


def test_memory_nvm_refuses_bad_pages_and_sizes() -> None:
    """Out-of-range pages and short writes are caller errors, not silent truncation."""
    nvm = MemoryNvm(64, 8)
    with pytest.raises(IndexError):
        nvm.read_page(8)
    with pytest.raises(ValueError):
        nvm.write_page(0, b"short")
    with pytest.raises(ValueError):
        MemoryNvm(64, 8, image=b"\0" * 10)


def test_file_nvm_is_created_erased_with_the_right_size(tmp_path: Path) -> None:
    """A new NVM file has page_size * page_count erased bytes."""
    path = tmp_path / "meter.nvm"
    with FileNvm(path, 64, 16) as nvm:
        assert nvm.read_page(15) == b"\xff" * 64
    assert path.read_bytes() == b"\xff" * 1024


def test_file_nvm_persists_pages_across_reopen(tmp_path: Path) -> None:
    """A page written before close is there after reopening the file."""
    path = tmp_path / "meter.nvm"
    with FileNvm(path, 64, 16) as nvm:
        nvm.write_page(5, b"\x01" * 64)
    with FileNvm(path, 64, 16) as nvm:
        assert nvm.read_page(5) == b"\x01" * 64
        assert nvm.read_page(4) == b"\xff" * 64


def test_file_nvm_refuses_a_file_of_the_wrong_size(tmp_path: Path) -> None:
    """An existing file that is not the device's size is reported, never resized."""
    path = tmp_path / "meter.nvm"
    path.write_bytes(b"\0" * 100)
    with pytest.raises(NvmError, match="100 bytes"):
        FileNvm(path, 64, 16)
    assert path.read_bytes() == b"\0" * 100


def test_file_nvm_does_not_follow_a_symlink(tmp_path: Path) -> None:
    """A symlink at the NVM path cannot redirect the writes to another file."""
    target = tmp_path / "elsewhere"
    target.write_bytes(b"keep")
    link = tmp_path / "meter.nvm"
    os.symlink(target, link)
    with pytest.raises(NvmError):
        FileNvm(link, 64, 16)
    assert target.read_bytes() == b"keep"


def test_file_nvm_refuses_use_after_close(tmp_path: Path) -> None:
    """A closed device raises NvmError instead of writing to a reused descriptor."""
    nvm = FileNvm(tmp_path / "meter.nvm", 64, 16)
    nvm.close()
    with pytest.raises(NvmError):
        nvm.read_page(0)


def test_crashing_nvm_cuts_at_the_nth_write_and_stays_dead() -> None:
    """Writes before n land, the n-th raises PowerCut, and every later write raises too."""
    inner = MemoryNvm(64, 8)
    nvm = CrashingNvm(inner, after_writes=3, torn=False)
    nvm.write_page(0, b"\0" * 64)
    nvm.write_page(1, b"\0" * 64)
    with pytest.raises(PowerCut):
        nvm.write_page(2, b"\0" * 64)
    assert inner.read_page(2) == b"\xff" * 64  # not torn: the old content stays
    with pytest.raises(PowerCut):
        nvm.write_page(3, b"\0" * 64)
    assert inner.read_page(3) == b"\xff" * 64
    assert inner.read_page(1) == b"\0" * 64


@pytest.mark.parametrize("seed", range(40))
def test_crashing_nvm_tears_the_cut_page(seed: int) -> None:
    """A torn cut leaves a page that is neither fully old nor fully new, in both tear modes."""
    inner = MemoryNvm(64, 8)
    nvm = CrashingNvm(inner, after_writes=1, torn=True, rng=random.Random(seed))
    with pytest.raises(PowerCut):
        nvm.write_page(4, b"\0" * 64)
    page = inner.read_page(4)
    assert page != b"\0" * 64
    assert nvm.torn_mode in ("prefix", "garbage")
    if nvm.torn_mode == "prefix":
        keep = len(page) - len(page.lstrip(b"\0"))
        assert page == b"\0" * keep + b"\xff" * (64 - keep)


def test_power_cut_is_not_swallowed_by_except_exception() -> None:
    """PowerCut is a BaseException, so core code catching Exception cannot hide a cut."""
    assert not issubclass(PowerCut, Exception)


def test_a_run_of_pages_writes_what_single_writes_write() -> None:
    """MemoryNvm's bulk copy gives the image and write count of one write per page, last
    first; a bad run fails as the single write would; a region passes the run through."""
    pages = [bytes([k]) * 64 for k in range(5)]
    bulk, single = MemoryNvm(64, 16), MemoryNvm(64, 16)
    bulk.write_pages(3, pages)
    for k in range(4, -1, -1):
        single.write_page(3 + k, pages[k])
    assert (bulk.image(), bulk.writes) == (single.image(), single.writes)
    with pytest.raises(IndexError):
        bulk.write_pages(14, pages)
    with pytest.raises(ValueError, match="64 bytes"):
        bulk.write_pages(0, [b"short"])
    inner = MemoryNvm(64, 16)
    NvmRegion(inner, 8, 8).write_pages(1, pages[:2])
    assert inner.read_page(9) == pages[0]
    assert inner.read_page(10) == pages[1]


def test_a_power_cut_stops_a_run_of_pages_at_its_page() -> None:
    """The run is single writes on a crashing device: pages after the cut (written first)
    are new, the cut page and those before it are not all new."""
    pages = [bytes([k + 1]) * 64 for k in range(5)]
    crash = CrashingNvm(MemoryNvm(64, 16), after_writes=3, torn=False)
    with pytest.raises(PowerCut):
        crash.write_pages(0, pages)
    assert [crash.inner.read_page(k) == pages[k] for k in range(5)] == [
        False, False, False, True, True,
    ]  # fmt: skip
