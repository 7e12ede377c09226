"""The real Meter on encrypted NVM, power cut at every write of a recharge, a consumption update,
a month rollover and a key change: on restart each record is the old or the new one, no credit is
lost or created, and the TID memory agrees with the credit."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from stsgas.meter.meter import Meter
from stsgas.meter.nvm import CrashingNvm, MemoryNvm, Nvm, NvmTamperError, PowerCut
from stsgas.meter.nvm_store import CipherName, EncryptedRecordStore
from stsgas.sts import MeterConfig, credit_token, key_change_tokens

from .test_nvm_support import seeded_nonce

ROOT = Path(__file__).resolve().parents[2]
#: a volume-mode meter from the shipped examples (STA, DKGA02, KRN 1, base date 2014)
DOC: dict[str, Any] = {
    **json.loads(
        (ROOT / "examples" / "scenarios" / "key_change_rollover.json").read_text(encoding="utf-8")
    )["meter"],
    "base_date": 2014,
}
NEW_KEY: dict[str, Any] = {"krn": 2, "vending_key": "cdcdcdcdcdcdcdcd"}
KEY = bytes(range(32, 48))
#: 2035: base date 2014 still dates tokens, and a rollover key change can move on to 2035
T0 = datetime(2035, 1, 1, tzinfo=UTC)
H = timedelta(hours=1)
PAGE, PAGES = 128, 256  # small pages: a commit of the meter's records spans many writes

Action = Callable[[Meter], object]


class RecordingStore:
    """A StateStore that remembers the set after each commit (the allowed outcomes of a cut)."""

    def __init__(self, inner: EncryptedRecordStore) -> None:
        self.inner = inner
        self.sets: list[dict[str, bytes]] = []

    def load(self) -> dict[str, bytes] | None:
        """Load through."""
        return self.inner.load()

    def commit(self, records: Mapping[str, bytes]) -> None:
        """Commit through, then note the whole set."""
        self.inner.commit(records)
        loaded = self.inner.load()
        assert loaded is not None
        self.sets.append(loaded)


def _store(nvm: Nvm, cipher: CipherName, seed: int = 0) -> EncryptedRecordStore:
    return EncryptedRecordStore(nvm, KEY, cipher, nonce=seeded_nonce(seed))


def _vend() -> MeterConfig:
    return MeterConfig.from_json(DOC)


def _restart(nvm: Nvm, cipher: CipherName, now: datetime) -> Meter:
    """A fresh meter booting on the surviving image (what a power-up does)."""
    return Meter.from_json(DOC, store=_store(nvm, cipher, seed=99), now=now)


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What happens before the cut (prepare) and the operation cut at each write (act)."""

    prepare: Action
    act: Action
    at: datetime  # a time after both, for the restart


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """The committed sets of a clean run: before the operation, and after each of its commits."""

    before: dict[str, bytes]
    after: list[dict[str, bytes]]
    prepare_writes: int
    act_writes: int


def _clean_run(plan: Plan, cipher: CipherName) -> Run:
    nvm = MemoryNvm(PAGE, PAGES)
    rec = RecordingStore(_store(nvm, cipher))
    meter = Meter.from_json(DOC, store=rec, now=T0)
    plan.prepare(meter)
    prepare_writes, before = nvm.writes, rec.load()
    assert before is not None
    rec.sets.clear()
    plan.act(meter)
    assert rec.sets, "the operation must commit something"
    return Run(
        before=before,
        after=rec.sets,
        prepare_writes=prepare_writes,
        act_writes=nvm.writes - prepare_writes,
    )


def _cut_runs(plan: Plan, cipher: CipherName) -> tuple[Run, list[tuple[int, bool, MemoryNvm]]]:
    """Replay prepare + act once per write point of act and torn mode; return surviving images."""
    run = _clean_run(plan, cipher)
    survivors = []
    for k in range(1, run.act_writes + 1):
        for torn in (False, True):
            inner = MemoryNvm(PAGE, PAGES)
            crash = CrashingNvm(
                inner, after_writes=run.prepare_writes + k, torn=torn, rng=random.Random(k)
            )
            meter = Meter.from_json(DOC, store=_store(crash, cipher), now=T0)
            plan.prepare(meter)
            assert crash.writes == run.prepare_writes  # the replay is exact
            with pytest.raises(PowerCut):
                plan.act(meter)
            loaded = _store(inner, cipher).load()
            assert loaded == run.before or loaded in run.after, f"write {k}, torn={torn}"
            survivors.append((k, torn, inner))
    return run, survivors


