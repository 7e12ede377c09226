"""Bulk registration of meters (and their customers) from CSV: all or nothing.

A utility moving to stsgas brings its meter book as a file, up to a national
book of a million meters. Every line is checked first (number and check
digits, mode, supply group by SGC and KRN, tariff by name and mode, field
sizes, duplicates in the file and in the database); one bad line fails the
whole file with every bad line listed, so a file is never half imported.
A good book is then written in batches (``meters.bulk``) and recorded by one
audit entry naming the file's SHA-256, the counts and who imported it: the
file itself is the record of each line. The caller commits.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stsgas.vending.audit import service as audit
from stsgas.vending.errors import BadMeterNumber, VendingError
from stsgas.vending.meters import bulk
from stsgas.vending.meters.numbers import parse_meter_number
from stsgas.vending.models import MeterMode, Operator, utcnow

__all__ = ["COLUMNS", "REQUIRED", "ImportFailed", "Imported", "Progress", "import_meters"]

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
#: the customer columns' limits, as the database holds them
_SIZES = {"customer_name": 200, "customer_phone": 32, "customer_address": 400}
_MODES = {m.value: m for m in MeterMode}
#: progress is reported every this many lines
STEP = 2000

#: ``progress(phase, done, total)``: phase is "check" or "write"
Progress = Callable[[str, int, int], None]


class ImportFailed(VendingError):
    """The file has errors; nothing was imported."""

    code = "import_failed"
    status_code = 422
    title = "Import failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Imported:
    """What an import created, and the file's SHA-256 (as audited)."""

    meters: int
    customers: int
    sha256: str


def _no_progress(_phase: str, _done: int, _total: int) -> None:
    return None


def import_meters(
    session: Session,
    data: bytes,
    *,
    actor: Operator | None,
    imported_by: str = "",
    progress: Progress = _no_progress,
    now: datetime | None = None,
) -> Imported:
    """Register every meter of a CSV file's bytes; raises :class:`ImportFailed` listing
    every bad line (the caller rolls back). ``imported_by`` names the person when there
    is no ``actor`` account (the CLI passes the system user). Does not commit."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed(f"the file is not UTF-8 text (byte {exc.start})") from None
    total = max(0, text.count("\n") - 1 + (not text.endswith("\n")))
    rows, errors = _check(session, text, total, progress)
    taken = bulk.registered(session, (r.pan for r in rows))
    errors += [(r.line, f"meter {r.pan} is registered") for r in rows if r.pan in taken]
    if errors:
        errors.sort()
        raise ImportFailed(
            f"{len(errors)} bad lines; nothing imported",
            errors=[f"line {n}: {why}" for n, why in errors],
        )
    progress("write", 0, len(rows))
    try:
        with session.begin_nested():
            customers = bulk.write(session, rows, now=now or utcnow())
    except IntegrityError:
        # registered by someone else since the check: name the lines, import nothing
        taken = bulk.registered(session, (r.pan for r in rows))
        if not taken:
            raise
        raise ImportFailed(
            f"{len(taken)} meters were registered meanwhile; nothing imported",
            errors=[f"line {r.line}: meter {r.pan} is registered" for r in rows if r.pan in taken],
        ) from None
    progress("write", len(rows), len(rows))
    audit.record(
        session,
        actor=actor,
        action="meter.import",
        object_type="meter_book",
        object_id=digest,
        data={
            "sha256": digest,
            "meters": len(rows),
            "customers": customers,
            "imported_by": imported_by or (actor.username if actor else "system"),
        },
    )
    return Imported(meters=len(rows), customers=customers, sha256=digest)


def _check(
    session: Session, text: str, total: int, progress: Progress
) -> tuple[list[bulk.BookRow], list[tuple[int, str]]]:
    """Every line checked against the file and the reference data (not yet against
    registered meters): the good rows and the (line, reason) of the bad ones."""
    reader = csv.DictReader(io.StringIO(text))
    fields = reader.fieldnames or []
    missing = [c for c in REQUIRED if c not in fields]
    if missing:
        raise ImportFailed(f"the header lacks {missing}; columns: {', '.join(COLUMNS)}")
    unknown = sorted(set(fields) - set(COLUMNS))
    if unknown:
        raise ImportFailed(f"unknown columns {unknown}; columns: {', '.join(COLUMNS)}")
    groups = bulk.groups(session)
    tariffs = bulk.tariffs(session)
    rows: list[bulk.BookRow] = []
    errors: list[tuple[int, str]] = []
    first_line: dict[str, int] = {}
    progress("check", 0, total)
    for n, raw in enumerate(reader, start=1):
        line = reader.line_num
        if n % STEP == 0:
            progress("check", n, total)
        row, why = _row(raw, line, groups, tariffs)
        if row is None:
            errors.append((line, why))
            continue
        if row.pan in first_line:
            errors.append(
                (line, f"meter {row.pan} is twice in the file (line {first_line[row.pan]})")
            )
            continue
        first_line[row.pan] = line
        rows.append(row)
    progress("check", total, total)
    return rows, errors


def _row(
    raw: dict[str | None, str | list[str] | None],
    line: int,
    groups: dict[tuple[str, int], bulk.GroupKey],
    tariffs: dict[str, tuple[int, str]],
) -> tuple[bulk.BookRow | None, str]:
    """One line as a row, or None and why not."""
    if None in raw:
        return None, "more fields than the header names"
    get = {
        k: (v or "").strip()
        for k, v in raw.items()
        if isinstance(k, str) and not isinstance(v, list)
    }
    if any("\x00" in v for v in get.values()):
        return None, "a NUL character in the text"
    mode = _MODES.get(get.get("mode", "").lower())
    if mode is None:
        return None, "mode must be volume or amount"
    krn = get.get("krn", "")
    group = groups.get((get.get("sgc", ""), int(krn) if krn.isdigit() and len(krn) < 4 else -1))
    if group is None:
        return None, f"no supply group SGC {get.get('sgc')} KRN {krn}"
    tariff_id = None
    if get.get("tariff"):
        found = tariffs.get(get["tariff"])
        if found is None or found[1] != mode.value:
            return None, f"no {mode.value} tariff named {get['tariff']!r}"
        tariff_id = found[0]
    ti = get.get("ti") or "01"
    if len(ti) != 2 or not (ti.isascii() and ti.isdigit()):
        return None, "ti must be two digits"
    for column, size in _SIZES.items():
        if len(get.get(column, "")) > size:
            return None, f"{column} is longer than {size} characters"
    if not get.get("customer_name") and (get.get("customer_phone") or get.get("customer_address")):
        return None, "a customer's phone or address needs the customer's name"
    try:
        num = parse_meter_number(get.get("number", ""))
    except BadMeterNumber as exc:
        return None, exc.detail
    customer = None
    if get.get("customer_name"):
        customer = (
            get["customer_name"],
            get.get("customer_phone", ""),
            get.get("customer_address", ""),
        )
    return (
        bulk.BookRow(
            line=line,
            pan=num.pan,
            iin=num.iin,
            drn=num.drn,
            mode=mode.value,
            group=group,
            ti=ti,
            tariff_id=tariff_id,
            customer=customer,
        ),
        "",
    )
