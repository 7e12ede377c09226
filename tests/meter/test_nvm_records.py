"""The record-set codec and RecordSet: a commit that encodes only changed records writes
the same bytes, and a device image written with the kept pieces is the one main wrote."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsgas.meter.nvm import MemoryNvm
from stsgas.meter.nvm_records import RecordSet, decode_records, encode_records
from stsgas.meter.nvm_store import CipherName, EncryptedRecordStore

from .test_nvm_support import CIPHERS, KEY, record_sets

GOLDEN = Path(__file__).parents[1] / "data" / "meter" / "nvm-golden.json"


@settings(max_examples=150, deadline=None)
@given(sets=st.lists(record_sets, min_size=1, max_size=8))
def test_a_merged_set_encodes_as_the_whole_set_would(sets: list[dict[str, bytes]]) -> None:
    """Each merge re-encodes only its records, yet the plaintext is byte for byte the
    plain encoding of the union, and it decodes back to the union."""
    kept = RecordSet()
    union: dict[str, bytes] = {}
    for records in sets:
        kept = kept.merged(records)
        union.update(records)
        plain = encode_records(kept)
        assert plain == encode_records(dict(union))
        assert decode_records(plain) == union == dict(kept)


@settings(max_examples=50, deadline=None)
@given(sets=st.lists(record_sets, min_size=1, max_size=4), value=st.binary(max_size=40))
def test_a_merge_leaves_the_set_it_came_from_alone(
    sets: list[dict[str, bytes]], value: bytes
) -> None:
    """A RecordSet is a value: the committed set stays as it was when a merge builds the next."""
    first = RecordSet(sets[0])
    before = (dict(first), encode_records(first))
    for records in sets:
        first.merged({**records, "x": value})
    assert (dict(first), encode_records(first)) == before


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ({"": b"1"}, ValueError),
        ({"n" * 256: b"1"}, ValueError),
        ({"ok": "text"}, TypeError),
    ],
)
def test_a_bad_record_is_refused_and_the_set_is_unchanged(
    bad: dict[str, object], error: type[Exception]
) -> None:
    """A name the format cannot hold or a value that is not bytes raises; nothing changes."""
    kept = RecordSet({"reg": b"1"})
    with pytest.raises(error):
        kept.merged({"reg": b"2", **bad})  # type: ignore[dict-item]
    assert dict(kept) == {"reg": b"1"}


def test_bytes_like_values_are_stored_as_bytes() -> None:
    """A bytearray or memoryview is copied: changing it later does not change the set."""
    buf = bytearray(b"abc")
    kept = RecordSet().merged({"a": buf, "b": memoryview(b"xyz")})  # type: ignore[dict-item]
    buf[0] = 0
    assert dict(kept) == {"a": b"abc", "b": b"xyz"}
    assert all(type(v) is bytes for v in kept.values())


@pytest.mark.parametrize("cipher", CIPHERS)
def test_the_device_image_is_the_one_main_wrote(cipher: CipherName) -> None:
    """The same commits with the same nonces give the image the store wrote before issue 15
    (its SHA-256 is in the data file): the on-device format did not change."""
    golden = json.loads(GOLDEN.read_text())
    nvm = MemoryNvm(golden["page_size"], golden["page_count"])
    key = bytes.fromhex(golden["key"])
    store = EncryptedRecordStore(
        nvm, key, cipher, nonce=random.Random(golden["nonce_seed"]).randbytes
    )
    for commit in golden["commits"]:
        store.commit({name: bytes.fromhex(value) for name, value in commit.items()})
    assert hashlib.sha256(nvm.image()).hexdigest() == golden["image_sha256"][cipher]


@pytest.mark.parametrize("cipher", CIPHERS)
def test_the_counter_tag_is_hmac_sha256(cipher: CipherName) -> None:
    """The kept, copied MAC state gives what a one-shot HMAC-SHA256 gives, every time."""
    store = EncryptedRecordStore(MemoryNvm(), KEY, cipher)
    sealer = store._sealer
    for seq in range(3):
        head = seq.to_bytes(16, "big")
        assert sealer.counter_tag(head) == hmac.digest(sealer.counter_key, head, "sha256")
