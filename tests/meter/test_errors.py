"""One error root for the meter package: a caller catches MeterError once (issue 12)."""

from __future__ import annotations

import pytest

from stsgas.meter.adapters.tui_view import ViewError
from stsgas.meter.errors import MeterError, MeterUsageError, RecordError
from stsgas.meter.nvm import NvmCapacityError, NvmError, NvmTamperError
from stsgas.meter.scenario import ScenarioError
from stsgas.meter.settings import MeterSettings, SettingsError


@pytest.mark.parametrize(
    "error",
    [
        MeterUsageError,
        RecordError,
        SettingsError,
        ScenarioError,
        NvmError,
        NvmTamperError,
        NvmCapacityError,
        ViewError,
    ],
)
def test_every_meter_error_is_a_meter_error(error: type[Exception]) -> None:
    assert issubclass(error, MeterError)


@pytest.mark.parametrize("error", [RecordError, SettingsError, ScenarioError])
def test_value_errors_stay_value_errors(error: type[Exception]) -> None:
    """Callers that caught ValueError before the root was added still catch these."""
    assert issubclass(error, ValueError)


def test_a_malformed_meter_object_is_caught_at_the_root() -> None:
    with pytest.raises(MeterError, match="pan"):
        MeterSettings.from_json({})
