"""Token acceptance, with the IEC status beside each code (docs/meter.md "Token rules").

lockout (before anything is decoded) -> format -> CRC (current key) -> class 1
test token -> key change set -> subclass and key type allowed -> register /
meter mode -> KEN -> Old -> Used -> limit -> apply (one atomic commit: credit,
TIDs, event). Decoding is only ever done by ``stsgas.sts``.

While token entry is locked nothing about an entry is evaluated: no decode, no
CRC. Every entry answers ``lockout``, except a class 1 test token (its class
bits are in clear and its CRC needs no key, so letting it through tells an
attacker nothing about the decoder key).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from stsgas.meter import _answers, _valve
from stsgas.meter import _state as S  # noqa: N812 -- the tables read as S.X
from stsgas.meter._core import MeterCore
from stsgas.meter._testtoken import run_test_token
from stsgas.meter.events import AcceptKind, Events, LogKind, Rejection, TokenAccepted
from stsgas.meter.state import PendingTariff
from stsgas.meter.tariff import MONEY_SCALE, RATE_COUNTS_PER_MONEY, Tariff
from stsgas.sts import (
    EA,
    LITRES_PER_UNIT,
    BaseDate,
    ClearCredit,
    ClearTamper,
    CreditToken,
    CurrencyCreditToken,
    DecoderKey,
    KeyChange1,
    KeyChange2,
    KeyChange3,
    KeyChange3Sgc,
    KeyChange4,
    KeyChangeRefused,
    StsError,
    TariffRate,
    TestToken,
    TidVerdict,
    Token,
    TokenFormatError,
    check_key_change,
    check_tid,
    clears_register,
    credit_register,
    datetime_for_tid,
    decode,
    remember_tid,
    token_class_of,
)  # fmt: skip

__all__ = ["bad_entry", "decoder_key", "enter_token", "locked"]

_KCT = (KeyChange1, KeyChange2, KeyChange3, KeyChange3Sgc, KeyChange4)
#: decode errors that keep their own code; any other is a format error
_DECODE_CODES = {Rejection.CRC, Rejection.TYPE, Rejection.RANGE}


def decoder_key(m: MeterCore) -> DecoderKey:
    """The meter's current decoder key."""
    return DecoderKey(value=m.key.value, ea=EA(m.key.ea))


def locked(m: MeterCore, now: datetime) -> bool:
    """Token entry is locked (persisted; keypad and IR alike)."""
    return now.timestamp() < m.lockout.lock_until


def bad_entry(m: MeterCore, code: Rejection, now: datetime, out: Events) -> None:
    """A bad entry: counted towards the lockout (``_state.LOCKOUT_S``), logged, answered."""
    if locked(m, now):  # a bad keypad entry while locked: the same answer, not counted
        _answers.reject(m, Rejection.LOCKOUT, now, out)
        return
    lk = m.lockout
    fail = lk.fail + 1
    secs = S.lockout_seconds(fail)
    until = int((now + timedelta(seconds=secs)).timestamp()) if secs else lk.lock_until
    m.put(replace(lk, fail=fail, lock_until=until))
    m.log(LogKind.TOKEN_REJECTED, now, out)
    m.save()
    _answers.reject(m, code, now, out)


def _while_locked(m: MeterCore, digits: str, now: datetime, out: Events) -> None:
    """The one answer while locked, unless the entry is a valid class 1 test token."""
    try:
        token = decode(digits, None) if token_class_of(digits) == 1 else None
    except StsError:
        token = None
    if isinstance(token, TestToken):
        run_test_token(m, token, now, out)
    else:
        _answers.reject(m, Rejection.LOCKOUT, now, out)


def own_credit_subclass(m: MeterCore) -> int:
    """The credit this meter takes: gas units (2) by volume, gas currency (6) by amount."""
    return 2 if m.settings.mode == "volume" else 6


