"""The meter's non-volatile memory port: a page device that a power cut can tear.

The meter core never opens a file; it is handed an :class:`Nvm`. Three devices:

* :class:`MemoryNvm` — a bytearray, for tests and the simulator.
* ``FileNvm`` — a real file standing for the EEPROM image; it is an adapter and
  lives beside the core, in :mod:`stsgas.meter.adapters.file_nvm`.
* :class:`CrashingNvm` — wraps another device and cuts the power at the n-th
  write, optionally leaving that page torn (what littlefs' emulated block device
  and SQLite's crash VFS do).

Erased pages read as ``0xFF``, as on an EEPROM or NOR flash.

Errors::

    Exception
     +-- NvmError                  anything wrong with the stored image or device
         +-- NvmTamperError        stored data failed authentication / rollback check
         +-- NvmCapacityError      a record set does not fit the device
    BaseException
     +-- PowerCut                  simulated power loss (not an Exception: no
                                   ``except Exception`` in the core may swallow it)
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Literal

from stsgas.meter.errors import MeterError

__all__ = [
    "ERASED",
    "CrashingNvm",
    "MemoryNvm",
    "Nvm",
    "NvmCapacityError",
    "NvmError",
    "NvmRegion",
    "NvmTamperError",
    "PowerCut",
]

#: the value of an erased byte
ERASED = 0xFF

#: a 1 Mbit serial EEPROM (256-byte pages, 512 pages) is the default device
DEFAULT_PAGE_SIZE = 256
DEFAULT_PAGE_COUNT = 512


class NvmError(MeterError):
    """The stored image or the device cannot be used as it is."""


class NvmTamperError(NvmError):
    """Stored data failed authentication or a consistency check: it is not trusted."""


class NvmCapacityError(NvmError):
    """A record set is larger than one slot of the device."""


class PowerCut(BaseException):
    """Simulated power loss during a page write; the device is dead until restarted."""


class Nvm(ABC):
    """A page-addressed non-volatile memory; a write may be torn by a power cut."""

    page_size: int
    page_count: int

    @abstractmethod
    def read_page(self, index: int) -> bytes:
        """Return the ``page_size`` bytes of page ``index``."""

    @abstractmethod
    def write_page(self, index: int, data: bytes) -> None:
        """Replace page ``index`` with ``data`` (exactly ``page_size`` bytes)."""

    def write_pages(self, first: int, pages: Sequence[bytes]) -> None:
        """Write ``pages[k]`` to page ``first + k``, the last page first (one write each).

        The order is what a commit relies on: its marker page is written after
        every page it covers. A power cut may stop the run at any page, as with
        single writes; a device may override this with one faster bulk copy when
        nothing can cut it part-way (``MemoryNvm``).
        """
        for k in range(len(pages) - 1, -1, -1):
            self.write_page(first + k, pages[k])

    def write_span(self, first: int, data: bytes) -> None:
        """Write ``data``, a whole number of pages, from page ``first`` on, the last page first.

        The same writes as :meth:`write_pages` of its pages. A commit hands over its
        whole sealed copy as one span: the first page, its commit marker, is written
        last, and a device that copies runs whole (``MemoryNvm``) skips the split.
        """
        size = self.page_size
        if len(data) % size:
            raise ValueError(f"a span is whole pages of {size} bytes, got {len(data)}")
        self.write_pages(first, [data[i : i + size] for i in range(0, len(data), size)])

    def _check(self, index: int, data: bytes | None = None) -> None:
        if not 0 <= index < self.page_count:
            raise IndexError(f"page {index} outside 0..{self.page_count - 1}")
        if data is not None and len(data) != self.page_size:
            raise ValueError(f"a page is {self.page_size} bytes, got {len(data)}")

    def image(self) -> bytes:
        """The whole device as one bytes object (for tests, dumps and copies)."""
        return b"".join(self.read_page(i) for i in range(self.page_count))


def check_geometry(page_size: int, page_count: int) -> None:
    if page_size < 64 or page_count < 4:
        raise ValueError("an Nvm needs pages of at least 64 bytes and at least 4 pages")


class NvmRegion(Nvm):
    """A run of another device's pages seen as a device of its own (page 0 = ``first``).

    Two regions of one EEPROM let two record stores live side by side: the meter
    keeps its hourly trend in a region of its own, so a commit of the registers
    does not rewrite the trend (``stsgas.meter.storage.SplitStateStore``).
    """

    def __init__(self, inner: Nvm, first: int, page_count: int) -> None:
        if first < 0 or page_count < 4 or first + page_count > inner.page_count:
            raise ValueError(
                f"region {first}..{first + page_count - 1} is not inside the device's "
                f"{inner.page_count} pages (and needs at least 4)"
            )
        self.inner = inner
        self.first = first
        self.page_size = inner.page_size
        self.page_count = page_count

    def read_page(self, index: int) -> bytes:
        """Read the inner device's page ``first + index``."""
        self._check(index)
        return self.inner.read_page(self.first + index)

    def write_page(self, index: int, data: bytes) -> None:
        """Write the inner device's page ``first + index``."""
        if not 0 <= index < self.page_count or len(data) != self.page_size:
            self._check(index, data)  # raises the precise error (a commit's hot path)
        self.inner.write_page(self.first + index, data)

    def write_pages(self, first: int, pages: Sequence[bytes]) -> None:
        """The inner device's run of pages (its own bulk copy, if it has one)."""
        if pages:
            self._check(first)
            self._check(first + len(pages) - 1)
        self.inner.write_pages(self.first + first, pages)

    def write_span(self, first: int, data: bytes) -> None:
        """The inner device's span of pages (its own bulk copy, if it has one)."""
        if data:
            self._check(first)
            self._check(first + (len(data) - 1) // self.page_size)
        self.inner.write_span(self.first + first, data)


class MemoryNvm(Nvm):
    """An in-memory device, erased at creation unless an image is given."""

    def __init__(
        self,
        page_size: int = DEFAULT_PAGE_SIZE,
        page_count: int = DEFAULT_PAGE_COUNT,
        *,
        image: bytes | None = None,
    ) -> None:
        check_geometry(page_size, page_count)
        self.page_size = page_size
        self.page_count = page_count
        size = page_size * page_count
        if image is None:
            self._mem = bytearray([ERASED]) * size
        elif len(image) != size:
            raise ValueError(f"image is {len(image)} bytes, the device {size}")
        else:
            self._mem = bytearray(image)
        #: writes done so far (tests use it to count the write points of a commit)
        self.writes = 0

    def read_page(self, index: int) -> bytes:
        """Return a copy of the page."""
        self._check(index)
        start = index * self.page_size
        return bytes(self._mem[start : start + self.page_size])

    def write_page(self, index: int, data: bytes) -> None:
        """Replace the page in memory."""
        if not 0 <= index < self.page_count or len(data) != self.page_size:
            self._check(index, data)  # raises the precise error (a commit's hot path)
        start = index * self.page_size
        self._mem[start : start + self.page_size] = data
        self.writes += 1

    def write_pages(self, first: int, pages: Sequence[bytes]) -> None:
        """One copy for the run (nothing in memory can cut it part-way); ``writes`` counts
        each page, as single writes would."""
        size = self.page_size
        if not pages:
            return
        if any(len(p) != size for p in pages) or not 0 <= first <= first + len(pages) <= (
            self.page_count
        ):
            super().write_pages(first, pages)  # the single writes raise the precise error
            return
        self._mem[first * size : (first + len(pages)) * size] = b"".join(pages)
        self.writes += len(pages)

    def write_span(self, first: int, data: bytes) -> None:
        """One copy for the span; ``writes`` counts each page, as single writes would."""
        size = self.page_size
        n, rest = divmod(len(data), size)
        if rest or not 0 <= first <= first + n <= self.page_count:
            super().write_span(first, data)  # raises the precise error
            return
        self._mem[first * size : (first + n) * size] = data
        self.writes += n

    def image(self) -> bytes:
        """The whole device."""
        return bytes(self._mem)


TornMode = Literal["prefix", "garbage"]


class CrashingNvm(Nvm):
    """Cuts the power at the ``after_writes``-th write (1-based) by raising :class:`PowerCut`.

    With ``torn=True`` that page is left torn: either a random prefix of the new
    bytes over the old ones, or random garbage over a random span (chosen by
    ``rng``). With ``torn=False`` the page keeps its old content. Once cut, every
    later write raises :class:`PowerCut` too; reads still work so a test can look.
    """

    def __init__(
        self,
        inner: Nvm,
        after_writes: int,
        *,
        torn: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        if after_writes < 1:
            raise ValueError("after_writes counts from 1")
        self.inner = inner
        self.page_size = inner.page_size
        self.page_count = inner.page_count
        self.after_writes = after_writes
        self.torn = torn
        self.rng = rng if rng is not None else random.Random(after_writes)
        self.writes = 0
        self.cut = False
        #: how the cut page was left: None (untouched), "prefix" or "garbage"
        self.torn_mode: TornMode | None = None

    def read_page(self, index: int) -> bytes:
        """Read through to the wrapped device."""
        return self.inner.read_page(index)

    def write_page(self, index: int, data: bytes) -> None:
        """Write through, or cut the power at the chosen write."""
        self._check(index, data)
        if self.cut:
            raise PowerCut("the power is already off")
        self.writes += 1
        if self.writes < self.after_writes:
            self.inner.write_page(index, data)
            return
        self.cut = True
        if self.torn:
            self.inner.write_page(index, self._tear(self.inner.read_page(index), data))
        raise PowerCut(f"power cut at write {self.writes} (page {index})")

    def _tear(self, old: bytes, new: bytes) -> bytes:
        rng = self.rng
        if rng.random() < 0.5:
            self.torn_mode = "prefix"
            keep = rng.randrange(0, len(new))  # never the whole page: that is a clean write
            return new[:keep] + old[keep:]
        self.torn_mode = "garbage"
        start = rng.randrange(0, len(new))
        end = rng.randrange(start + 1, len(new) + 1)
        junk = rng.randbytes(end - start)
        return new[:start] + junk + old[end:]
