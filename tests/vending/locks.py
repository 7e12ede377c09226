"""Waiting, in a race test on PostgreSQL, until the other side is blocked on a lock."""

from __future__ import annotations

import time

from sqlalchemy import Engine, text

__all__ = ["lock_waiters"]

_WAITING = text(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
)


def lock_waiters(engine: Engine, seconds: float = 60.0) -> list[int]:
    """The backends of this database waiting on a row or index lock, once there is one
    (polled; each poll in a fresh transaction, as PostgreSQL keeps the activity view
    still within one). Fails after ``seconds``."""
    deadline = time.monotonic() + seconds
    with engine.connect() as conn:
        while True:
            pids = [int(pid) for pid in conn.execute(_WAITING).scalars()]
            conn.rollback()
            if pids:
                return pids
            assert time.monotonic() < deadline, "no session ever waited on a lock"
            time.sleep(0.01)
