"""What the LCD and the query codes show: the credit that is there, prices as money."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from stsgas.sts import MeterConfig, credit_token

from .meter_support import METER, T0, make

H = timedelta(hours=1)


def test_lcd_shows_the_credit_left_after_consumption() -> None:
    """Idle, the LCD follows every litre billed (volume mode)."""
    vend = MeterConfig.from_json(METER)
    m = make()
    m.enter_token(credit_token(vend, "10", at=T0 + H).digits, T0 + H)
    m.open_key(T0 + H)
    m.flow(25, T0 + 2 * H)
    assert m.lcd == "CR 9.975 m3"
    m.flow(5000, T0 + 3 * H)
    assert m.lcd == "CR 4.975 m3 LOW"


def test_lcd_shows_money_left_in_amount_mode() -> None:
    """By amount, the LCD shows the money left after each priced increment."""
    vend = MeterConfig.from_json(METER)
    m = make(
        mode="amount",
        tariff=[{"up_to_m3": None, "price": "2.00"}],
        recharge_limit="100",
        low_credit_alarm="1",
    )
    issued = credit_token(vend, "5", at=T0 + H, subclass=6)
    assert issued.amount is not None
    m.enter_token(issued.digits, T0 + H)
    m.open_key(T0 + H)
    m.flow(1000, T0 + 2 * H)
    assert m.lcd == f"CR {m.credit}"
    assert m.credit == issued.amount - 2


def test_a_token_being_typed_is_not_overwritten_by_flow() -> None:
    """Gas flowing while the customer types keeps the typed digits on the LCD."""
    vend = MeterConfig.from_json(METER)
    m = make()
    m.enter_token(credit_token(vend, "10", at=T0 + H).digits, T0 + H)
    m.open_key(T0 + H)
    m.press("1", T0 + 2 * H)
    m.press("2", T0 + 2 * H)
    m.flow(25, T0 + 2 * H + timedelta(seconds=5))
    assert m.lcd == "12"


def test_query_05_shows_the_price_as_money_on_a_volume_meter() -> None:
    """A volume meter's tariff price is money: ``1.10``, not ``110``."""
    m = make(tariff=[{"up_to_m3": "10", "price": "1.10"}, {"up_to_m3": None, "price": "2"}])
    for key in "05#":
        m.press(key, T0 + H)
    assert m.lcd == "05 step 1 1.10/m3"
    m.put(replace(m.balance, month=10_000))
    for key in "05#":
        m.press(key, T0 + 2 * H)
    assert m.lcd == "05 step 2 2.00/m3"
