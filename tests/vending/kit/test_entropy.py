"""Journal ids and token nibbles come from a shared buffer of OS randomness: never
the same bytes twice, across threads, and never the parent's after a fork."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from stsgas.vending.kit import entropy


def test_a_journal_id_is_a_version_4_uuid() -> None:
    for _ in range(2 * entropy.CHUNK // 16):  # across two refills of the buffer
        text = entropy.journal_id()
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_threads_never_share_an_id() -> None:
    """The SQLite route sells from worker threads: eight at once, 20,000 ids, none twice."""
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda _: entropy.journal_id(), range(20_000)))
    assert len(set(ids)) == len(ids)


def test_nibbles_cover_all_sixteen_values_about_evenly() -> None:
    counts = Counter(entropy.nibble() for _ in range(16_000))
    assert set(counts) == set(range(16))
    assert min(counts.values()) > 700  # 1,000 expected each; 700 is many sigmas away


def test_a_forked_worker_does_not_hand_out_its_parents_bytes() -> None:
    entropy.journal_id()  # the parent's buffer holds bytes not yet handed out
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, to the parent
        os.close(read)
        os.write(write, entropy.journal_id().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert child != entropy.journal_id()


def test_more_than_a_chunk_at_once_is_refused() -> None:
    with pytest.raises(ValueError):
        entropy.random_bytes(entropy.CHUNK + 1)
