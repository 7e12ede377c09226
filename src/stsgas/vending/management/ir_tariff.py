"""Load a by-amount meter's step tariff over IR, signed by the vending system.

The meter takes ``tariff <n> <activation time> <steps> <mac>`` (``stsgas.irproto``):
up to 10 steps of the tariff version the vending system holds for it, a MAC
under the meter's decoder key, and a counter ``n`` above the last one the
meter accepted (the technician's pad reads it with ``seq``). The request goes
through the same four-eyes approval as a management token; the approval
signs the command inside the security module and stores it with the request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from stsgas.irproto import MAX_PAYLOAD, steps_text
from stsgas.vending.errors import InvalidInput
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.kit.volume import LITRE
from stsgas.vending.management import ir_settings
from stsgas.vending.models import Meter, MeterMode, Tariff, TariffVersion
from stsgas.vending.sales.receipt_money import money

PARAMS = {"seq", "activate_at", "tariff_version_id"}
_MAX_SEQ = 2**31 - 1
_MAX_STEPS = 10


def _when(text: Any) -> datetime:
    try:
        at = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("activate_at is an ISO time with its zone") from None
    if at.tzinfo is None:
        raise InvalidInput("activate_at needs a zone (end it with Z for UTC)")
    return at


class StaleSeq(InvalidInput):
    """A counter the meter has already taken (it would answer ``err replay``)."""

    code = "tariff_seq"
    title = "Tariff counter already used"


def _version(session: Session, meter: Meter, version_id: Any, at: datetime) -> TariffVersion:
    """The version named (of any tariff of the meter's mode: loading it moves the
    meter onto that tariff), or else the meter's own tariff's version in force at ``at``."""
    stmt = select(TariffVersion)
    if version_id is None:
        if meter.tariff_id is None:
            raise InvalidInput(f"meter {meter.pan} has no tariff")
        stmt = stmt.where(
            TariffVersion.tariff_id == meter.tariff_id, TariffVersion.effective_from <= at
        ).order_by(TariffVersion.effective_from.desc())
    else:
        stmt = stmt.join(Tariff, Tariff.id == TariffVersion.tariff_id).where(
            TariffVersion.id == version_id, Tariff.mode == meter.mode
        )
    found = session.execute(stmt.limit(1).options(selectinload(TariffVersion.steps))).scalar()
    if found is None:
        raise InvalidInput("no version of the meter's tariff for that time (or that id)")
    if not 1 <= len(found.steps) <= _MAX_STEPS:
        raise InvalidInput(f"a meter takes 1 to {_MAX_STEPS} tariff steps")
    return found


def validate(session: Session, meter: Meter, params: dict[str, Any]) -> dict[str, Any]:
    """Check a load-tariff request against its meter; returns the params normalised."""
    if meter.mode != MeterMode.AMOUNT.value:
        raise InvalidInput("only a by-amount meter runs its own step tariff")
    seq = params.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 < seq <= _MAX_SEQ:
        raise InvalidInput(f"seq must be an integer 1..{_MAX_SEQ} (the meter's seq + 1)")
    last = ir_settings.last_seq(session, meter)  # tariff and settings share the counter
    if seq <= last:
        raise StaleSeq(f"the meter was sent IR counter {last}; use {last + 1} or more")
    at = _when(params.get("activate_at"))
    version = _version(session, meter, params.get("tariff_version_id"), at)
    return {
        "seq": seq,
        "activate_at": at.isoformat().replace("+00:00", "Z"),
        "tariff_version_id": version.id,
    }


def steps_of(version: TariffVersion) -> str:
    """The version's steps in the command's form (m³ tops, money per m³)."""
    pairs: list[tuple[str | None, str]] = []
    for step in version.steps:
        top = None if step.up_to_litres is None else step.up_to_litres * LITRE
        price = money(step.price_per_m3)
        assert price is not None
        pairs.append((None if top is None else format(top.normalize(), "f"), price))
    return steps_text(pairs)


def record(session: Session, meter: Meter, params: dict[str, Any]) -> int | None:
    """Make the vending record follow the load just signed: the meter runs this version
    from its activation time (and is on its tariff); returns the tariff it left, if any."""
    version = session.get(TariffVersion, params["tariff_version_id"])
    assert version is not None
    meter.loaded_tariff_version_id = version.id
    meter.loaded_tariff_rate = None
    meter.loaded_tariff_from = _when(params["activate_at"]).astimezone(UTC)
    meter.loaded_tariff_seq = params["seq"]
    left = meter.tariff_id
    if left == version.tariff_id:
        return None
    meter.tariff_id = version.tariff_id
    return left


def command(
    session: Session, meter: Meter, params: dict[str, Any], security: SecurityModule
) -> str:
    """The signed ``tariff`` payload for ``meter`` (its current key data); the counter
    is checked again (a settings command may have used it since it was asked)."""
    last = ir_settings.last_seq(session, meter)
    if params["seq"] <= last:
        raise StaleSeq(f"the meter was sent IR counter {last}; use {last + 1} or more")
    when = _when(params["activate_at"])
    version = _version(session, meter, params["tariff_version_id"], when)
    at = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    payload = f"tariff {params['seq']} {at} {steps_of(version)}"
    signed = ir_settings.sign(session, meter, security, payload)
    if len(signed) > MAX_PAYLOAD:
        raise InvalidInput("the tariff does not fit one IR frame")
    return signed
