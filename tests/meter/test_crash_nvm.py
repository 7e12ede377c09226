"""Power cuts at every write of a commit, and tampering with every byte: old or new, never torn."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsgas.meter.adapters.file_nvm import FileNvm
from stsgas.meter.nvm import CrashingNvm, MemoryNvm, NvmTamperError, PowerCut
from stsgas.meter.nvm_store import CipherName

from .test_nvm_support import CIPHERS, record_sets, store

PAGE, PAGES = 64, 64  # small pages, so one commit spans several writes


def _image_after(cipher: CipherName, history: list[dict[str, bytes]]) -> bytes:
    nvm = MemoryNvm(PAGE, PAGES)
    s = store(nvm, cipher, seed=1)
    for records in history:
        s.commit(records)
    return nvm.image()


def _writes_of(cipher: CipherName, image: bytes, records: dict[str, bytes]) -> int:
    nvm = MemoryNvm(PAGE, PAGES, image=image)
    store(nvm, cipher, seed=2).commit(records)
    return nvm.writes


def _merged(old: dict[str, bytes] | None, new: dict[str, bytes]) -> dict[str, bytes]:
    return {**(old or {}), **new}


@pytest.mark.parametrize("cipher", CIPHERS)
@settings(max_examples=40, deadline=None)
@given(history=st.lists(record_sets, max_size=3), new=record_sets, extra=record_sets)
def test_cut_at_every_write_leaves_old_or_new(
    cipher: CipherName,
    history: list[dict[str, bytes]],
    new: dict[str, bytes],
    extra: dict[str, bytes],
) -> None:
    """A cut at write k (clean or torn) loads as exactly the old or the new set, and recovers."""
    image = _image_after(cipher, history)
    old = store(MemoryNvm(PAGE, PAGES, image=image), cipher).load()
    total = _writes_of(cipher, image, new)
    assert total >= 2  # the slot page(s) and the counter page
    for k in range(1, total + 1):
        for torn, seed in ((False, 0), (True, k), (True, k + 1000)):
            inner = MemoryNvm(PAGE, PAGES, image=image)
            crash = CrashingNvm(inner, after_writes=k, torn=torn, rng=random.Random(seed))
            with pytest.raises(PowerCut):
                store(crash, cipher, seed=3).commit(new)
            after = store(inner, cipher).load()
            assert after in (old, _merged(old, new)), f"cut at write {k}/{total}, torn={torn}"
            # the restarted meter keeps working on the surviving image
            store(inner, cipher, seed=4).commit(extra)
            assert store(inner, cipher).load() == _merged(after, extra)


@pytest.mark.parametrize("cipher", CIPHERS)
def test_random_cut_soak(cipher: CipherName) -> None:
    """Hundreds of commits, many cut at a random write (also during recovery): never torn."""
    rng = random.Random(7)
    inner = MemoryNvm(PAGE, PAGES)
    model: dict[str, bytes] | None = None
    for step in range(400):
        records = {f"r{rng.randrange(6)}": rng.randbytes(rng.randrange(0, 200))}
        cut_at = rng.randrange(1, 12) if rng.random() < 0.6 else 10**6
        crash = CrashingNvm(inner, after_writes=cut_at, torn=rng.random() < 0.7, rng=rng)
        try:
            store(crash, cipher, seed=step).commit(records)
            model = _merged(model, records)
        except PowerCut:
            loaded = store(inner, cipher).load()
            assert loaded in (model, _merged(model, records)), f"step {step}"
            model = loaded
        assert store(inner, cipher).load() == model


@pytest.mark.parametrize("cipher", CIPHERS)
@pytest.mark.parametrize("commits", [1, 2, 5])
def test_flipping_any_byte_is_detected_or_harmless(cipher: CipherName, commits: int) -> None:
    """Every single-byte change of the used image gives the current set or NvmTamperError."""
    history = [{"credit": bytes([i]) * 40, f"rec{i}": b"x" * (30 * i)} for i in range(commits)]
    image = _image_after(cipher, history)
    current = store(MemoryNvm(PAGE, PAGES, image=image), cipher).load()
    s = store(MemoryNvm(PAGE, PAGES), cipher)
    used_end = (2 + 2 * s.slot_pages) * PAGE
    outcomes = {"same": 0, "tamper": 0}
    for pos in range(used_end):
        for delta in (0x01, 0x80):
            bad = bytearray(image)
            bad[pos] ^= delta
            try:
                loaded = store(MemoryNvm(PAGE, PAGES, image=bytes(bad)), cipher).load()
            except NvmTamperError:
                outcomes["tamper"] += 1
                continue
            assert loaded == current, f"byte {pos} ^ {delta:#x} gave other data"
            outcomes["same"] += 1
    assert outcomes["tamper"] > 0


@pytest.mark.parametrize("cipher", CIPHERS)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_random_scribbles_never_yield_wrong_data(cipher: CipherName, data: st.DataObject) -> None:
    """Overwriting random spans of the image gives the current set or NvmTamperError."""
    image = _image_after(cipher, [{"credit": b"\x01" * 50}, {"credit": b"\x02" * 50, "t": b"9"}])
    current = store(MemoryNvm(PAGE, PAGES, image=image), cipher).load()
    bad = bytearray(image)
    for _ in range(data.draw(st.integers(1, 4))):
        page = data.draw(st.sampled_from([0, 1, 2, 3, 33, 34, 40]))
        pos = page * PAGE + data.draw(st.integers(0, PAGE - 1))
        junk = data.draw(st.binary(min_size=1, max_size=80))
        bad[pos : pos + len(junk)] = junk[: len(bad) - pos]
    try:
        loaded = store(MemoryNvm(PAGE, PAGES, image=bytes(bad[: len(image)])), cipher).load()
    except NvmTamperError:
        return
    assert loaded == current


@pytest.mark.parametrize("cipher", CIPHERS)
def test_no_valid_copy_on_a_used_device_is_tamper(cipher: CipherName) -> None:
    """Wiping both slots of a commissioned device is reported, not read as a blank meter."""
    image = bytearray(_image_after(cipher, [{"credit": b"1"}, {"credit": b"2"}]))
    image[2 * PAGE :] = b"\xff" * (len(image) - 2 * PAGE)
    with pytest.raises(NvmTamperError, match="no valid copy"):
        store(MemoryNvm(PAGE, PAGES, image=bytes(image)), cipher).load()


@pytest.mark.parametrize("cipher", CIPHERS)
def test_cut_on_a_file_device_survives_reopen(cipher: CipherName, tmp_path: Path) -> None:
    """On a real NVM file, a cut at each write of a commit reopens as the old or the new set."""
    old = {"credit": b"\x00" * 16, "tids": b"\x01" * 150}
    new = {"credit": b"\x07" * 16, "events": b"\x02" * 400}
    for k in range(1, 10):
        path = tmp_path / f"cut{k}.nvm"
        with FileNvm(path, PAGE, PAGES) as nvm:
            store(nvm, cipher).commit(old)
            crash = CrashingNvm(nvm, after_writes=k, torn=True, rng=random.Random(k))
            try:
                store(crash, cipher).commit(new)
            except PowerCut:
                pass
            else:
                assert crash.writes < k  # the commit had fewer writes than k
        with FileNvm(path, PAGE, PAGES) as nvm:
            assert store(nvm, cipher).load() in (old, {**old, **new}), f"cut at write {k}"
