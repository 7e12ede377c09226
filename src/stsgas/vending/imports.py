"""Bulk registration of meters (and their customers) from CSV: all or nothing.

A utility moving to stsgas brings its meter book as a file. Every line is
checked (number and check digits, mode, supply group by SGC and KRN, tariff
by name and mode, duplicates in the file and in the database) before the
caller commits; one bad line fails the whole file with every error listed
by line, so a file is never half imported. Each meter and customer is
created through its service, so each is audited like one made by hand.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from stsgas.vending.customers import service as customers
from stsgas.vending.errors import VendingError
from stsgas.vending.meters import service as meters
from stsgas.vending.models import MeterMode, Operator, SupplyGroup, Tariff

COLUMNS = (
    "number",
    "mode",
    "sgc",
    "krn",
    "ti",
    "tariff",
    "customer_name",
    "customer_phone",
    "customer_address",
)
REQUIRED = ("number", "mode", "sgc", "krn")


class ImportFailed(VendingError):
    """The file has errors; nothing was imported."""

    code = "import_failed"
    status_code = 422
    title = "Import failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Imported:
    """What an import created."""

    meters: int
    customers: int
    errors: list[str] = field(default_factory=list)


def import_meters(session: Session, text: str, *, actor: Operator | None) -> Imported:
    """Register every meter of a CSV text; raises :class:`ImportFailed` listing every
    bad line (the caller rolls back). Does not commit."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportFailed(f"the header lacks {missing}; columns: {', '.join(COLUMNS)}")
    unknown = sorted(set(reader.fieldnames or []) - set(COLUMNS))
    if unknown:
        raise ImportFailed(f"unknown columns {unknown}; columns: {', '.join(COLUMNS)}")
    groups = {(g.sgc, g.krn): g.id for g in session.execute(select(SupplyGroup)).scalars()}
    tariffs = {t.name: (t.id, t.mode) for t in session.execute(select(Tariff)).scalars()}
    errors: list[str] = []
    made_meters = made_customers = 0
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        get = {k: (v or "").strip() for k, v in row.items() if k is not None}
        try:
            mode = MeterMode(get.get("mode", "").lower())
        except ValueError:
            errors.append(f"line {line}: mode must be volume or amount")
            continue
        group = groups.get(
            (get.get("sgc", ""), int(get["krn"]) if get.get("krn", "").isdigit() else -1)
        )
        if group is None:
            errors.append(f"line {line}: no supply group SGC {get.get('sgc')} KRN {get.get('krn')}")
            continue
        tariff_id = None
        if get.get("tariff"):
            found = tariffs.get(get["tariff"])
            if found is None or found[1] != mode.value:
                errors.append(f"line {line}: no {mode.value} tariff named {get['tariff']!r}")
                continue
            tariff_id = found[0]
        number = get.get("number", "")
        if number in seen:
            errors.append(f"line {line}: meter {number} is twice in the file")
            continue
        seen.add(number)
        customer_id = None
        try:
            with session.begin_nested():  # a refused line leaves nothing behind
                if get.get("customer_name"):
                    customer_id = customers.create(
                        session,
                        actor=actor,
                        name=get["customer_name"],
                        phone=get.get("customer_phone", ""),
                        address=get.get("customer_address", ""),
                    ).id
                meters.create(
                    session,
                    actor=actor,
                    number=number,
                    mode=mode,
                    supply_group_id=group,
                    ti=get.get("ti") or "01",
                    tariff_id=tariff_id,
                    customer_id=customer_id,
                )
        except VendingError as exc:
            errors.append(f"line {line}: {exc.detail}")
            continue
        made_meters += 1
        made_customers += customer_id is not None
    if errors:
        raise ImportFailed(f"{len(errors)} bad lines; nothing imported", errors=errors)
    return Imported(meters=made_meters, customers=made_customers)
