"""FileNvm: the meter's page device as one real file (an adapter beside the sans-IO core)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from stsgas.meter.nvm import (
    DEFAULT_PAGE_COUNT,
    DEFAULT_PAGE_SIZE,
    ERASED,
    Nvm,
    NvmError,
    check_geometry,
)

__all__ = ["FileNvm"]


class FileNvm(Nvm):
    """An EEPROM image in one file; each page write is ``pwrite`` + ``fsync``.

    The file is created erased with the right size. It is opened with
    ``O_NOFOLLOW`` so a symlink planted at ``path`` cannot redirect the writes;
    nothing but ``path`` is ever opened. An existing file of the wrong size is
    refused rather than silently resized. The file is locked (a POSIX record lock,
    held per process) while open: another process opening it is refused, because
    two meters writing one EEPROM would each keep their own registers and token
    memory (a token taken by one could be taken again by the other).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        page_size: int = DEFAULT_PAGE_SIZE,
        page_count: int = DEFAULT_PAGE_COUNT,
    ) -> None:
        check_geometry(page_size, page_count)
        self.page_size = page_size
        self.page_count = page_count
        self.path = Path(path)
        size = page_size * page_count
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            self._fd: int | None = os.open(self.path, flags, 0o600)
        except OSError as exc:
            raise NvmError(f"cannot open NVM file {self.path}: {exc.strerror}") from exc
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.close()
            raise NvmError(f"NVM file {self.path} is in use by another meter process") from None
        actual = os.fstat(self._fd).st_size
        if actual == 0:
            os.pwrite(self._fd, bytes([ERASED]) * size, 0)
            os.fsync(self._fd)
        elif actual != size:
            self.close()
            raise NvmError(
                f"NVM file {self.path} is {actual} bytes, expected {size} "
                f"({page_count} pages of {page_size})"
            )
        self.writes = 0

    def _fileno(self) -> int:
        if self._fd is None:
            raise NvmError(f"NVM file {self.path} is closed")
        return self._fd

    def read_page(self, index: int) -> bytes:
        """Read one page from the file."""
        self._check(index)
        data = os.pread(self._fileno(), self.page_size, index * self.page_size)
        if len(data) != self.page_size:
            raise NvmError(f"NVM file {self.path} was truncated")
        return data

    def write_page(self, index: int, data: bytes) -> None:
        """Write one page and wait until the OS says it is durable."""
        self._check(index, data)
        fd = self._fileno()
        os.pwrite(fd, data, index * self.page_size)
        os.fsync(fd)
        self.writes += 1

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FileNvm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