def _conserved(m: Meter) -> None:
    """Volume is conserved: what was recharged is what remains plus what was billed or cleared."""
    r = m.registers
    assert r.recharged == r.credit + r.billed + r.cleared


def _recharge(m: Meter, amount: str, at: datetime) -> None:
    assert m.enter_token(credit_token(_vend(), Decimal(amount), at=at).digits, at).accepted


def _open(m: Meter, at: datetime) -> None:
    m.open_key(at)
    assert m.valve_open


CIPHERS: tuple[CipherName, ...] = ("aes128", "3des")


@pytest.mark.parametrize("cipher", CIPHERS)
def test_cut_during_a_recharge(cipher: CipherName) -> None:
    """A cut token is either fully credited and remembered, or not credited and still usable."""
    token = credit_token(_vend(), Decimal("20"), at=T0 + 3 * H)

    def prepare(m: Meter) -> None:
        _recharge(m, "10", T0 + H)
        _open(m, T0 + H)
        m.flow(2_345, T0 + 2 * H)
        m.flush()

    plan = Plan(
        prepare=prepare, act=lambda m: m.enter_token(token.digits, T0 + 3 * H), at=T0 + 4 * H
    )
    run, survivors = _cut_runs(plan, cipher)
    old = 10_000 - 2_345
    seen = set()
    for k, torn, nvm in survivors:
        m = _restart(nvm, cipher, plan.at)
        _conserved(m)
        credit, tids = m.registers.credit, m.registers.tids
        assert credit in (old, old + 20_000), f"write {k}, torn={torn}: credit {credit}"
        applied = credit == old + 20_000
        seen.add(applied)
        assert (token.tid in tids) == applied, "the TID memory must agree with the credit"
        again = m.enter_token(token.digits, plan.at)
        if applied:
            assert not again.accepted
            assert m.registers.credit == old + 20_000
        else:
            assert again.accepted, "a token whose credit was lost must still be accepted"
            assert m.registers.credit == old + 20_000
            assert not m.enter_token(token.digits, plan.at + H).accepted
        _conserved(m)
    assert seen == {False, True}
    assert run.act_writes >= 2


@pytest.mark.parametrize("cipher", CIPHERS)
def test_cut_during_a_consumption_update(cipher: CipherName) -> None:
    """A cut while consumption is persisted leaves the old or the new registers, conserved."""

    def prepare(m: Meter) -> None:
        _recharge(m, "10", T0 + H)
        _open(m, T0 + H)
        m.flush()

    plan = Plan(prepare=prepare, act=lambda m: m.flow(150, T0 + 2 * H), at=T0 + 3 * H)
    _run, survivors = _cut_runs(plan, cipher)
    seen = set()
    for k, torn, nvm in survivors:
        m = _restart(nvm, cipher, plan.at)
        r = m.registers
        assert (r.credit, r.billed, r.total_l, r.month_l) in (
            (10_000, 0, 0, 0),
            (9_850, 150, 150, 150),
        ), f"write {k}, torn={torn}"
        seen.add(r.credit)
        _conserved(m)
    assert seen == {10_000, 9_850}


@pytest.mark.parametrize("cipher", CIPHERS)
def test_cut_during_a_month_rollover(cipher: CipherName) -> None:
    """A cut at the month boundary leaves January open or closed into its record, never both."""

    def prepare(m: Meter) -> None:
        _recharge(m, "10", T0 + H)
        _open(m, T0 + H)
        m.flow(1_234, T0 + 5 * H)
        m.flush()

    feb = datetime(2035, 2, 1, 0, 1, tzinfo=UTC)
    plan = Plan(prepare=prepare, act=lambda m: m.handle_timer(feb), at=feb + H)
    _run, survivors = _cut_runs(plan, cipher)
    seen = set()
    for k, torn, nvm in survivors:
        m = _restart(nvm, cipher, plan.at)
        months, r = m.monthly_records(), m.registers
        state = (tuple(months), r.month_l)
        assert state in (((), 1_234), ((("2035-01", 1_234),), 0)), f"write {k}, torn={torn}"
        assert r.total_l == 1_234
        assert r.credit == 10_000 - 1_234
        _conserved(m)
        seen.add(state)
    assert len(seen) == 2


