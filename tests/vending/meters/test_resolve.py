"""One meter resolution: the SMS channel checks the meter the sale sells to.

The ``meters.drn`` column is not unique (only the PAN is), so a database may
hold two rows whose ``drn`` says the same digits: a row written by hand, or
by an import that trusted its file. Whatever the rows say, the number a
customer types names one meter, the one whose PAN its digits make, and every
reader (sale, SMS, lookup, management) must agree on which.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from stsgas.sts import pan_from_iin_drn
from stsgas.vending import transaction
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.errors import BadMeterNumber, MeterNotFound
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.meters import resolve
from stsgas.vending.meters import service as meters
from stsgas.vending.models import Meter, MeterMode, Operator, Role, Vendor
from stsgas.vending.sales import service
from stsgas.vending.sales.request import SaleRequest
from stsgas.vending.sms import service as sms
from tests.vending import factories

OWNER = "+255700000111"
OTHER = "+255700000222"


def _two_rows_one_drn(engine: Engine, security: SoftwareSecurityModule) -> tuple[str, str]:
    """The meter numbered DRN (owned by OWNER) and, inserted before it, a row whose
    ``drn`` column repeats that DRN under another PAN (owned by OTHER)."""
    with make_sessionmaker(engine).begin() as s:
        sg = factories.supply_group(s, security)
        tariff = factories.tariff(s, mode=MeterMode.VOLUME)
        iin, drn = factories.new_drn()
        _, decoy_drn = factories.new_drn()
        decoy = factories.meter(
            s,
            sg,
            tariff=tariff,
            customer=factories.customer(s, phone=OTHER),
            drn=decoy_drn,
            iin=iin,
        )
        decoy.drn = drn  # the stray row: its PAN is another meter's
        real = factories.meter(
            s, sg, tariff=tariff, customer=factories.customer(s, phone=OWNER), drn=drn, iin=iin
        )
        assert real.pan == pan_from_iin_drn(iin, drn)
        return drn, real.pan


def test_sms_checks_the_meter_the_sale_sells_to(
    engine: Engine,
    security_module: SoftwareSecurityModule,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    drn, pan = _two_rows_one_drn(engine, security_module)
    sm = make_sessionmaker(engine)
    assert sms.may_use_meter(sm, OTHER, drn) == (
        False,
        "this phone is not registered for that meter",
    )
    assert sms.may_use_meter(sm, OWNER, drn)[0] is True
    with sm.begin() as s:
        vendor = Vendor(name="SMS wallet", float_balance=10**9)
        s.add(vendor)
        s.flush()
        vendor_id = vendor.id
    operator, _ = make_operator(Role.CASHIER, vendor_id=vendor_id)
    req = SaleRequest(
        meter_number=resolve.normalise(drn), paid=10_000, channel="sms", idempotency_key=None
    )
    with sm() as s:
        result = transaction.run(
            s, lambda: service.sell(s, req, operator=operator, security=security_module)
        )
    assert result.receipt.meter_number == pan


def test_the_lookup_names_the_meter_the_sale_sells_to(
    engine: Engine, security_module: SoftwareSecurityModule
) -> None:
    drn, pan = _two_rows_one_drn(engine, security_module)
    with make_sessionmaker(engine)() as s:
        found = meters.lookup(s, drn, window=timedelta(days=30))
        assert found.meter.pan == pan
        assert found.customer is not None
        assert found.customer.phone == OWNER
        assert found.meter.supply_group is not None  # loaded with it (``full``)
        typo = drn[:-1] + str((int(drn[-1]) + 1) % 10)
        with pytest.raises(BadMeterNumber):
            meters.lookup(s, typo, window=timedelta(days=30))


def test_every_spelling_names_the_meter_of_its_pan(
    session: Session, security_module: SoftwareSecurityModule
) -> None:
    sg = factories.supply_group(session, security_module)
    m = factories.meter(session, sg)
    spaced = " ".join([m.drn[:4], m.drn[4:8], m.drn[8:]])
    for typed in (m.pan, m.drn, spaced, f"{m.pan[:6]}-{m.pan[6:]}"):
        found = resolve.resolve(session, typed)
        assert isinstance(found, Meter)
        assert found.id == m.id


def test_an_unknown_number_and_a_typo_are_told_apart(session: Session) -> None:
    iin, drn = factories.new_drn()
    with pytest.raises(MeterNotFound):
        resolve.resolve(session, drn)
    typo = drn[:-1] + str((int(drn[-1]) + 1) % 10)
    with pytest.raises(BadMeterNumber):
        resolve.resolve(session, typo)
    assert resolve.find(session, pan_from_iin_drn(iin, drn)) is None
