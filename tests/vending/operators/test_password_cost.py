"""The production password cost is argon2-cffi's defaults (argon2id, t=3, 64 MiB, p=4).

The suite hashes in-process with a cheap argon2id (``tests/conftest.py``); this pins
what the application itself ships, so a weaker production setting cannot slip in.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type

from stsgas.vending.operators import passwords
from tests.conftest import PRODUCTION_HASHER, TEST_HASHER


def test_the_application_hashes_with_argon2_cffi_defaults() -> None:
    """The module's own hasher: argon2id at the library's (RFC 9106 low-memory) cost."""
    defaults = PasswordHasher()
    assert PRODUCTION_HASHER.type is Type.ID
    assert (PRODUCTION_HASHER.time_cost, PRODUCTION_HASHER.memory_cost) == (3, 65536)
    assert PRODUCTION_HASHER.parallelism == 4
    assert PRODUCTION_HASHER.hash_len == defaults.hash_len
    assert PRODUCTION_HASHER.salt_len == defaults.salt_len


def test_a_production_hash_verifies_while_the_suite_uses_the_cheap_hasher() -> None:
    """Hashes made at production cost (as in the data files) still check out in tests."""
    assert passwords._HASHER is TEST_HASHER
    stored = PRODUCTION_HASHER.hash("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify_password(stored, "correct horse battery")
    assert not passwords.verify_password(stored, "wrong horse battery")
