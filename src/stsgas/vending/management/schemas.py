"""Request shapes of the management token API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from stsgas.vending.models import ManagementKind


class ManagementIn(BaseModel):
    """Ask for a management token; a second person approves it before it is made.

    ``params`` by kind: ``clear_credit`` {"register": 0..65535 (default all)};
    ``set_tariff`` {"rate": 0..65535}; ``key_change`` {"supply_group_id",
    "ti", "base_date" (any subset), "with_next_sale": bool}; ``clear_tamper`` {};
    ``load_tariff`` {"seq": the meter's counter + 1, "activate_at": ISO time with zone,
    "tariff_version_id" (optional)} — approved, it answers a signed IR command;
    ``field_settings`` {"seq": as for load_tariff, then any of the field settings by
    name, e.g. "overdraft": "5", "billing_day": 1, "timezone": "Africa/Nairobi"} —
    approved, a signed IR ``settings`` command.
    """

    model_config = ConfigDict(extra="forbid")

    meter_number: str = Field(min_length=1, max_length=40)
    kind: ManagementKind
    params: dict[str, int | str | bool | None] = Field(default_factory=dict)
    reason: str = Field(min_length=1, max_length=400)


class DecisionIn(BaseModel):
    """Reject a request with a reason."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=400)
