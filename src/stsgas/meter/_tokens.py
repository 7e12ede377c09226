"""Token acceptance in RELIABILITY.md M1 order, with the IEC status beside each code.

format -> class 1 -> CRC (current key) -> lockout -> subclass supported -> KEN
-> Old -> Used -> limit -> apply (one atomic commit: credit, TIDs, event).
Decoding is only ever done by ``stsgas.sts``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from stsgas.meter import _state as S  # noqa: N812 -- the tables read as S.X
from stsgas.meter.events import Events, TokenAccepted
from stsgas.meter.tariff import Tariff
from stsgas.sts import (
    EA,
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
    StsError,
    TariffRate,
    TestToken,
    TidVerdict,
    Token,
    TokenFormatError,
    check_tid,
    datetime_for_tid,
    decode,
    remember_tid,
)  # fmt: skip

if TYPE_CHECKING:
    from stsgas.meter.meter import Meter

__all__ = ["decoder_key", "enter_token"]

_KCT = (KeyChange1, KeyChange2, KeyChange3, KeyChange3Sgc, KeyChange4)


def decoder_key(m: Meter) -> DecoderKey:
    """The meter's current decoder key."""
    return DecoderKey(value=bytes.fromhex(m.key["key"]), ea=EA(m.key["ea"]))


def _bad_entry(m: Meter, code: str, now: datetime, out: Events) -> None:
    r = m.r
    r["fail"] += 1
    secs = S.lockout_seconds(r["fail"])
    if secs:
        r["lock_until"] = int((now + timedelta(seconds=secs)).timestamp())
    m.log("token_rejected", now, out)
    m._dirty.add("reg")
    m._save()
    m._reject(code, now, out)


def _refuse(m: Meter, code: str, now: datetime, out: Events) -> None:
    """A well-formed token this meter will not apply: logged and shown, no lockout count."""
    m.log("token_rejected", now, out)
    m._save()
    m._reject(code, now, out)


def enter_token(m: Meter, digits: str, now: datetime, out: Events) -> None:
    """Validate and apply one token (M1); rejections are events, never exceptions."""
    if not m.r["power"]:
        return
    try:
        token = decode(digits, decoder_key(m))
    except TokenFormatError:
        _bad_entry(m, "format", now, out)
        return
    except StsError as exc:
        _bad_entry(m, exc.code if exc.code in ("crc", "type", "range") else "format", now, out)
        return
    if isinstance(token, TestToken):
        m._accepted("test", None, None, now, out, "Test 8888 8888")
        return
    if now.timestamp() < m.r["lock_until"]:
        m._reject("lockout", now, out)
        return
    if isinstance(token, _KCT):
        _key_change(m, token, now, out)
        return
    ok = isinstance(token, ClearCredit | ClearTamper | TariffRate)
    if isinstance(token, CreditToken):
        ok = m.settings.mode == "volume" and token.subclass == 2
    elif isinstance(token, CurrencyCreditToken):
        ok = m.settings.mode == "amount" and token.subclass == 6
    if not ok or not isinstance(
        token, CreditToken | CurrencyCreditToken | ClearCredit | ClearTamper | TariffRate
    ):
        _refuse(m, "type", now, out)
        return
    if m.key["kt"] == 1 and isinstance(token, CreditToken | CurrencyCreditToken):
        # A meter still on its default key (DDTK, key type 1) takes no credit (M3, status 12).
        _refuse(m, "ddtk", now, out)
        return
    if m.base_date_ended(now):  # past its base date's last minute no TID can be dated
        _refuse(m, "expired", now, out)
        return
    tid = int(token.tid)
    verdict = check_tid(tid, m.tids, m.settings.tid_memory, m.key["ken"])
    if verdict is not TidVerdict.OK:
        codes = {TidVerdict.OLD: "old", TidVerdict.USED: "used", TidVerdict.EXPIRED: "expired"}
        _refuse(m, codes[verdict], now, out)
        return
    r = m.r
    amount: int | None
    if isinstance(token, CreditToken | CurrencyCreditToken):
        # 0.1 m3 = 100 L; currency is already in 1e-5 units
        amount = token.units * 100 if isinstance(token, CreditToken) else token.amount
        limit = m.settings.recharge_limit
        if limit is not None and r["credit"] + amount > limit:
            m._reject("limit", now, out)  # not consumed: the TID is not remembered
            return
        r["credit"] += amount
        r["recharged"] += amount
        r["last_amt"] = amount
        r["last_at"] = int(m.rtc(now).timestamp())
        text = f"Accept +{m.fmt(amount)}"
    elif isinstance(token, ClearCredit):
        amount = r["credit"]
        r["cleared"] += amount
        r["credit"] = 0
        text = "Accept CLr"
    elif isinstance(token, ClearTamper):
        amount = None
        r["tamper"] = False
        m.log("tamper_cleared", now, out)
        text = "Accept tamper"
    else:
        assert isinstance(token, TariffRate)
        amount = None
        at = datetime_for_tid(tid, BaseDate(m.key["bd"]))
        tariff = Tariff.flat(token.rate * 1000)  # rate in 0.01 money per m3
        m.cfg["pending"] = [tariff.to_json(), int(at.timestamp())]
        m._dirty.add("cfg")
        text = f"Accept tariff {Decimal(token.rate) / 100}"
    m.tids[:] = remember_tid(m.tids, tid, m.settings.tid_memory)
    r["fail"] = 0
    r["lock_until"] = 0
    m.log("token_accepted", now, out)
    m._dirty.update(("reg", "tid"))
    m._save()  # credit + TID memory + event in one commit, then show Accept
    m._accepted(type(token).__name__, tid, amount, now, out, text)
    m.check_credit(now, out)


