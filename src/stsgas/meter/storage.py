"""The meter's persistence port: a tiny record store the core commits to.

The core never opens a file. It hands a :class:`StateStore` one mapping of
record name -> bytes per state change that matters; the store must make the
whole mapping durable atomically (all records of the call or none). On
construction the meter calls ``load()`` and restores from what it returns.
``stsgas.meter.nvm_store`` implements this over an encrypted, power-fail-safe
page device; :class:`MemoryStateStore` is the in-memory double.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

__all__ = ["MemoryStateStore", "StateStore"]


@runtime_checkable
class StateStore(Protocol):
    """Where the meter keeps its registers between power cycles."""

    def load(self) -> dict[str, bytes] | None:
        """Every record last committed, or None for a blank (new) store."""
        ...

    def commit(self, records: Mapping[str, bytes]) -> None:
        """Store ``records`` atomically: after a power cut all of them or none are new."""
        ...


class MemoryStateStore:
    """A StateStore in a dict: what tests and the fast simulator use."""

    def __init__(self) -> None:
        self._records: dict[str, bytes] | None = None
        #: how many commits were made (the simulator reports it).
        self.commits = 0

    def load(self) -> dict[str, bytes] | None:
        """A copy of the committed records, or None if nothing was ever committed."""
        return None if self._records is None else dict(self._records)

    def commit(self, records: Mapping[str, bytes]) -> None:
        """Merge ``records`` in one step (a dict update cannot tear)."""
        merged = dict(self._records or {})
        merged.update(records)
        self._records = merged
        self.commits += 1
