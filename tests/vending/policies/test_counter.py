"""Credit policies at the counter, through the API on both databases: each policy is
its own receipt line, posted in the ledger, and given or recovered exactly once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Account, FreeGasGrant, LedgerEntry
from tests.vending.conftest import auth, integrity
from tests.vending.policies.conftest import (
    Town,
    debt,
    ledger_balanced,
    lines,
    new_class,
    sell,
    set_policy,
)


def test_free_basic_gas_once_a_month_across_channels(
    client: TestClient,
    town: Town,
    engine: Engine,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A lifeline customer's first sale of the month carries 6 m³ free (its own line,
    valued at the first block: 9.00); the next sale, on the other meter and another
    channel, carries none. The gas is posted as given away; `stsgas check` is clean."""
    new_class(client, town, {"code": "lifeline", "name": "Lifeline", "free_m3": "6"})
    assert set_policy(client, town, town.customer_id, {"class_code": "lifeline"}).is_success
    first = sell(client, town, town.volume_pans[0], "23.00")
    assert lines(first) == {"free_gas": ("9.00", "6.0")}
    # 20.00 of gas after 6 m³ free: 4 m³ at 1.50, 7 m³ at 2.00; the token adds the 6 m³
    assert (first["energy_amount"], first["units_credited"]) == ("20.00", "17.0")
    second = sell(client, town, town.volume_pans[1], "23.00", channel="pos")
    assert "policy_lines" not in second
    with make_sessionmaker(engine)() as s:
        grants = s.execute(select(FreeGasGrant.sale_id, FreeGasGrant.litres)).all()
        assert [tuple(g) for g in grants] == [(first["sale_id"], 6000)]
        given = s.execute(
            select(func.sum(LedgerEntry.debit)).where(LedgerEntry.memo.like("%credit policies"))
        ).scalar_one()
        assert given == 900
    ledger_balanced(engine)
    report = integrity(db_url, capsys)
    assert report["sales_with_wrong_journal"] == []


def test_free_money_for_a_by_amount_meter(client: TestClient, town: Town) -> None:
    """A by-amount meter's class gives money: 5.00 on top of what the payment buys."""
    new_class(client, town, {"code": "social", "free_money": "5.00"})
    set_policy(client, town, town.amount_customer_id, {"class_code": "social"})
    r = sell(client, town, town.amount_pan, "11.50")
    assert lines(r) == {"free_gas": ("5.00", None)}
    assert (r["energy_amount"], Decimal(r["money_credited"])) == ("10.00", Decimal("15.00"))


def test_emergency_credit_given_once_then_repaid(
    client: TestClient, town: Town, engine: Engine
) -> None:
    """Asked for, the advance rides on the next sale (gas + tax, owed as debt); another
    ask while it is owed is 409; the sale after repays it (at most half the payment)."""
    new_class(client, town, {"code": "standard", "emergency_max": "20.00"})
    set_policy(client, town, town.customer_id, {"class_code": "standard"})
    url = f"/api/v1/customers/{town.customer_id}/emergency-credit"
    over = client.post(url, json={"amount": "25.00"}, headers=auth(town.supervisor_token))
    assert (over.status_code, over.json()["code"]) == (409, "emergency_credit_refused")
    asked = client.post(url, json={"amount": "11.50"}, headers=auth(town.supervisor_token))
    assert asked.status_code == 200, asked.text
    assert asked.json()["emergency_asked"] == "11.50"
    again = client.post(url, json={"amount": "1.00"}, headers=auth(town.supervisor_token))
    assert again.status_code == 409, again.text

    given = sell(client, town, town.volume_pans[0], "2.30")
    # 11.50 buys 6.6 m³ at 1.50 (9.90) and its tax (1.49): 11.39 is owed, not the change
    assert lines(given) == {"emergency_credit": ("11.39", "6.6")}
    assert Decimal(given["units_credited"]) == Decimal("1.3") + Decimal("6.6")
    assert debt(engine, town.customer_id) == 1139
    later = client.post(url, json={"amount": "1.00"}, headers=auth(town.supervisor_token))
    assert later.status_code == 409, later.text

    half = sell(client, town, town.volume_pans[1], "10.00")
    assert lines(half) == {"emergency_repaid": ("5.00", None)}
    assert half["debt_recovered"] == "5.00"
    rest = sell(client, town, town.volume_pans[0], "20.00")
    assert lines(rest) == {"emergency_repaid": ("6.39", None)}
    assert debt(engine, town.customer_id) == 0
    view = client.get(
        f"/api/v1/customers/{town.customer_id}/policy", headers=auth(town.supervisor_token)
    ).json()
    assert (view["emergency_asked"], view["emergency_owed"]) == ("0.00", "0.00")
    ledger_balanced(engine)


