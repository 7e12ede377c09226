"""Named tests for the meter's token rules of issue 10 (lockout, key changes, key types,
registers, test tokens, commissioning, tariff tokens): docs/meter.md "Token rules"."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import stsgas.sts as sts
from stsgas.irproto import encode_frame
from stsgas.meter import Meter
from stsgas.meter.events import LcdChanged, TokenRejected, ValveChanged
from stsgas.meter.scenario import unchecked_kcts
from stsgas.meter.storage import MemoryStateStore
from stsgas.sts import (
    MeterConfig,
    TariffRate,
    clear_credit_token,
    credit_token,
    encode,
    key_change_tokens,
    management_token,
    tid_for,
)

from .meter_support import METER, T0, make

H = timedelta(hours=1)
GARBAGE = ["12345678901234567890", "12345678901234567891", "12345678901234567892"]
BITS = json.loads(
    (Path(__file__).parent.parent / "data/meter/test-token-bits.json").read_text("utf-8")
)["bits"]


def _cfg(**over: Any) -> MeterConfig:
    return MeterConfig.from_json({**METER, **over})


def _locked(m: Meter, at: datetime) -> None:
    for g in GARBAGE:
        m.enter_token(g, at)
    assert m.lockout.lock_until > at.timestamp()


def _snapshot(m: Meter) -> tuple[Any, ...]:
    return (m.balance.credit, m.lockout.fail, m.lockout.lock_until, tuple(m.tids), m.key)


def _test_token(control: int, mfr: int = 0, subclass: int = 0) -> str:
    return encode(sts.TestToken(subclass=subclass, control=control, mfr_code=mfr), _cfg().key())


# ---- 1. lockout gives no oracle ------------------------------------------------------------
def test_locked_meter_answers_garbage_and_a_valid_credit_token_alike() -> None:
    """While locked a CRC-valid credit token and garbage get the same answer and change nothing
    (before: garbage said Error, the valid one Lockout - an oracle for the CRC)."""
    m = make()
    _locked(m, T0 + H)
    at = T0 + H + timedelta(seconds=1)
    before = _snapshot(m)
    valid = credit_token(_cfg(), "5", at=at).digits
    big = "99999999999999999999"  # not even a token (>= 2**66)
    seen = set()
    for d in (GARBAGE[0], valid, big, "00000000000000000001"):
        res = m.enter_token(d, at)
        kinds = tuple(repr(e) for e in res if not isinstance(e, LcdChanged))
        seen.add((res.code, res.accepted, m.lcd, kinds))
    assert len(seen) == 1
    assert seen.pop()[:3] == ("lockout", False, "Lockout")
    assert _snapshot(m) == before  # not decoded, not counted, nothing remembered
    later = datetime.fromtimestamp(m.lockout.lock_until, UTC)
    assert m.enter_token(valid, later).accepted  # the valid token still works after


def test_locked_keypad_entries_of_any_length_answer_lockout() -> None:
    """A short keypad entry while locked says Lockout too (not Format) and is not counted."""
    m = make()
    _locked(m, T0 + H)
    fails = m.lockout.fail
    at = T0 + H + timedelta(seconds=1)
    for key in "12345#":
        res = m.press(key, at)
    assert res.code == "lockout"
    assert m.lockout.fail == fails
    for key in "01":
        m.press(key, at)
    assert m.press("#", at).code == "ok"  # a query code is still answered
    assert m.lcd == "01 0"


def test_ir_entries_while_locked_get_one_reply() -> None:
    """IR goes through the same gate: garbage and a valid token get the same reply frame."""
    m = make()
    _locked(m, T0 + H)
    at = T0 + H + timedelta(seconds=1)
    valid = credit_token(_cfg(), "5", at=at).digits
    replies = {m.receive_ir(encode_frame(f"token {d}"), at).reply for d in (GARBAGE[1], valid)}
    assert replies == {encode_frame("err lockout")}


def test_test_token_runs_while_locked_but_never_unlocks() -> None:
    """A valid class 1 token still runs while locked (M4); it does not reset the lockout,
    since anyone can make one."""
    m = make()
    _locked(m, T0 + H)
    at = T0 + H + timedelta(seconds=1)
    lock = (m.lockout.fail, m.lockout.lock_until)
    res = m.enter_token(_test_token(1 << 4), at)
    assert res.accepted
    assert m.lcd == "KRN 1"
    assert (m.lockout.fail, m.lockout.lock_until) == lock
    broken = _test_token(1 << 4)[:-1] + str((int(_test_token(1 << 4)[-1]) + 1) % 10)
    assert m.enter_token(broken, at).code == "lockout"  # a class 1 CRC failure looks the same


# ---- 2./3. key changes and the base-date rollover -------------------------------------------
def _bd1993(at: datetime) -> tuple[Meter, MeterConfig]:
    cfg = _cfg(base_date=1993)
    return Meter.from_json({**METER, "base_date": 1993}, store=MemoryStateStore(), now=at), cfg


def test_rollover_set_that_keeps_the_key_is_refused() -> None:
    """RO=1 with an unchanged decoder key would clear the used-token memory under the same
    key: the meter refuses the set and a used token stays Used."""
    at = datetime(2021, 3, 1, 8, tzinfo=UTC)
    m, old = _bd1993(at)
    used = credit_token(old, "10", at=at).digits
    assert m.enter_token(used, at).accepted
    same_key = _cfg(base_date=2014)  # DKGA02 does not mix in the base date: same key
    assert same_key.key() == old.key()
    kcts = unchecked_kcts(old, same_key, rollover=True)
    assert m.enter_token(kcts[0], at + H).accepted  # 1st part held
    res = m.enter_token(kcts[1], at + H)
    assert res.code == "key_change"
    assert [e.status for e in res if isinstance(e, TokenRejected)] == [5]
    assert m.lcd == "Key SAME"
    assert m.key.base_date == 1993
    assert m.enter_token(used, at + 2 * H).code == "used"


def test_rollover_moves_the_meter_to_the_next_base_date() -> None:
    """1993 -> 2014 in 2021 with a new KRN: the meter ends on 2014 with an empty memory;
    a token from before is refused, one vended after (new key, base date 2014) accepted."""
    at = datetime(2021, 3, 1, 8, tzinfo=UTC)
    m, old = _bd1993(at)
    before = credit_token(old, "10", at=at).digits
    assert m.enter_token(before, at).accepted
    new = _cfg(base_date=2014, krn=2)
    for d in (t.digits for t in key_change_tokens(old, new)):
        assert m.enter_token(d, at + H).accepted
    assert (m.key.base_date, m.key.krn, m.tids) == (2014, 2, ())
    assert m.enter_token(before, at + 2 * H).code == "crc"
    after = credit_token(new, "5", at=at + 2 * H)
    assert m.enter_token(after.digits, at + 2 * H).accepted
    assert m.tids == (tid_for(at + 2 * H, new.base_date),)


def test_rollover_waits_for_the_next_base_date_to_begin() -> None:
    """A 2014 meter in 2026 cannot roll over to 2035 yet (no TID could be made under it);
    the old 'under two years remain' guess is gone: the set is refused, nothing changes."""
    m = make()
    old = _cfg()
    kcts = unchecked_kcts(old, _cfg(krn=2), rollover=True)
    m.enter_token(kcts[0], T0 + H)
    assert m.enter_token(kcts[1], T0 + H).code == "key_change"
    assert m.lcd == "Key bd"
    assert (m.key.base_date, m.key.krn) == (2014, 1)


def test_key_change_without_rollover_keeps_the_base_date_and_memory() -> None:
    """RO=0: a new key, the same base date, the used-token memory kept."""
    m = make()
    old = _cfg()
    m.enter_token(credit_token(old, "1", at=T0 + H).digits, T0 + H)
    tids = tuple(m.tids)
    for t in key_change_tokens(old, _cfg(krn=2)):
        assert m.enter_token(t.digits, T0 + 2 * H).accepted
    assert (m.key.base_date, m.tids) == (2014, tids)


# ---- 4. key types ------------------------------------------------------------------------------
def test_key_change_to_key_type_0_is_refused() -> None:
    """A meter on a transfer key cannot be moved back to the initialisation key (KT 0)."""
    m = make()
    kcts = unchecked_kcts(_cfg(), _cfg(key_type=0, krn=2), rollover=False)
    m.enter_token(kcts[0], T0 + H)
    assert m.enter_token(kcts[1], T0 + H).code == "key_change"
    assert m.lcd == "KeyType"
    assert m.key.kt == 2


@pytest.mark.parametrize(
    ("kt", "code", "status"), [(0, "key_type", 5), (1, "ddtk", 12), (3, "key_type", 5)]
)
def test_credit_only_under_a_unique_key(kt: int, code: str, status: int) -> None:
    """Credit is accepted only under key type 2; KT 0 (initialisation), 1 (default) and
    3 (common to a group) refuse it, and nothing is credited or remembered."""
    cfg = _cfg(key_type=kt)
    m = Meter.from_json({**METER, "key_type": kt}, store=MemoryStateStore(), now=T0)
    tids = tuple(m.tids)
    res = m.enter_token(credit_token(cfg, "5", at=T0 + H).digits, T0 + H)
    assert [(e.code, e.status) for e in res if isinstance(e, TokenRejected)] == [(code, status)]
    assert m.balance.credit == 0
    assert m.tids == tids


def test_initialisation_key_takes_only_a_key_change() -> None:
    """On KT 0 a management token is refused; the key change to KT 2 is taken."""
    cfg = _cfg(key_type=0)
    m = Meter.from_json({**METER, "key_type": 0}, store=MemoryStateStore(), now=T0)
    tamper = management_token(cfg, clear_credit_token(cfg, at=T0 + H).token)
    assert m.enter_token(tamper.digits, T0 + H).code == "key_type"
    for t in key_change_tokens(cfg, _cfg(krn=2)):
        assert m.enter_token(t.digits, T0 + H).accepted
    assert m.key.kt == 2


# ---- 5. registers ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "register", "cleared"),
    [
        ("volume", 0xFFFF, True),
        ("volume", 2, True),
        ("volume", 0, False),
        ("volume", 6, False),
        ("amount", 6, True),
        ("amount", 2, False),
        ("amount", 4, False),
        ("amount", 0xFFFF, True),
    ],
)
def test_clear_credit_clears_only_the_register_it_names(
    mode: str, register: int, cleared: bool
) -> None:
    """A gas meter's register is gas units (2) by volume or gas currency (6) by amount;
    a code for a register it does not have is refused (Range) and the credit stays."""
    doc = {**METER, "mode": mode, "recharge_limit": None}
    cfg = MeterConfig.from_json(doc)
    m = Meter.from_json(doc, store=MemoryStateStore(), now=T0)
    m.enter_token(credit_token(cfg, "5", at=T0 + H).digits, T0 + H)
    credit = m.balance.credit
    res = m.enter_token(
        clear_credit_token(cfg, register=register, at=T0 + 2 * H).digits, T0 + 2 * H
    )
    assert bool(res.accepted) is cleared
    assert m.balance.credit == (0 if cleared else credit)
    if not cleared:
        assert res.code == "range"


# ---- 6. test tokens ----------------------------------------------------------------------------
@pytest.mark.parametrize("case", BITS, ids=lambda c: f"bit{c['bit']}")
def test_each_control_bit_shows_what_it_asks_for(case: dict[str, Any]) -> None:
    """One control bit, one test; the LCD shows its result."""
    m = make()
    res = m.enter_token(_test_token(1 << case["bit"]), T0 + H)
    assert res.accepted
    assert m.lcd == case["lcd"]


def test_bit_0_runs_every_test_in_order() -> None:
    """Bit 0 (test all) shows every result, in bit order, and moves no credit or TID."""
    m = make()
    before = _snapshot(m)
    res = m.enter_token(_test_token(1), T0 + H)
    shown = [e.text for e in res if isinstance(e, LcdChanged)]
    assert shown == [c["lcd"] for c in BITS]
    assert _snapshot(m) == before


def test_valve_test_cycles_an_open_valve_and_never_opens_a_closed_one() -> None:
    """The load-switch test closes an open valve and opens it again; a closed valve stays
    closed (a test token is unauthenticated: it must not let gas out)."""
    m = make()
    assert m.enter_token(_test_token(1 << 1), T0 + H).accepted
    assert not m.valve_open
    m.enter_token(credit_token(_cfg(), "5", at=T0 + H).digits, T0 + H)
    m.open_key(T0 + H)
    assert m.valve_open
    res = m.enter_token(_test_token(1 << 1), T0 + 2 * H)
    moves = [e.open for e in res if isinstance(e, ValveChanged)]
    assert moves == [False, True]
    assert m.valve_open
    assert m.lcd == "VALvE good"


@pytest.mark.parametrize(
    ("own", "mfr", "subclass", "ok"),
    [
        (0, 0, 0, True),
        (7, 0, 0, True),
        (7, 7, 0, True),
        (7, 8, 0, False),
        (0, 8, 0, False),
        (1234, 1234, 1, True),
        (1234, 4321, 1, False),
        (1234, 0, 1, True),
    ],
)
def test_manufacturer_code(own: int, mfr: int, subclass: int, ok: bool) -> None:
    """A test token for another maker's meters is refused (status 14); code 0 is for all."""
    m = make(mfr_code=own)
    res = m.enter_token(_test_token(1 << 4, mfr=mfr, subclass=subclass), T0 + H)
    assert bool(res.accepted) is ok
    if not ok:
        assert [(e.code, e.status) for e in res if isinstance(e, TokenRejected)] == [("mfr", 14)]


