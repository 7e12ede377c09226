"""Demo data for ``stsgas serve --demo``: loaded once into an empty database.

Everything goes through the same services as the API (so it is audited and
the vending key is wrapped like any other). The data sits in
``data/demo.json``; the demo passwords are printed at start-up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stsgas.sts.identity import drn_with_check
from stsgas.vending.customers import service as customers
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.meters import service as meters
from stsgas.vending.models import MeterMode, Operator, Role
from stsgas.vending.operators import service as operators
from stsgas.vending.supply_groups import service as supply_groups
from stsgas.vending.tariffs import service as tariffs
from stsgas.vending.tariffs.schemas import VersionIn


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoLogin:
    """A demo operator's name, password and role (to print)."""

    username: str
    password: str
    role: str


def demo_data() -> dict[str, Any]:
    """The demo data file."""
    text = resources.files("stsgas.vending").joinpath("data/demo.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def logins() -> list[DemoLogin]:
    """The demo operators' logins."""
    return [
        DemoLogin(username=o["username"], password=o["password"], role=o["role"])
        for o in demo_data()["operators"]
    ]


def load(session: Session, security: SecurityModule) -> bool:
    """Load the demo data unless the database already has operators; True if loaded."""
    if session.execute(select(func.count()).select_from(Operator)).scalar():
        return False
    data = demo_data()
    g = data["supply_group"]
    sg = supply_groups.create(
        session,
        security,
        actor=None,
        sgc=g["sgc"],
        krn=g["krn"],
        vending_key=bytes.fromhex(g["vending_key"]),
        key_type=g["key_type"],
        base_date=g["base_date"],
        ea=g["ea"],
        dkga=g["dkga"],
        ken=g["ken"],
        name=g["name"],
    )
    vendor = operators.create_vendor(session, actor=None, name=data["vendor"]["name"])
    operators.top_up_float(session, actor=None, vendor_id=vendor.id, amount=data["vendor"]["float"])
    for o in data["operators"]:
        operators.create_operator(
            session,
            actor=None,
            username=o["username"],
            role=Role(o["role"]),
            password=o["password"],
            display_name=o["display_name"],
            vendor_id=vendor.id if o.get("vendor") else None,
        )
    tariff_ids = {}
    for t in data["tariffs"]:
        made = tariffs.create(
            session,
            actor=None,
            name=t["name"],
            mode=MeterMode(t["mode"]),
            currency=t["currency"],
            version=VersionIn.model_validate(t["version"]),
        )
        tariff_ids[t["name"]] = made.id
    for c in data["customers"]:
        cust = customers.create(
            session,
            actor=None,
            name=c["name"],
            address=c["address"],
            phone=c["phone"],
            debt_balance=c["debt_balance"],
            sms_tokens=c.get("sms_tokens", False),  # the demo's token SMS path
        )
        for m in c["meters"]:
            meters.create(
                session,
                actor=None,
                number=drn_with_check(m["drn_body"]),
                mode=MeterMode(m["mode"]),
                supply_group_id=sg.id,
                tariff_id=tariff_ids[m["tariff"]],
                customer_id=cust.id,
            )
    return True


def meter_numbers() -> list[str]:
    """The demo meters' DRNs (to print)."""
    return [drn_with_check(m["drn_body"]) for c in demo_data()["customers"] for m in c["meters"]]
