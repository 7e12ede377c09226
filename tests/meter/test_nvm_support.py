"""Shared helpers for the NVM tests (no tests here): seeded nonces and record-set strategies."""

from __future__ import annotations

import random
from collections.abc import Callable

from hypothesis import strategies as st

from stsgas.meter.nvm import Nvm
from stsgas.meter.nvm_store import CipherName, EncryptedRecordStore

KEY = bytes(range(16))
CIPHERS: tuple[CipherName, ...] = ("aes128", "3des")

names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=16)
record_sets = st.dictionaries(names, st.binary(max_size=300), max_size=5)


def seeded_nonce(seed: int) -> Callable[[int], bytes]:
    """A reproducible nonce source, so a failing example replays byte for byte."""
    rng = random.Random(seed)
    return rng.randbytes


def store(nvm: Nvm, cipher: CipherName, seed: int = 0, key: bytes = KEY) -> EncryptedRecordStore:
    """A store over ``nvm`` with a seeded nonce source."""
    return EncryptedRecordStore(nvm, key, cipher, nonce=seeded_nonce(seed))
