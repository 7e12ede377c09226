"""The demo meter: what ``stsgas meter start``, the simulator and the examples run by default."""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["DEMO_METER", "demo_meter_json", "nvm_key"]

#: The demo meter (a scenario "meter" object): what ``stsgas meter start`` runs by default.
DEMO_METER: dict[str, Any] = {
    "pan": "600727000000000009", "key_type": 2, "sgc": "123456", "ti": "01", "krn": 1,
    "ken": 255, "base_date": 2014, "ea": "07", "dkga": "02",
    "vending_key": "abababababababab", "mode": "volume",
    "tariff": [{"up_to_m3": "10", "price": "2.50"}, {"up_to_m3": "50", "price": "3.10"},
               {"up_to_m3": None, "price": "3.60"}],
    "overdraft": "2", "recharge_limit": "500", "low_credit_alarm": "5",
    "battery_levels_v": [3.4, 3.2], "valve_clean_days": 30, "hourly_record_days": 90,
    "initial_credit": "0", "battery_v": 3.6,
}  # fmt: skip


def demo_meter_json(mode: str = "volume") -> dict[str, Any]:
    """A copy of the demo meter; amount mode gets money-sized limits."""
    doc = {**DEMO_METER, "mode": mode}
    if mode == "amount":
        doc.update(overdraft="6", recharge_limit="1500", low_credit_alarm="15")
    return doc


def nvm_key(meter_json: dict[str, Any]) -> bytes:
    """The demo NVM key for a meter: a hash of its number (a real meter keeps one in its MCU)."""
    ident = str(meter_json.get("pan") or f"{meter_json.get('iin')}{meter_json.get('drn')}")
    return hashlib.sha256(b"stsgas demo nvm key " + ident.encode()).digest()[:16]
