"""Tariff rules: names are unique, a tariff's mode is fixed, versions never change.

A price change is a new version with a later (or earlier, for a correction
before it applies) ``effective_from``; old versions stay so that every past
sale can be explained by the version it names.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from stsgas.vending.audit import service as audit
from stsgas.vending.errors import AlreadyExists, NotFound
from stsgas.vending.models import MeterMode, Operator, Tariff, TariffStep, TariffVersion, utcnow
from stsgas.vending.tariffs.repository import TariffRepository
from stsgas.vending.tariffs.schemas import VersionIn


def _version(tariff_id: int, number: int, body: VersionIn, actor: Operator | None) -> TariffVersion:
    v = TariffVersion(
        tariff_id=tariff_id,
        version=number,
        effective_from=body.effective_from,
        fixed_charge=body.fixed_charge,
        fixed_charge_period=body.fixed_charge_period.value,
        tax_rate_bp=body.tax_rate_bp,
        debt_recovery_bp=body.debt_recovery_bp,
        created_by_id=None if actor is None else actor.id,
    )
    v.steps = [
        TariffStep(position=i, up_to_litres=s.up_to_litres, price_per_m3=s.price_per_m3)
        for i, s in enumerate(body.steps, start=1)
    ]
    return v


def create(
    session: Session,
    *,
    actor: Operator | None,
    name: str,
    mode: MeterMode,
    currency: str,
    version: VersionIn,
) -> Tariff:
    """Add a tariff and its first version."""
    repo = TariffRepository(session)
    if repo.by_name(name) is not None:
        raise AlreadyExists(f"tariff {name!r} exists")
    tariff = repo.create(Tariff(name=name, mode=mode.value, currency=currency), flush=True)
    session.add(_version(tariff.id, 1, version, actor))
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="tariff.create",
        object_type="tariff",
        object_id=tariff.id,
        data={"name": name, "mode": mode.value, "version": version.model_dump()},
    )
    return get(session, tariff.id)


def add_version(
    session: Session, *, actor: Operator | None, tariff_id: int, version: VersionIn
) -> Tariff:
    """Add the next version of a tariff."""
    repo = TariffRepository(session)
    repo.get_or_raise(tariff_id, NotFound, "tariff", for_update=True)
    number = repo.next_version(tariff_id)
    session.add(_version(tariff_id, number, version, actor))
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="tariff.version",
        object_type="tariff",
        object_id=tariff_id,
        data={"version": number, **version.model_dump()},
    )
    session.expire_all()
    return get(session, tariff_id)


def get(session: Session, tariff_id: int) -> Tariff:
    """A tariff with its versions, or :class:`NotFound`."""
    tariff = TariffRepository(session).full(tariff_id)
    if tariff is None:
        raise NotFound(f"tariff {tariff_id} not found")
    return tariff


def in_force(session: Session, tariff_id: int, at: datetime | None = None) -> TariffVersion:
    """The version of ``tariff_id`` in force at ``at`` (now by default)."""
    version = TariffRepository(session).in_force(tariff_id, at or utcnow())
    if version is None:
        raise NotFound(f"tariff {tariff_id} has no version in force")
    return version
