"""The USSD menu state machine, pure: every screen, every bad input, back, and limits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsgas.vending.ussd.menu import (
    MAX_INPUTS,
    MAX_TEXT,
    Context,
    Purchase,
    Screen,
    ShowBalance,
    ShowTokens,
    step,
)

ONE = Context(meters=("600727000000000012",))
TWO = Context(meters=("600727000000000012", "600727000000000034"))
NONE = Context(meters=())


def _screen(text: str, ctx: Context = TWO) -> Screen:
    got = step(text, ctx)
    assert isinstance(got, Screen), got
    return got


def test_first_step_is_the_main_menu() -> None:
    s = _screen("")
    assert not s.end
    assert s.render().startswith("CON ")
    assert "1 Balance" in s.text
    assert "2 Buy gas" in s.text
    assert "3 Last tokens" in s.text
    assert "00 Back" not in s.text


def test_balance() -> None:
    assert step("1", TWO) == ShowBalance()
    assert step("1", NONE) == ShowBalance()


def test_buy_with_one_meter_skips_the_choice() -> None:
    assert "Enter amount" in _screen("2", ONE).text
    confirm = _screen("2*50", ONE)
    assert "Buy gas for 50.00 on meter ..0012?" in confirm.text
    assert "1 Confirm" in confirm.text
    assert not confirm.end
    assert step("2*50*1", ONE) == Purchase("600727000000000012", Decimal("50.00"))


def test_buy_with_two_meters_chooses_first() -> None:
    choose = _screen("2")
    assert "1 Meter ..0012" in choose.text
    assert "2 Meter ..0034" in choose.text
    assert "Meter ..0034" in _screen("2*2").text
    assert step("2*2*12,5*1", TWO) == Purchase("600727000000000034", Decimal("12.50"))


def test_cancel_ends_without_a_purchase() -> None:
    s = _screen("2*1*50*2")
    assert s.end
    assert s.render().startswith("END ")
    assert "Nothing was bought" in s.text


def test_last_tokens() -> None:
    assert step("3", ONE) == ShowTokens("600727000000000012")
    assert "Choose meter" in _screen("3").text
    assert step("3*2", TWO) == ShowTokens("600727000000000034")


def test_no_meter_linked_ends() -> None:
    for text in ("2", "3"):
        s = _screen(text, NONE)
        assert s.end
        assert "No meter" in s.text


@pytest.mark.parametrize("bad", ["", "x", "4", "0", "9", "11", "1.0", "-1", "١", " "])
def test_bad_main_menu_choice_shows_the_menu_again(bad: str) -> None:
    s = _screen(f"{bad}")
    if bad == "":
        assert "Invalid" not in s.text  # the first step itself
        return
    assert not s.end
    assert s.text.startswith("Invalid choice.\nGas prepaid")


@pytest.mark.parametrize("bad", ["", "0", "3", "-1", "a", "01x", "99999999999999"])
def test_unknown_meter_choice(bad: str) -> None:
    s = _screen(f"2*{bad}")
    assert s.text.startswith("Unknown meter choice.\nChoose meter")
    s = _screen(f"3*{bad}")
    assert s.text.startswith("Unknown meter choice.\nChoose meter")


@pytest.mark.parametrize(
    "bad",
    ["", "0", "0.00", "-5", "abc", "5.001", "1e3", "5..0", "+5", "12345678901234", "NaN", "٥"],
)
def test_bad_amount_asks_again(bad: str) -> None:
    s = _screen(f"2*1*{bad}")
    assert not s.end
    assert s.text.startswith("Invalid amount")
    assert "Enter amount" in s.text


@pytest.mark.parametrize("bad", ["", "0", "3", "yes", "11"])
def test_bad_confirm_choice_asks_again(bad: str) -> None:
    s = _screen(f"2*1*50*{bad}")
    assert s.text.startswith("Invalid choice.\nBuy gas for 50.00")


def test_an_earlier_bad_input_is_forgotten_once_a_good_one_follows() -> None:
    assert step("x*2*5*1*50*1", TWO) == Purchase("600727000000000012", Decimal("50.00"))
    assert "Invalid" not in _screen("x*2").text


def test_back_goes_up_one_screen() -> None:
    assert "Choose meter" in _screen("2*1*00").text
    assert _screen("2*00").text == _screen("").text
    assert _screen("00").text == _screen("").text  # the main menu has no parent
    assert "Enter amount" in _screen("2*1*50*00").text
    assert step("2*1*50*00*60*1", TWO) == Purchase("600727000000000012", Decimal("60.00"))
    assert "00 Back" in _screen("2").text


def test_back_clears_a_bad_input() -> None:
    assert "Invalid" not in _screen("2*1*abc*00").text


def test_overlong_session_ends() -> None:
    long_text = "*".join(["x"] * (MAX_INPUTS + 1))
    assert len(long_text) <= MAX_TEXT
    assert _screen(long_text).end
    assert _screen("2*1*" + "9" * MAX_TEXT).end


def test_overlong_single_input_is_invalid_not_a_crash() -> None:
    s = _screen("2*1*" + "1" * 40)
    assert s.text.startswith("Invalid amount")


def test_currency_is_shown_when_set() -> None:
    ctx = Context(meters=ONE.meters, decimals=0, currency="TZS")
    assert "Buy gas for TZS 500 on" in _screen("2*500", ctx).text
    assert _screen("2*500.5", ctx).text.startswith("Invalid amount")


_INPUT = st.one_of(
    st.sampled_from(["", "0", "00", "1", "2", "3", "9", "50", "1,5", "-1", "abc"]),
    st.text(max_size=15),
)


@given(inputs=st.lists(_INPUT, max_size=25), meters=st.integers(min_value=0, max_value=3))
def test_any_inputs_give_a_well_formed_answer(inputs: list[str], meters: int) -> None:
    """Whatever is typed, the menu answers: a screen under 182 characters or an action
    naming one of the caller's meters with a positive amount; never an exception."""
    ctx = Context(meters=tuple(f"60072700000000{i:04d}" for i in range(meters)))
    got = step("*".join(inputs), ctx)
    if isinstance(got, Screen):
        assert 0 < len(got.render()) <= 182
        assert got.render()[:4] in ("CON ", "END ")
    elif isinstance(got, ShowTokens):
        assert got.meter in ctx.meters
    elif isinstance(got, Purchase):
        assert got.meter in ctx.meters
        assert got.amount > 0
    else:
        assert isinstance(got, ShowBalance)


@given(inputs=st.lists(_INPUT, max_size=8))
def test_the_answer_depends_only_on_the_inputs(inputs: list[str]) -> None:
    """A gateway's retry of a step (same text) gets the same answer."""
    text = "*".join(inputs)
    assert step(text, TWO) == step(text, TWO)