def test_test_token_with_only_reserved_bits_is_refused() -> None:
    """Nothing the meter knows is selected: Range, nothing shown as accepted."""
    res = make().enter_token(_test_token(1 << 30), T0 + H)
    assert res.code == "range"


# ---- 7. commissioning --------------------------------------------------------------------------
def test_token_vended_in_the_commissioning_minute_is_accepted() -> None:
    """The TID memory is seeded one minute before commissioning, not with its minute."""
    m = make()
    res = m.enter_token(credit_token(_cfg(), "5", at=T0).digits, T0 + timedelta(seconds=30))
    assert res.accepted


def test_tokens_older_than_commissioning_stay_old() -> None:
    """With the memory full, a token vended before commissioning is still Old."""
    m = make(tid_memory=1)
    res = m.enter_token(credit_token(_cfg(), "5", at=T0 - H).digits, T0 + H)
    assert res.code == "old"


# ---- 11. tariff tokens -------------------------------------------------------------------------
def test_tariff_rate_is_refused_on_a_volume_meter() -> None:
    """A volume meter's credit is m3: a money rate means nothing there (Function)."""
    m = make()
    tok = management_token(_cfg(), TariffRate(tid=tid_for(T0 + H, _cfg().base_date), rate=250))
    res = m.enter_token(tok.digits, T0 + H)
    assert res.code == "type"
    assert m.config.pending is None


