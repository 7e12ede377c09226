"""The tariffs page: an admin makes a tariff's fixed charge monthly from the console."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Meter, Role, TariffVersion
from tests.vending.sales.conftest import Shop

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def admin_at_tariff(
    signed_in_as: Callable[[Role, str], str], shop: Shop, engine: Engine
) -> tuple[str, int]:
    """An admin signed in on the console (its CSRF value) and the volume meter's tariff."""
    csrf = signed_in_as(Role.ADMIN, "tariffadmin")
    with make_sessionmaker(engine)() as s:
        tid = s.execute(select(Meter.tariff_id).where(Meter.pan == shop.volume_pan)).scalar_one()
        assert tid is not None
        return csrf, int(tid)


def test_an_admin_adds_a_version_with_a_monthly_fixed_charge(
    console: TestClient,
    admin_at_tariff: tuple[str, int],
    engine: Engine,
) -> None:
    """The new version is stored monthly with its steps, and the page lists it."""
    csrf, tid = admin_at_tariff
    r = console.post(
        f"/console/tariffs/{tid}/versions",
        data={
            "effective_from": "2030-01-01T00:00",
            "fixed_charge": "5.00",
            "fixed_charge_period": "month",
            "tax_rate_bp": "1500",
            "debt_recovery_bp": "0",
            "steps": "10 1.50\n- 2.00",
            "csrf": csrf,
        },
    )
    assert r.status_code == 200, r.text
    assert re.search(r'<td class="fixed">5\.00 per month</td>', r.text)
    assert "10 m³ at 1.50, rest at 2.00" in r.text
    with make_sessionmaker(engine)() as s:
        v = (
            s.execute(
                select(TariffVersion)
                .where(TariffVersion.tariff_id == tid)
                .order_by(TariffVersion.version.desc())
            )
            .scalars()
            .first()
        )
        assert v is not None
        assert (v.fixed_charge, v.fixed_charge_period) == (500, "month")


def test_bad_steps_or_period_add_nothing_and_say_why(
    console: TestClient,
    admin_at_tariff: tuple[str, int],
    engine: Engine,
) -> None:
    """A malformed steps line or an unknown period is refused on the page."""
    csrf, tid = admin_at_tariff
    form = {
        "effective_from": "2030-01-01T00:00",
        "fixed_charge": "5",
        "csrf": csrf,
        "fixed_charge_period": "month",
        "steps": "ten 1.50",
    }
    bad = console.post(f"/console/tariffs/{tid}/versions", data=form)
    assert bad.status_code == 422
    assert "step 1: write" in bad.text
    odd = console.post(
        f"/console/tariffs/{tid}/versions",
        data={**form, "steps": "- 1.00", "fixed_charge_period": "year"},
    )
    assert odd.status_code == 422
    assert "(invalid_input)" in odd.text
    with make_sessionmaker(engine)() as s:
        assert (
            len(
                s.execute(select(TariffVersion).where(TariffVersion.tariff_id == tid))
                .scalars()
                .all()
            )
            == 1
        )


def test_a_supervisor_reads_tariffs_but_cannot_add_versions(
    console: TestClient,
    signed_in: Callable[[str], str],
    shop: Shop,
) -> None:
    """Supervisors see each version's fixed charge and period, with no form."""
    signed_in("shopsuper")
    page = console.get("/console/tariffs")
    assert page.status_code == 200
    assert '<td class="fixed">1.00 per sale</td>' in page.text
    assert "Add version" not in page.text
