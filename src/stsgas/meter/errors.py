"""The meter core's errors: misuse by the caller, and stored records it cannot read."""

from __future__ import annotations

__all__ = ["MeterError", "MeterUsageError", "RecordError"]


class MeterError(Exception):
    """Root of the errors the meter core raises."""


class MeterUsageError(MeterError):
    """The caller misused the meter (time going backwards, unknown key)."""


class RecordError(MeterError, ValueError):
    """A stored record this meter cannot read (unknown version or a malformed value)."""
