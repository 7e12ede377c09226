"""The nonce pool: OS random bytes, never the same slice twice (threads, forked children)."""

from __future__ import annotations

import os
import threading

import pytest

from stsgas.meter import _randpool


def test_each_call_gets_fresh_bytes_of_the_asked_length() -> None:
    """Thousands of 12-byte nonces (several refills) are all different and the right size."""
    got = [_randpool.urandom(12) for _ in range(3000)]
    assert {len(n) for n in got} == {12}
    assert len(set(got)) == len(got)
    assert len(_randpool.urandom(10_000)) == 10_000  # larger than one refill


def test_threads_never_share_a_nonce() -> None:
    """Eight threads drawing at once get pairwise different nonces."""
    out: list[list[bytes]] = [[] for _ in range(8)]

    def draw(mine: list[bytes]) -> None:
        mine.extend(_randpool.urandom(12) for _ in range(500))

    threads = [threading.Thread(target=draw, args=(mine,)) for mine in out]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = [n for mine in out for n in mine]
    assert len(set(flat)) == len(flat) == 4000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_repeat_the_parents_next_nonces() -> None:
    """A real forked child draws from the OS anew, not from the buffer it inherited."""
    _randpool.urandom(12)  # the buffer is filled: the child would inherit the next bytes
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send its next nonces and leave at once
        os.close(read)
        os.write(write, b"".join(_randpool.urandom(12) for _ in range(10)))
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        child = pipe.read()
    os.waitpid(pid, 0)
    parent = b"".join(_randpool.urandom(12) for _ in range(10))
    assert len(child) == len(parent) == 120
    assert child != parent
