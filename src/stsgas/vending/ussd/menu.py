"""The USSD menu as a pure state machine: the session's inputs so far -> the next step.

A USSD gateway posts, on every step of a session, *all* the user's inputs so
far joined by ``*`` (``""`` first, then ``"2"``, ``"2*1"``, ``"2*1*50"``…).
So the menu keeps no state between requests: :func:`step` replays the inputs
from the main menu each time. That makes a gateway's retry of a step answer
the same screen, and the whole menu testable without a database or a clock.

Rules of the walk:

* ``00`` goes back one screen (on the main menu it stays there);
* an input a screen cannot take leaves the screen as it was; when it is the
  last input the screen is shown again under "Invalid …" (the session goes on);
* a session longer than :data:`MAX_TEXT` characters or :data:`MAX_INPUTS`
  inputs ends.

The answer is a :class:`Screen` (text to show) or an action the service does
and then ends the session with: :class:`ShowBalance`, :class:`ShowTokens`,
:class:`Purchase`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from stsgas.vending.errors import BadAmount
from stsgas.vending.kit.money import format_money, parse_money

__all__ = [
    "BACK",
    "MAX_INPUTS",
    "MAX_TEXT",
    "Context",
    "Purchase",
    "Screen",
    "ShowBalance",
    "ShowTokens",
    "Step",
    "step",
]

BACK: Final = "00"
#: the longest inputs text a session may carry (USSD screens take 182 characters)
MAX_TEXT: Final = 182
#: the most inputs (screens visited) in one session
MAX_INPUTS: Final = 20
#: the longest one input may be (an amount or a menu choice)
MAX_INPUT: Final = 12

MAIN_TEXT: Final = "Gas prepaid\n1 Balance\n2 Buy gas\n3 Last tokens"
CONFIRM_CHOICES: Final = "1 Confirm\n2 Cancel"


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What the menu needs to know about the caller: their meters (PANs, in a fixed
    order) and the currency's decimals."""

    meters: tuple[str, ...]
    decimals: int = 2
    currency: str = ""


@dataclass(frozen=True, slots=True)
class Screen:
    """Text to show; ``end`` closes the session (``END``), else it goes on (``CON``)."""

    text: str
    end: bool = False

    def render(self) -> str:
        """The callback's answer body."""
        return f"{'END' if self.end else 'CON'} {self.text}"


@dataclass(frozen=True, slots=True)
class ShowBalance:
    """Show the wallet balance and the last purchase, then end."""


@dataclass(frozen=True, slots=True)
class ShowTokens:
    """Show the meter's last tokens, then end."""

    meter: str


@dataclass(frozen=True, slots=True)
class Purchase:
    """The customer confirmed: buy ``amount`` (major units) of gas for ``meter``."""

    meter: str
    amount: Decimal


Step = Screen | ShowBalance | ShowTokens | Purchase


@dataclass(frozen=True, slots=True)
class _Main:
    pass


@dataclass(frozen=True, slots=True)
class _Choose:
    purpose: str  # "buy" or "tokens"


@dataclass(frozen=True, slots=True)
class _Amount:
    meter: str


@dataclass(frozen=True, slots=True)
class _Confirm:
    meter: str
    minor: int


_State = _Main | _Choose | _Amount | _Confirm
_Done = ShowBalance | ShowTokens | Purchase | Screen


def _tail(meter: str) -> str:
    return meter[-4:]


def _money(minor: int, ctx: Context) -> str:
    text = format_money(minor, ctx.decimals)
    return f"{ctx.currency} {text}".strip()


def _amount(text: str, decimals: int) -> int | None:
    """A positive amount typed on a keypad ("," allowed for the point), or None."""
    try:
        minor = parse_money(text, decimals, decimal_comma=True)
    except BadAmount:
        return None
    return minor if minor > 0 else None


def _after_meter(purpose: str, meter: str) -> _State | _Done:
    return ShowTokens(meter) if purpose == "tokens" else _Amount(meter)


def _meters_screen(ctx: Context) -> str:
    lines = [f"{i} Meter ..{_tail(m)}" for i, m in enumerate(ctx.meters, start=1)]
    return "Choose meter\n" + "\n".join(lines)


def _text_of(state: _State, ctx: Context) -> str:
    if isinstance(state, _Main):
        return MAIN_TEXT
    if isinstance(state, _Choose):
        return _meters_screen(ctx)
    if isinstance(state, _Amount):
        return f"Meter ..{_tail(state.meter)}\nEnter amount"
    return (
        f"Buy gas for {_money(state.minor, ctx)} on meter ..{_tail(state.meter)}?\n"
        + CONFIRM_CHOICES
    )


def _pick_meter(purpose: str, ctx: Context) -> _State | _Done:
    if not ctx.meters:
        return Screen("No meter is linked to this phone.", end=True)
    if len(ctx.meters) == 1:
        return _after_meter(purpose, ctx.meters[0])
    return _Choose(purpose)


def _advance(state: _State, value: str, ctx: Context) -> _State | _Done | None:
    """The next state after ``value``; None when the screen cannot take it."""
    if isinstance(state, _Main):
        if value == "1":
            return ShowBalance()
        if value == "2":
            return _pick_meter("buy", ctx)
        if value == "3":
            return _pick_meter("tokens", ctx)
        return None
    if isinstance(state, _Choose):
        if value.isascii() and value.isdigit() and 1 <= int(value) <= len(ctx.meters):
            return _after_meter(state.purpose, ctx.meters[int(value) - 1])
        return None
    if isinstance(state, _Amount):
        minor = _amount(value, ctx.decimals)
        return None if minor is None else _Confirm(state.meter, minor)
    if value == "1":
        return Purchase(state.meter, Decimal(format_money(state.minor, ctx.decimals)))
    if value == "2":
        return Screen("Cancelled. Nothing was bought.", end=True)
    return None


_INVALID: Final = {
    _Main: "Invalid choice.",
    _Choose: "Unknown meter choice.",
    _Amount: "Invalid amount: enter a number above 0, like 20 or 20.50.",
    _Confirm: "Invalid choice.",
}


def step(text: str, ctx: Context) -> Step:
    """The answer to a session whose inputs so far are ``text`` (``*``-joined)."""
    if len(text) > MAX_TEXT:
        return Screen("Session too long. Please dial again.", end=True)
    inputs = text.split("*") if text else []
    if len(inputs) > MAX_INPUTS:
        return Screen("Session too long. Please dial again.", end=True)
    stack: list[_State] = [_Main()]
    invalid = False
    for raw in inputs:
        value = raw.strip()
        if value == BACK:
            if len(stack) > 1:
                stack.pop()
            invalid = False
            continue
        nxt = None if len(value) > MAX_INPUT else _advance(stack[-1], value, ctx)
        if nxt is None:
            invalid = True
            continue
        invalid = False
        if isinstance(nxt, _Main | _Choose | _Amount | _Confirm):
            stack.append(nxt)
            continue
        return nxt  # the session ends here; later inputs cannot exist
    state = stack[-1]
    body = _text_of(state, ctx)
    if invalid:
        body = f"{_INVALID[type(state)]}\n{body}"
    if len(stack) > 1:
        body = f"{body}\n00 Back"
    return Screen(body)
