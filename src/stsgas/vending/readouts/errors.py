"""Why a readout file was refused: each a problem+json ``code`` of its own (422/409)."""

from __future__ import annotations

from stsgas.vending.errors import InvalidInput


class BadReadout(InvalidInput):
    """Not a readout: not JSON, a field missing or malformed, a float where a decimal
    string belongs."""

    code = "bad_readout"
    title = "Bad readout file"


class ReadoutFormat(InvalidInput):
    """The file names another format (or none) than ``stsgas-readout/1``."""

    code = "readout_format"
    title = "Unknown readout format"


class ReadoutTooLarge(InvalidInput):
    """More months, hours or events than any real meter keeps."""

    code = "readout_too_large"
    title = "Readout file too large"


class ReadoutMeterMismatch(InvalidInput):
    """The file was read from another meter than the one it is uploaded to."""

    code = "readout_meter_mismatch"
    title = "Readout of another meter"


class ReadoutModeMismatch(InvalidInput):
    """The file's credit mode is not the registered meter's."""

    code = "readout_mode_mismatch"
    title = "Readout in another mode"