def test_tariff_rate_sets_a_flat_price_on_an_amount_meter() -> None:
    """On an amount meter the rate is the price in 0.01 money per m3, from its TID minute."""
    doc = {**METER, "mode": "amount"}
    cfg = MeterConfig.from_json(doc)
    m = Meter.from_json(doc, store=MemoryStateStore(), now=T0)
    tok = management_token(cfg, TariffRate(tid=tid_for(T0 + H, cfg.base_date), rate=250))
    assert m.enter_token(tok.digits, T0 + H).accepted
    assert m.config.pending is not None
    assert m.config.pending.tariff.to_json() == [{"up_to_m3": None, "price": "2.50"}]


# ---- the example scenarios of these rules ------------------------------------------------------
SCENARIO_DIR = Path(__file__).resolve().parents[2] / "examples" / "scenarios"
RULE_SCENARIOS = [
    "lockout_no_oracle",
    "key_change_same_key",
    "key_change_rollover",
    "key_types",
    "clear_credit_register",
    "test_tokens",
    "commissioning_minute",
    "tariff_token_volume",
]


@pytest.mark.parametrize("name", RULE_SCENARIOS)
def test_each_rule_has_a_reviewed_scenario(name: str) -> None:
    """Each rule has an example scenario whose expected file was checked by hand (it says so);
    test_scenarios.py runs them against their expected files."""
    doc = json.loads((SCENARIO_DIR / f"{name}.json").read_text("utf-8"))
    assert doc["reviewed"].startswith("Checked by hand")
    assert (SCENARIO_DIR / f"{name}.expected.json").is_file()
