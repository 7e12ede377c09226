"""Supply group rules: validate the algorithm set with stsgas.sts, wrap the key, audit.

The key is checked by building a :class:`stsgas.sts.MeterConfig` for a
probe PAN (the library refuses a DKGA02 key that is not 8 bytes, MISTY1
with DKGA02, a DKGA04 key under 160 bits, …), then handed to the security
module and forgotten.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from stsgas.sts import DKGA, EA, BaseDate, MeterConfig
from stsgas.sts.kdf import derive
from stsgas.vending.audit import service as audit
from stsgas.vending.errors import AlreadyExists, InvalidInput, NotFound
from stsgas.vending.keys import rules as key_rules
from stsgas.vending.keys.security import KeyRef, SecurityModule
from stsgas.vending.keys.warnings import KeyWarning, key_warnings
from stsgas.vending.models import Operator, SupplyGroup, utcnow
from stsgas.vending.sales import issue
from stsgas.vending.supply_groups.repository import SupplyGroupRepository

#: a valid PAN used only to let stsgas.sts validate a key/algorithm combination
_PROBE_PAN = "600727000000000009"


def create(
    session: Session,
    security: SecurityModule,
    *,
    actor: Operator | None,
    sgc: str,
    krn: int,
    vending_key: bytes,
    key_type: int = 2,
    base_date: int = 2014,
    ea: int = 7,
    dkga: int = 4,
    ken: int = 255,
    key_expires_at: datetime | None = None,
    name: str = "",
) -> SupplyGroup:
    """Add a supply group key revision; the key is stored wrapped only."""
    repo = SupplyGroupRepository(session)
    if repo.by_code(sgc, krn) is not None:
        raise AlreadyExists(f"supply group {sgc} KRN {krn} exists")
    probe = MeterConfig(
        pan=_PROBE_PAN,
        key_type=key_type,
        sgc=sgc,
        ti="01",
        krn=krn,
        ken=ken,
        base_date=BaseDate(base_date),
        ea=EA(ea),
        dkga=DKGA(dkga),
        vending_key=vending_key,
    )
    derive(probe)  # proves the set works; uncached, so no cache keeps the vending key
    sg = repo.create(
        SupplyGroup(
            name=name or f"SGC {sgc} KRN {krn}",
            sgc=sgc,
            krn=krn,
            key_type=key_type,
            base_date=base_date,
            ea=ea,
            dkga=dkga,
            ken=ken,
            key_expires_at=key_expires_at,
            vending_key_enc=security.wrap(KeyRef(sgc=sgc, krn=krn), vending_key),
        ),
        flush=True,
    )
    audit.record(
        session,
        actor=actor,
        action="supply_group.create",
        object_type="supply_group",
        object_id=sg.id,
        data={
            "sgc": sgc,
            "krn": krn,
            "key_type": key_type,
            "base_date": base_date,
            "ea": ea,
            "dkga": dkga,
            "ken": ken,
        },
    )
    return sg


def parse_key_hex(text: str) -> bytes:
    """The vending key from hex, or :class:`InvalidInput` (without echoing it)."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise InvalidInput("the vending key must be hex") from None
    if not key:
        raise InvalidInput("the vending key is empty")
    return key


def get(session: Session, sg_id: int) -> SupplyGroup:
    """The group or :class:`NotFound`."""
    return SupplyGroupRepository(session).get_or_raise(sg_id, NotFound, "supply group")


def warnings_for(
    sg: SupplyGroup, *, window: timedelta, now: datetime | None = None
) -> list[KeyWarning]:
    """Key expiry, KEN and base-date rollover warnings for this group's key."""
    return key_warnings(
        now=now or utcnow(),
        window=window,
        base_date=sg.base_date,
        ken=sg.ken,
        key_expires_at=sg.key_expires_at,
    )


def migrate_meters(
    session: Session,
    security: SecurityModule,
    *,
    actor: Operator,
    from_id: int,
    to_id: int,
    now: datetime | None = None,
) -> int:
    """Schedule a key change to group ``to_id`` for every active meter of ``from_id``.

    This is how a new key revision (or SGC) is rolled out: each meter gets
    its key change tokens with its next sale. A meter on another base date than
    the new group moves onto the group's base date: its set carries RO=1 (one
    step forward only, 1993 -> 2014 -> 2035) and its record takes the new base
    date when the set is issued. Every kind of move is checked by the key-change
    rule first, decoder keys included (one meter per base date and TI stands for
    the rest: the rule's outcome depends on nothing else), so nothing is
    scheduled that a meter would refuse. Returns the number of meters.
    """
    now = now or utcnow()
    source, target = get(session, from_id), get(session, to_id)
    if source.id == target.id:
        raise InvalidInput("the meters are already on that supply group")
    if (source.ea == 11) != (target.ea == 11):
        raise InvalidInput("a key change cannot move between 64-bit and 128-bit keys")
    repo = SupplyGroupRepository(session)
    for meter in repo.one_meter_per_key_setting(source.id):
        key_rules.check_target(
            old_kt=source.key_type,
            new_kt=target.key_type,
            old_bd=meter.base_date,
            new_bd=target.base_date,
            now=now,
        )
        issue.plan_key_change(
            session, meter, security, now, group_id=target.id, ti=None, base_date=target.base_date
        )
    count = repo.schedule_move(source.id, target.id, base_date=target.base_date)
    audit.record(
        session,
        actor=actor,
        action="supply_group.migrate_meters",
        object_type="supply_group",
        object_id=source.id,
        data={"to": target.id, "meters": count, "base_date": target.base_date},
    )
    return count
