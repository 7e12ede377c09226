"""stsgas.meter — the prepaid gas meter's firmware as a sans-IO model.

Inputs are method calls carrying ``now``; outputs are returned events; the
meter says when it next needs waking (``next_deadline``/``handle_timer``).
Persistence goes through the :class:`StateStore` port.
"""

from stsgas.meter.errors import MeterUsageError
from stsgas.meter.events import Events, MeterEvent
from stsgas.meter.meter import Meter
from stsgas.meter.registers import Registers
from stsgas.meter.settings import MeterSettings, SettingsError
from stsgas.meter.storage import MemoryStateStore, StateStore

__all__ = [
    "Events", "MemoryStateStore", "Meter", "MeterEvent", "MeterSettings", "MeterUsageError",
    "Registers", "SettingsError", "StateStore",
]  # fmt: skip
