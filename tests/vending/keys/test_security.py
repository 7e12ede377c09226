"""Key custody: wrapped at rest, bound to its supply group, usable only through the module."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stsgas.sts import DKGA, EA, BaseDate, MeterConfig, credit_token, decode
from stsgas.vending.keys.security import (
    KeyCustodyError,
    KeyRef,
    MeterKeyData,
    SoftwareSecurityModule,
)
from stsgas.vending.keys.warnings import key_warnings
from tests.vending.conftest import TEST_KEYS

VK = bytes.fromhex(TEST_KEYS["vending_key_dkga02"])
REF = KeyRef(sgc="123456", krn=1)
DATA = MeterKeyData(
    pan="600727000000000009",
    key_type=2,
    sgc="123456",
    ti="01",
    krn=1,
    ken=255,
    base_date=2014,
    ea=7,
    dkga=2,
)


def _module() -> SoftwareSecurityModule:
    return SoftwareSecurityModule(bytes.fromhex(TEST_KEYS["master_key"]))


def test_blob_hides_the_key_and_derives_the_same_decoder_key() -> None:
    """The wrapped blob does not contain the key; the module's decoder key equals sts's own."""
    sm = _module()
    blob = sm.wrap(REF, VK)
    assert VK not in blob
    cfg = sm.meter_config(DATA, blob)
    assert cfg.vending_key is None
    direct = MeterConfig(
        pan=DATA.pan,
        key_type=2,
        sgc="123456",
        ti="01",
        krn=1,
        base_date=BaseDate.BD2014,
        ea=EA.STA,
        dkga=DKGA.DKGA02,
        vending_key=VK,
    )
    assert cfg.key() == direct.key()
    issued = credit_token(cfg, "12.5", at=datetime(2026, 1, 1, tzinfo=UTC))
    assert decode(issued.digits, direct.key()) == issued.token


def test_blob_is_bound_to_its_supply_group() -> None:
    """A blob moved to another SGC or KRN does not open."""
    sm = _module()
    blob = sm.wrap(REF, VK)
    with pytest.raises(KeyCustodyError):
        sm.check(KeyRef(sgc="123456", krn=2), blob)
    with pytest.raises(KeyCustodyError):
        sm.check(KeyRef(sgc="654321", krn=1), blob)


def test_other_master_key_cannot_open_blob() -> None:
    """A blob made under one master key fails under another."""
    blob = _module().wrap(REF, VK)
    with pytest.raises(KeyCustodyError):
        SoftwareSecurityModule(bytes(32)).check(REF, blob)


def test_tampered_blob_is_refused() -> None:
    """Flipping one bit of the blob is detected by AES-GCM."""
    sm = _module()
    blob = bytearray(sm.wrap(REF, VK))
    blob[-1] ^= 1
    with pytest.raises(KeyCustodyError):
        sm.check(REF, bytes(blob))


def test_module_never_prints_keys() -> None:
    """repr of the module and of a derived config shows no key material."""
    sm = _module()
    cfg = sm.meter_config(DATA, sm.wrap(REF, VK))
    assert TEST_KEYS["master_key"] not in repr(sm)
    assert cfg.key().hex() not in repr(cfg)


def test_master_key_must_be_32_bytes() -> None:
    """A short master key is refused."""
    with pytest.raises(KeyCustodyError):
        SoftwareSecurityModule(b"short")


def test_base_date_rollover_is_warned_before_2045() -> None:
    """Base date 2014 warns within the window before 2045-11-24 20:15 and is expired after."""
    window = timedelta(days=90)
    soon = key_warnings(
        now=datetime(2045, 10, 1, tzinfo=UTC),
        window=window,
        base_date=2014,
        ken=255,
        key_expires_at=None,
    )
    assert [w.code for w in soon] == ["base_date_expiring"]
    assert soon[0].at == datetime(2045, 11, 24, 20, 15, tzinfo=UTC)
    late = key_warnings(
        now=datetime(2046, 1, 1, tzinfo=UTC),
        window=window,
        base_date=2014,
        ken=255,
        key_expires_at=None,
    )
    assert [w.code for w in late] == ["base_date_expired"]
    far = key_warnings(
        now=datetime(2026, 1, 1, tzinfo=UTC),
        window=window,
        base_date=2014,
        ken=255,
        key_expires_at=None,
    )
    assert far == []


def test_vending_key_and_ken_expiry_are_warned() -> None:
    """An issue-until time inside the window, and a passed KEN, both warn."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    found = key_warnings(
        now=now,
        window=timedelta(days=30),
        base_date=2014,
        ken=10,
        key_expires_at=now + timedelta(days=5),
    )
    codes = {w.code for w in found}
    assert codes == {"vending_key_expiring", "ken_expired"}


def _holds(obj: object, secret: bytes, seen: set[int] | None = None) -> bool:
    """True when ``secret`` is reachable from ``obj`` through plain containers/attributes."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return False
    seen.add(id(obj))
    if isinstance(obj, bytes | bytearray):
        return secret in obj
    if isinstance(obj, dict):
        return any(_holds(k, secret, seen) or _holds(v, secret, seen) for k, v in obj.items())
    if isinstance(obj, list | tuple | set | frozenset):
        return any(_holds(v, secret, seen) for v in obj)
    attrs = getattr(obj, "__dict__", None)
    return attrs is not None and _holds(attrs, secret, seen)


def test_no_cache_keeps_a_vending_key_after_use() -> None:
    """After deriving a meter's key, neither the module nor sts's derivation cache holds
    the vending key: only a config with the decoder key survives."""
    import gc

    vk = bytes(range(40, 48))  # a key no other test uses
    sm = _module()
    blob = sm.wrap(REF, vk)
    cfg = sm.meter_config(DATA, blob)
    cfg.key()  # the decoder-key config may be cached; that holds no vending key
    sm.ir_mac(DATA, blob, "seq")
    assert not _holds(sm, vk)
    gc.collect()
    alive = [o for o in gc.get_objects() if isinstance(o, MeterConfig) and o.vending_key == vk]
    assert alive == []