def _not_allowed(m: MeterCore, token: Token) -> Rejection | None:
    """Why this meter will not take a decoded class 0/2 token now, or None (M3, registers)."""
    own = own_credit_subclass(m)
    kt = m.key.kt
    if isinstance(token, CreditToken | CurrencyCreditToken):
        if token.subclass != own:
            return Rejection.TYPE
        # credit only under a unique key (KT 2): KT 1 = default key (status 12),
        # KT 0 = initialisation key, KT 3 = a key common to a group of meters
        return None if kt == 2 else Rejection.DDTK if kt == 1 else Rejection.KEY_TYPE
    if not isinstance(token, ClearCredit | ClearTamper | TariffRate):
        return Rejection.TYPE
    if kt == 0:
        return Rejection.KEY_TYPE  # the initialisation key carries key changes only
    if isinstance(token, ClearCredit) and not clears_register(token.register, credit_register(own)):
        return Rejection.RANGE  # a register this meter does not have
    if isinstance(token, TariffRate) and m.settings.mode != "amount":
        return Rejection.TYPE  # a volume meter counts m3, not money: a rate means nothing
    return None


def enter_token(m: MeterCore, digits: str, now: datetime, out: Events) -> None:
    """Validate and apply one token; rejections are events, never exceptions."""
    if not m.supply.power:
        return
    if locked(m, now):
        _while_locked(m, digits, now, out)
        return
    try:
        token = decode(digits, decoder_key(m))
    except TokenFormatError:
        bad_entry(m, Rejection.FORMAT, now, out)
        return
    except StsError as exc:
        code = Rejection(exc.code) if exc.code in _DECODE_CODES else Rejection.FORMAT
        bad_entry(m, code, now, out)
        return
    if isinstance(token, TestToken):
        run_test_token(m, token, now, out)
        return
    if isinstance(token, _KCT):
        _key_change(m, token, now, out)
        return
    why = _not_allowed(m, token)
    if why is not None or not isinstance(
        token, CreditToken | CurrencyCreditToken | ClearCredit | ClearTamper | TariffRate
    ):
        _answers.refuse(m, why or Rejection.TYPE, now, out)
        return
    if m.base_date_ended(now):  # past its base date's last minute no TID can be dated
        _answers.refuse(m, Rejection.EXPIRED, now, out)
        return
    tid = int(token.tid)
    verdict = check_tid(tid, m.tids, m.settings.tid_memory, m.key.ken)
    if verdict is not TidVerdict.OK:
        _answers.refuse(m, S.TID_REJECTION[verdict], now, out)
        return
    b = m.balance
    amount: int | None
    if isinstance(token, CreditToken | CurrencyCreditToken):
        # 0.1 m3 = 100 L; currency is already in 1e-5 units
        amount = token.units * LITRES_PER_UNIT if isinstance(token, CreditToken) else token.amount
        limit = m.settings.recharge_limit
        if limit is not None and b.credit + amount > limit:
            _answers.reject(m, Rejection.LIMIT, now, out)  # not consumed: the TID is not remembered
            return
        m.put(
            replace(
                b, credit=b.credit + amount, recharged=b.recharged + amount, last_amt=amount,
                last_at=int(m.rtc(now).timestamp()),
            )
        )  # fmt: skip
        kind = AcceptKind(type(token).__name__)
        text = f"Accept +{m.fmt(amount)}"
    elif isinstance(token, ClearCredit):
        amount = b.credit
        m.put(replace(b, cleared=b.cleared + amount, credit=0))
        kind, text = AcceptKind.CLEAR_CREDIT, "Accept CLr"
    elif isinstance(token, ClearTamper):
        amount = None
        m.put(replace(m.supply, tamper=False))
        m.log(LogKind.TAMPER_CLEARED, now, out)
        kind, text = AcceptKind.CLEAR_TAMPER, "Accept tamper"
    else:
        assert isinstance(token, TariffRate)
        amount = None
        at = datetime_for_tid(tid, BaseDate(m.key.base_date))
        tariff = Tariff.flat(token.rate * MONEY_SCALE // RATE_COUNTS_PER_MONEY)
        m.put(replace(m.config, pending=PendingTariff(tariff, int(at.timestamp()))))
        kind, text = (
            AcceptKind.TARIFF_RATE,
            f"Accept tariff {Decimal(token.rate) / RATE_COUNTS_PER_MONEY}",
        )
    m.remember_tids(remember_tid(m.tids, tid, m.settings.tid_memory))
    m.put(replace(m.lockout, fail=0, lock_until=0))
    m.log(LogKind.TOKEN_ACCEPTED, now, out)
    m.save()  # credit + TID memory + event in one commit, then show Accept
    _answers.accepted(m, kind, tid, amount, now, out, text)
    _valve.check_credit(m, now, out)


def _key_change(m: MeterCore, token: Token, now: datetime, out: Events) -> None:
    """Collect a KCT set in any order; apply it when complete and allowed (M2, M3)."""
    if m.kct_at is None or now - m.kct_at >= S.KCT_TIMEOUT:
        m.kct.clear()
        m.kct_at = now
    m.kct[token.subclass] = token
    wide = m.key.ea == int(EA.MISTY1)
    k1 = m.kct.get(3)
    need = (
        {3, 4, 8, 9}
        if wide
        else {3, 4} | ({8} if isinstance(k1, KeyChange1) and k1.three_token else set())
    )
    if not need <= m.kct.keys():
        out.append(TokenAccepted(at=now, kind=AcceptKind.KEY_CHANGE_PART, tid=None, amount=None))
        m.show(f"{len(m.kct)}stKCT" if len(m.kct) == 1 else f"{len(m.kct)}ndKCT", out)
        return
    p1, p2 = m.kct[3], m.kct[4]
    assert isinstance(p1, KeyChange1)
    assert isinstance(p2, KeyChange2)
    sgc = m.key.sgc
    if wide:
        p3, p4 = m.kct[8], m.kct[9]
        assert isinstance(p3, KeyChange3)
        assert isinstance(p4, KeyChange4)
        value = b"".join(
            x.to_bytes(4, "big") for x in (p1.nk_high, p3.nk_part, p4.nk_part, p2.nk_low)
        )
        sgc = f"{(p4.sgc_high << 12) | p3.sgc_low:06d}"
    else:
        value = p1.nk_high.to_bytes(4, "big") + p2.nk_low.to_bytes(4, "big")
        if 8 in m.kct:
            p3s = m.kct[8]
            assert isinstance(p3s, KeyChange3Sgc)
            sgc = f"{p3s.sgc:06d}"
    m.kct.clear()
    m.kct_at = None
    try:  # the one rule both ends apply (stsgas.sts.keychange)
        base_date = check_key_change(
            old_key=m.key.value, new_key=value, old_kt=m.key.kt, new_kt=p1.key_type,
            rollover=p1.rollover, base_date=BaseDate(m.key.base_date), now=m.rtc(now),
        )  # fmt: skip
    except KeyChangeRefused as exc:
        m.log(LogKind.KEY_CHANGE_REFUSED, now, out)
        m.save()
        _answers.reject(m, Rejection.KEY_CHANGE, now, out, S.KEY_CHANGE_TEXT[exc.reason])
        return
    m.put(
        replace(
            m.key, value=value, krn=p1.krn, kt=p1.key_type, ken=(p1.ken_high << 4) | p2.ken_low,
            ti=f"{p2.ti:02d}", sgc=sgc, base_date=int(base_date),
        )
    )  # fmt: skip
    # rollover empties the TID memory: safe, as no token made before can decode now
    m.remember_tids(() if p1.rollover else m.tids)  # key and TIDs go out in one commit
    m.log(LogKind.KEY_CHANGED, now, out)
    m.save()
    _answers.accepted(m, AcceptKind.KEY_CHANGE, None, None, now, out, "Accept key")