def test_debt_plan_recovers_an_instalment_per_sale_down_to_zero(
    client: TestClient, town: Town, engine: Engine
) -> None:
    """Debt 25.00, 10% of each sale raised to 4.00 and cut to 10.00: a 20.00 sale pays
    4.00, a 200.00 sale 10.00, and the last pays only what is left; never below zero."""
    client.patch(
        f"/api/v1/customers/{town.customer_id}",
        json={"debt_balance": "25.00"},
        headers=auth(town.supervisor_token),
    )
    plan = {"kind": "percent", "percent": "10", "min": "4.00", "max": "10.00"}
    r = set_policy(client, town, town.customer_id, {"debt_plan": plan})
    assert r.status_code == 200, r.text
    assert r.json()["debt_plan"]["percent"] == "10"
    got = [
        lines(sell(client, town, town.volume_pans[i % 2], amount)).get("debt_instalment")
        for i, amount in enumerate(["20.00", "200.00", "200.00", "200.00", "20.00"])
    ]
    assert got == [("4.00", None), ("10.00", None), ("10.00", None), ("1.00", None), None]
    assert debt(engine, town.customer_id) == 0
    ledger_balanced(engine)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"debt_plan": {"kind": "fixed"}}, 422, "invalid_input"),
        ({"debt_plan": {"kind": "fixed", "amount": "5", "percent": "3"}}, 422, "invalid_input"),
        ({"debt_plan": {"kind": "percent", "percent": "101"}}, 422, None),
        ({"debt_plan": {"kind": "fixed", "amount": "5", "min": "9", "max": "8"}}, 422, None),
        ({"debt_plan": {"kind": "fixed", "amount": 1.5}}, 422, None),
        ({"class_code": "nobody"}, 404, "not_found"),
    ],
)
def test_bad_policies_are_refused_and_change_nothing(
    client: TestClient,
    town: Town,
    body: dict[str, object],
    status: int,
    code: str | None,
) -> None:
    """A plan without its rule, both rules, an out-of-range share, min above max, a
    float, an unknown class: refused, and the customer keeps no policy."""
    r = set_policy(client, town, town.customer_id, body)
    assert r.status_code == status, r.text
    if code is not None:
        assert r.json()["code"] == code
    view = client.get(
        f"/api/v1/customers/{town.customer_id}/policy", headers=auth(town.supervisor_token)
    ).json()
    assert (view["class"], view["debt_plan"]) == (None, None)


def test_a_cashier_may_not_set_a_policy(client: TestClient, town: Town) -> None:
    """Setting classes and plans is a supervisor's (customers.write)."""
    r = client.put(
        f"/api/v1/customers/{town.customer_id}/policy",
        json={"class_code": None},
        headers=auth(town.cashier_token),
    )
    assert r.status_code == 403, r.text


def test_a_cancelled_sale_gives_its_policies_back(
    client: TestClient,
    town: Town,
    engine: Engine,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A sale that gave the month's free gas and an advance is voided: the free gas may
    be given again, the advance is no longer owed, the gas-given journal is reversed
    and the ledger balances; the next sale carries the free gas."""
    new_class(client, town, {"code": "lifeline", "free_m3": "6", "emergency_max": "20"})
    set_policy(client, town, town.customer_id, {"class_code": "lifeline"})
    client.post(
        f"/api/v1/customers/{town.customer_id}/emergency-credit",
        json={"amount": "11.50"},
        headers=auth(town.supervisor_token),
    )
    sale = sell(client, town, town.volume_pans[0], "23.00")
    assert set(lines(sale)) == {"free_gas", "emergency_credit"}
    assert debt(engine, town.customer_id) > 0
    void = client.post(
        f"/api/v1/sales/{sale['sale_id']}/cancel",
        json={"reason": "wrong meter", "token_used": False},
        headers=auth(town.supervisor_token),
    )
    assert void.status_code == 200, void.text
    assert debt(engine, town.customer_id) == 0
    view = client.get(
        f"/api/v1/customers/{town.customer_id}/policy", headers=auth(town.supervisor_token)
    ).json()
    assert view["emergency_owed"] == "0.00"
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(FreeGasGrant)).scalar_one() == 0
    ledger_balanced(engine)
    again = sell(client, town, town.volume_pans[1], "23.00")
    assert lines(again) == {"free_gas": ("9.00", "6.0")}
    with make_sessionmaker(engine)() as s:
        given = s.execute(
            select(func.sum(LedgerEntry.debit) - func.sum(LedgerEntry.credit))
            .join(Account, Account.id == LedgerEntry.account_id)
            .where(Account.code == "revenue:free_gas")
        ).scalar_one()
        assert given == 900  # the voided sale's free gas was booked back
    report = integrity(db_url, capsys)
    assert report["sales_with_wrong_journal"] == []


def test_a_customer_without_a_policy_pays_no_policy_reads(
    client: TestClient, town: Town, engine: Engine
) -> None:
    """Most customers have no credit policy: their sale learns that inside the meter's
    own lock statement and never reads (or locks the customer for) the policy tables,
    so the policies cost the common sale nothing."""
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        sell(client, town, town.amount_pan, "10.00")
    finally:
        event.remove(engine, "before_cursor_execute", note)
    alone = [
        s
        for s in seen
        if ("customer_policies" in s or "customer_classes" in s) and "meters" not in s
    ]
    assert alone == []
