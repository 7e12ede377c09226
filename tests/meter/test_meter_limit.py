"""The recharge limit (anti gas storage), pinned at its boundary, and its log entry."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from stsgas.meter.events import Logged, TokenRejected
from stsgas.sts import MeterConfig, credit_token

from .meter_support import METER, T0, make

H = timedelta(hours=1)


#: (mode, credit token subclass, one register unit in the display unit)
MODES = [("volume", 2, Decimal("0.001")), ("amount", 6, Decimal("0.00001"))]


@pytest.mark.parametrize(("mode", "subclass", "unit"), MODES, ids=["volume", "amount"])
def test_credit_plus_token_equal_to_the_limit_is_accepted(
    mode: str, subclass: int, unit: Decimal
) -> None:
    """credit + token == limit: taken (the rule is ``>``, not ``>=``)."""
    vend = MeterConfig.from_json(METER)
    issued = credit_token(vend, "4", at=T0 + H, subclass=subclass)  # amount as encoded
    assert issued.amount is not None
    m = make(mode=mode, recharge_limit="10", initial_credit=str(10 - issued.amount))
    assert m.enter_token(issued.digits, T0 + H).accepted
    assert m.credit == Decimal(10)


@pytest.mark.parametrize(("mode", "subclass", "unit"), MODES, ids=["volume", "amount"])
def test_one_register_unit_over_the_limit_is_refused(
    mode: str, subclass: int, unit: Decimal
) -> None:
    """credit + token == limit + one unit (a litre, or 1e-5 money): refused with
    ``limit`` (IEC status 4), LCD ``Limit``, credit unchanged, a ``recharge_limit`` entry."""
    vend = MeterConfig.from_json(METER)
    issued = credit_token(vend, "4", at=T0 + H, subclass=subclass)
    assert issued.amount is not None
    credit = 10 - issued.amount + unit
    m = make(mode=mode, recharge_limit="10", initial_credit=str(credit))
    res = m.enter_token(issued.digits, T0 + H)
    assert [(e.code, e.status) for e in res if isinstance(e, TokenRejected)] == [("limit", 4)]
    assert m.lcd == "Limit"
    assert m.credit == credit
    assert [e.type for e in res if isinstance(e, Logged)] == ["recharge_limit"]
    assert m.events()[-1][0] == "recharge_limit"


def test_a_refused_token_is_not_consumed_and_works_after_use() -> None:
    """The refused token's TID is not remembered: after gas is used it is accepted,
    and the refusal does not count towards the entry lockout."""
    vend = MeterConfig.from_json(METER)
    m = make(recharge_limit="10", initial_credit="8")
    token = credit_token(vend, "4", at=T0 + H).digits
    for i in range(4):
        assert m.enter_token(token, T0 + H + i * timedelta(seconds=1)).code == "limit"
    assert m.lockout.fail == 0
    m.open_key(T0 + 2 * H)
    m.flow(2000, T0 + 3 * H)
    assert m.enter_token(token, T0 + 4 * H).accepted
    assert m.credit == Decimal(10)
