"""EncryptedRecordStore: round trips, both ciphers, keys, capacity and rollback detection."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsgas.meter import nvm_store
from stsgas.meter.adapters.file_nvm import FileNvm
from stsgas.meter.nvm import MemoryNvm, NvmCapacityError, NvmTamperError
from stsgas.meter.nvm_store import CipherName, EncryptedRecordStore
from stsgas.meter.storage import MemoryStateStore, StateStore

from .test_nvm_support import CIPHERS, KEY, record_sets, store


@pytest.mark.parametrize("cipher", CIPHERS)
def test_blank_device_loads_as_none(cipher: CipherName) -> None:
    """A never-commissioned device is reported as blank, not as tampered."""
    assert store(MemoryNvm(), cipher).load() is None


@pytest.mark.parametrize("cipher", CIPHERS)
@settings(max_examples=60, deadline=None)
@given(sets=st.lists(record_sets, min_size=1, max_size=6))
def test_commits_merge_and_round_trip(cipher: CipherName, sets: list[dict[str, bytes]]) -> None:
    """Each commit updates the named records; a fresh store on the same image loads the union."""
    nvm = MemoryNvm(64, 64)
    s = store(nvm, cipher)
    expected: dict[str, bytes] = {}
    for records in sets:
        s.commit(records)
        expected.update(records)
        assert store(nvm, cipher).load() == expected
    assert s.sequence == len(sets)


@pytest.mark.parametrize("cipher", CIPHERS)
def test_file_store_survives_reopen(cipher: CipherName, tmp_path: Path) -> None:
    """Records committed to an NVM file are loaded back after the file is reopened."""
    path = tmp_path / "meter.nvm"
    with FileNvm(path) as nvm:
        store(nvm, cipher).commit({"credit": b"\x00\x10", "tids": b"\x01" * 200})
        store(nvm, cipher).commit({"credit": b"\x00\x20"})
    with FileNvm(path) as nvm:
        assert store(nvm, cipher).load() == {"credit": b"\x00\x20", "tids": b"\x01" * 200}


@pytest.mark.parametrize("cipher", CIPHERS)
def test_plaintext_is_not_in_the_image(cipher: CipherName) -> None:
    """The stored bytes are encrypted: a recognisable record value does not appear in the image."""
    nvm = MemoryNvm()
    secret = b"CREDIT-REGISTER-0123456789" * 4
    store(nvm, cipher).commit({"credit": secret})
    assert secret[:16] not in nvm.image()
    assert b"credit" not in nvm.image()


@pytest.mark.parametrize("cipher", CIPHERS)
def test_wrong_key_is_tamper(cipher: CipherName) -> None:
    """An image read with another key is reported as tampered, never decoded."""
    nvm = MemoryNvm()
    store(nvm, cipher).commit({"credit": b"1"})
    with pytest.raises(NvmTamperError):
        store(nvm, cipher, key=bytes(16)).load()


def test_wrong_cipher_is_tamper() -> None:
    """An AES image opened as 3DES (or the reverse) is not trusted."""
    nvm = MemoryNvm()
    store(nvm, "aes128").commit({"credit": b"1"})
    with pytest.raises(NvmTamperError):
        store(nvm, "3des").load()


@pytest.mark.parametrize("cipher", CIPHERS)
def test_rolled_back_slot_is_detected(cipher: CipherName) -> None:
    """Copying a slot's older pages back (a credit replay) is caught by the counter page."""
    nvm = MemoryNvm(64, 64)
    s = store(nvm, cipher)
    images = []
    for credit in (b"100", b"200", b"300", b"400"):
        s.commit({"credit": credit})
        images.append(nvm.image())
    # seq 4 lives in slot 0; put slot 0 back as it was at seq 2
    first, last = 2 * 64, (2 + s.slot_pages) * 64
    rolled = images[3][:first] + images[1][first:last] + images[3][last:]
    with pytest.raises(NvmTamperError, match="rolled back"):
        store(MemoryNvm(64, 64, image=rolled), cipher).load()


@pytest.mark.parametrize("cipher", CIPHERS)
def test_inconsistent_authenticated_records_are_tamper(
    cipher: CipherName, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A set that authenticates but does not parse (a key leak or a bug) is not trusted."""
    nvm = MemoryNvm()
    monkeypatch.setattr(nvm_store, "_encode_records", lambda records: b"\x00\x05garbage")
    store(nvm, cipher).commit({"credit": b"1"})
    monkeypatch.undo()
    with pytest.raises(NvmTamperError, match="inconsistent"):
        store(nvm, cipher).load()


def test_a_set_larger_than_a_slot_is_refused_and_nothing_changes() -> None:
    """An oversized commit raises NvmCapacityError and leaves the committed set in place."""
    nvm = MemoryNvm(64, 8)
    s = store(nvm, "aes128")
    s.commit({"credit": b"1"})
    before = nvm.image()
    with pytest.raises(NvmCapacityError):
        s.commit({"events": b"\0" * (s.capacity + 1)})
    assert nvm.image() == before
    assert store(nvm, "aes128").load() == {"credit": b"1"}


def test_bad_arguments_are_refused() -> None:
    """Unknown ciphers, short keys and non-bytes records are caller errors."""
    with pytest.raises(ValueError):
        EncryptedRecordStore(MemoryNvm(), KEY, "des")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        EncryptedRecordStore(MemoryNvm(), b"short")
    s = EncryptedRecordStore(MemoryNvm(), KEY)
    with pytest.raises(TypeError):
        s.commit({"credit": 5})  # type: ignore[dict-item]
    with pytest.raises(ValueError):
        s.commit({"": b""})


@pytest.mark.parametrize("cipher", CIPHERS)
@settings(max_examples=40, deadline=None)
@given(sets=st.lists(record_sets, max_size=5))
def test_behaves_like_the_memory_state_store(
    cipher: CipherName, sets: list[dict[str, bytes]]
) -> None:
    """The NVM store is a drop-in StateStore: same loads as MemoryStateStore after each commit."""
    reference = MemoryStateStore()
    nvm_backed: StateStore = store(MemoryNvm(64, 64), cipher)
    assert isinstance(nvm_backed, StateStore)
    assert nvm_backed.load() == reference.load()
    for records in sets:
        reference.commit(records)
        nvm_backed.commit(records)
        assert nvm_backed.load() == reference.load()
