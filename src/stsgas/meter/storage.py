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

__all__ = ["MemoryStateStore", "SplitStateStore", "StateStore"]


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


class SplitStateStore:
    """Two stores as one: the ``side`` records in one, everything else in ``main``.

    Why: a store that seals the whole record set on every commit would rewrite
    the hourly trend (tens of KB) each time the registers change (every 100 L).
    With the trend in a store of its own, a register commit writes only the
    registers' set; the trend is written when it changed (once a day, and on
    ``flush``).

    Atomic per store, not across them: a commit writes the side part first, then
    the main part. A power cut between the two leaves a trend newer than the
    registers, never registers that lost anything. Only records no money rule
    reads (the hourly trend) belong on the side.
    """

    def __init__(
        self, main: StateStore, side: StateStore, side_records: frozenset[str] = frozenset({"hour"})
    ) -> None:
        self.main = main
        self.side = side
        self.side_records = side_records

    def load(self) -> dict[str, bytes] | None:
        """The main records and the side records, or None while main is blank."""
        main = self.main.load()
        if main is None:
            return None  # the first commit writes the side first: main decides
        out = {k: v for k, v in main.items() if k not in self.side_records}
        side = self.side.load() or {}
        out.update((k, v) for k, v in side.items() if k in self.side_records)
        return out

    def commit(self, records: Mapping[str, bytes]) -> None:
        """The side records to ``side``, then the rest to ``main`` (each atomically)."""
        if records and self.side_records.isdisjoint(records):
            self.main.commit(records)  # the common case: a register commit
            return
        side = {k: v for k, v in records.items() if k in self.side_records}
        if side:
            self.side.commit(side)
        main = {k: v for k, v in records.items() if k not in self.side_records}
        if main:
            self.main.commit(main)