@pytest.mark.parametrize("cipher", CIPHERS)
@pytest.mark.parametrize("rollover", [False, True])
def test_cut_during_a_key_change(cipher: CipherName, rollover: bool) -> None:
    """A cut key change leaves the old key (set can be re-entered) or the new one, credit kept."""
    old_cfg = _vend()
    new_cfg = MeterConfig.from_json({**DOC, **NEW_KEY, "base_date": 2035 if rollover else 2014})
    kcts = [t.digits for t in key_change_tokens(old_cfg, new_cfg, rollover=rollover)]
    old_tid = credit_token(old_cfg, Decimal("10"), at=T0 + H).tid

    def prepare(m: Meter) -> None:
        _recharge(m, "10", T0 + H)

    def act(m: Meter) -> None:
        for digits in kcts:
            assert m.enter_token(digits, T0 + 2 * H).accepted

    plan = Plan(prepare=prepare, act=act, at=T0 + 3 * H)
    _run, survivors = _cut_runs(plan, cipher)
    seen = set()
    for k, torn, nvm in survivors:
        m = _restart(nvm, cipher, plan.at)
        assert m.registers.credit == 10_000, f"write {k}, torn={torn}"
        _conserved(m)
        under_new = credit_token(new_cfg, Decimal("1"), at=plan.at)
        changed = m.key.krn == 2
        seen.add(changed)
        if changed:
            assert (old_tid in m.registers.tids) is not rollover
        else:
            assert old_tid in m.registers.tids
            assert not m.enter_token(under_new.digits, plan.at).accepted
            for digits in kcts:  # the set is entered again and now takes
                assert m.enter_token(digits, plan.at).accepted
            assert m.key.krn == 2
        assert m.enter_token(under_new.digits, plan.at + H).accepted
        assert m.registers.credit == 11_000
        _conserved(m)
    assert seen == {False, True}


@pytest.mark.parametrize("cipher", CIPHERS)
def test_cut_during_commissioning_restarts_blank_or_commissioned(cipher: CipherName) -> None:
    """A cut in the first commit leaves a blank device (commissioned again) or the full set."""
    clean = MemoryNvm(PAGE, PAGES)
    Meter.from_json(DOC, store=_store(clean, cipher), now=T0)
    first = _store(clean, cipher).load()
    for k in range(1, clean.writes + 1):
        for torn in (False, True):
            inner = MemoryNvm(PAGE, PAGES)
            crash = CrashingNvm(inner, after_writes=k, torn=torn, rng=random.Random(k))
            with pytest.raises(PowerCut):
                Meter.from_json(DOC, store=_store(crash, cipher), now=T0)
            assert _store(inner, cipher).load() in (None, first), f"write {k}, torn={torn}"
            m = _restart(inner, cipher, T0 + H)
            assert m.registers.credit == 0
            assert _store(inner, cipher).load() is not None


@pytest.mark.parametrize("cipher", CIPHERS)
def test_a_tampered_meter_image_is_reported_at_boot(cipher: CipherName) -> None:
    """Changing a byte of the meter's newest record set stops the boot with NvmTamperError."""
    nvm = MemoryNvm(PAGE, PAGES)
    m = Meter.from_json(DOC, store=_store(nvm, cipher), now=T0)
    _recharge(m, "10", T0 + H)
    store = _store(nvm, cipher)
    store.load()
    newest_slot_page = 2 + (store.sequence % 2) * store.slot_pages
    image = bytearray(nvm.image())
    image[newest_slot_page * PAGE + 60] ^= 0x10  # inside the sealed body
    with pytest.raises(NvmTamperError):
        _restart(MemoryNvm(PAGE, PAGES, image=bytes(image)), cipher, T0 + 2 * H)
