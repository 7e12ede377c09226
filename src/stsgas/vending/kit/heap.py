"""The server's heap after start-up: kept out of the garbage collector's way.

Importing and building the app leaves about 200,000 long-lived objects
(FastAPI's routes, pydantic models, SQLAlchemy's mappers). Each full
collection walked all of them: 60–180 ms with the event loop stopped, on
every request under way, which is where the worst callback latencies of the
payments benchmark came from (``docs/benchmarks.md``). After start-up they are
moved to the permanent generation (:func:`gc.freeze`), and the youngest
generation is collected less often (most of a request's objects die with it).
"""

from __future__ import annotations

import gc
from typing import Final

__all__ = ["settle"]

#: allocations between young collections (CPython's default: 700)
YOUNG_THRESHOLD: Final = 10_000
_settled: list[bool] = []


def settle() -> None:
    """Freeze what start-up made, once per process (later apps, as in tests, are
    collected as usual), and raise the young generation's threshold."""
    if _settled:
        return
    _settled.append(True)
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