def _key_change(m: Meter, token: Token, now: datetime, out: Events) -> None:
    """Collect a KCT set in any order; apply it when complete (M2, M3)."""
    if m.kct_at is None or now - m.kct_at >= S.KCT_TIMEOUT:
        m.kct.clear()
        m.kct_at = now
    m.kct[token.subclass] = token
    wide = m.key["ea"] == int(EA.MISTY1)
    k1 = m.kct.get(3)
    need = (
        {3, 4, 8, 9}
        if wide
        else {3, 4} | ({8} if isinstance(k1, KeyChange1) and k1.three_token else set())
    )
    if not need <= m.kct.keys():
        out.append(TokenAccepted(at=now, kind="key_change_part", tid=None, amount=None))
        m.show(f"{len(m.kct)}stKCT" if len(m.kct) == 1 else f"{len(m.kct)}ndKCT", out)
        return
    p1, p2 = m.kct[3], m.kct[4]
    assert isinstance(p1, KeyChange1)
    assert isinstance(p2, KeyChange2)
    if wide:
        p3, p4 = m.kct[8], m.kct[9]
        assert isinstance(p3, KeyChange3)
        assert isinstance(p4, KeyChange4)
        value = b"".join(
            x.to_bytes(4, "big") for x in (p1.nk_high, p3.nk_part, p4.nk_part, p2.nk_low)
        )
        m.key["sgc"] = f"{(p4.sgc_high << 12) | p3.sgc_low:06d}"
    else:
        value = p1.nk_high.to_bytes(4, "big") + p2.nk_low.to_bytes(4, "big")
        if 8 in m.kct:
            p3s = m.kct[8]
            assert isinstance(p3s, KeyChange3Sgc)
            m.key["sgc"] = f"{p3s.sgc:06d}"
    m.key.update(
        key=value.hex(),
        krn=p1.krn,
        kt=p1.key_type,
        ken=(p1.ken_high << 4) | p2.ken_low,
        ti=f"{p2.ti:02d}",
    )
    if p1.rollover:
        m.tids.clear()
        # the TID rollover programme: move to the next base date once the current one
        # has under two years of TIDs left (else the RO bit only clears the memory)
        current = BaseDate(m.key["bd"])
        later = [b for b in BaseDate if b > current]
        if later and current.last_minute - now < timedelta(days=730):
            m.key["bd"] = int(later[0])
    m.kct.clear()
    m.kct_at = None
    m.log("key_changed", now, out)
    m._dirty.update(("key", "tid"))
    m._save()
    m._accepted("key_change", None, None, now, out, "Accept key")
