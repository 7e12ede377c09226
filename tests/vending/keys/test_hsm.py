"""The PKCS#11 security module on a real SoftHSM token (issue 13): keys go in as
non-extractable objects, decoder keys come out equal to stsgas.sts's software ones."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pkcs11 import Attribute
from pkcs11.exceptions import AttributeSensitive

from stsgas.irproto import mac_for
from stsgas.sts.kdf import derive
from stsgas.vending.keys.hsm import (
    HsmKeyTooShort,
    HsmUnavailable,
    Pkcs11SecurityModule,
    label_for,
    parse_reference,
)
from stsgas.vending.keys.security import KeyCustodyError, KeyRef, MeterKeyData
from tests.sts.vectors import params
from tests.vending.keys.softhsm import SoftHsm


def _data(inp: dict[str, Any]) -> MeterKeyData:
    return MeterKeyData(
        pan=inp["meter_pan"],
        key_type=inp["key_type"],
        sgc=inp["supply_group_code"],
        ti=inp["tariff_index"],
        krn=inp["key_revision"],
        ken=255,
        base_date=inp.get("base_date", 1993),
        ea=int(inp["ea"]),
        dkga=int(inp["dkga"]),
    )


def _software(data: MeterKeyData, vk: bytes) -> bytes:
    return derive(data.with_key(vending_key=vk)).value


def _dkga02_cases() -> list[Any]:
    """The distinct DKGA02 key/meter sets of the shared vectors, with their decoder key."""
    seen: dict[tuple[Any, ...], Any] = {}
    for p in params(lambda v: v["inputs"].get("dkga") == "02" and "vending_key" in v["inputs"]):
        v = p.values[0]
        if "decoder_key_iec_order" not in v["expected"]:
            continue
        data = _data(v["inputs"])
        seen.setdefault(
            (data, v["inputs"]["vending_key"]),
            pytest.param(
                data, v["inputs"]["vending_key"], v["expected"]["decoder_key_iec_order"], id=p.id
            ),
        )
    return list(seen.values())


@pytest.mark.parametrize(("data", "vk_hex", "expected"), _dkga02_cases())
def test_dkga02_in_the_hsm_equals_the_vectors_and_software(
    data: MeterKeyData, vk_hex: str, expected: str, hsm: Pkcs11SecurityModule
) -> None:
    """3DES-ECB under VK‖VK‖VK plus the whitening step gives the vector's decoder key."""
    vk = bytes.fromhex(vk_hex)
    blob = hsm.wrap(KeyRef(sgc=data.sgc, krn=data.krn), vk)
    got = hsm.meter_config(data, blob).key().value
    assert got.hex() == expected
    assert got == _software(data, vk)


#: DKGA04 keys imported once per session (an import writes token files: slow), at the
#: shortest length SoftHSM takes and longer
_DKGA04_KEYS = [
    (KeyRef(sgc="600001", krn=1), b"\x5a" * 32),
    (KeyRef(sgc="600002", krn=2), bytes(range(64))),
]


@pytest.fixture(scope="module")
def dkga04_blobs(hsm: Pkcs11SecurityModule) -> list[bytes]:
    return [hsm.wrap(ref, vk) for ref, vk in _DKGA04_KEYS]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    which=st.sampled_from([0, 1]),
    pan=st.sampled_from(["600727000000000009", "000001000000000082"]),
    key_type=st.integers(1, 3),
    ti=st.from_regex(r"[0-9]{2}", fullmatch=True),
    base_date=st.sampled_from([1993, 2014, 2035]),
    ea=st.sampled_from([7, 11]),
    payload=st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=40),
)
def test_dkga04_in_the_hsm_equals_software(
    which: int,
    pan: str,
    key_type: int,
    ti: str,
    base_date: int,
    ea: int,
    payload: str,
    hsm: Pkcs11SecurityModule,
    dkga04_blobs: list[bytes],
) -> None:
    """HMAC-SHA-256 by the token, truncated to the EA's key length, is stsgas.sts's DKGA04;
    the IR MAC made from it is the software one."""
    ref, vk = _DKGA04_KEYS[which]
    data = MeterKeyData(
        pan=pan,
        key_type=key_type,
        sgc=ref.sgc,
        ti=ti,
        krn=ref.krn,
        ken=255,
        base_date=base_date,
        ea=ea,
        dkga=4,
    )
    blob = dkga04_blobs[which]
    assert hsm.meter_config(data, blob).key().value == _software(data, vk)
    assert hsm.ir_mac(data, blob, payload) == mac_for(_software(data, vk), payload)


def _dkga04_short_vector(v: dict[str, Any]) -> bool:
    return v["inputs"].get("dkga") == "04" and "vending_key" in v["inputs"]


@pytest.mark.parametrize("v", params(_dkga04_short_vector)[:2])
def test_a_dkga04_key_under_the_hsm_limit_is_refused_by_name(
    v: dict[str, Any], hsm: Pkcs11SecurityModule
) -> None:
    """The standard's 160-bit keys are below SoftHSM's 32-byte HMAC floor: a typed error
    that names the limit, and nothing is left on the token."""
    inp = v["inputs"]
    ref = KeyRef(sgc="999001", krn=int(inp["key_revision"]))
    with pytest.raises(HsmKeyTooShort, match="at least 32 bytes") as caught:
        hsm.wrap(ref, bytes.fromhex(inp["vending_key"]))
    assert caught.value.code == "hsm_key_too_short"
    assert hsm.min_hmac_bytes == 32
    with hsm._token() as s:  # the token itself, not the module API
        assert list(s.get_objects({Attribute.LABEL: label_for(ref)})) == []


@pytest.mark.parametrize("vk", ["abababababababab", "ab" * 32])
def test_keys_are_non_extractable_and_the_blob_is_a_reference(
    vk: str, hsm: Pkcs11SecurityModule
) -> None:
    """The token refuses to show any object's value; the blob holds no key bytes."""
    key = bytes.fromhex(vk)
    ref = KeyRef(sgc="123456", krn=1)
    blob = hsm.wrap(ref, key)
    assert key not in blob
    assert key.hex().encode() not in blob
    object_id = parse_reference(blob)
    with hsm._token() as s:  # the token itself, not the module API
        objects = [
            o for o in s.get_objects({Attribute.LABEL: label_for(ref)}) if o.id == object_id
        ] + list(s.get_objects({Attribute.LABEL: f"{label_for(ref)}:w:{object_id.hex()}"}))
    assert objects
    for obj in objects:
        assert obj[Attribute.SENSITIVE]
        assert not obj[Attribute.EXTRACTABLE]
        with pytest.raises(AttributeSensitive):
            obj[Attribute.VALUE]


def test_a_blob_for_another_group_or_a_lost_object_does_not_check(
    hsm: Pkcs11SecurityModule,
) -> None:
    """A reference is bound to its supply group's label; a destroyed key is reported."""
    ref = KeyRef(sgc="123456", krn=1)
    blob = hsm.wrap(ref, b"\x01" * 32)
    hsm.check(ref, blob)
    with pytest.raises(KeyCustodyError, match="no key object for supply group 654321/KRN 1"):
        hsm.check(KeyRef(sgc="654321", krn=1), blob)
    with pytest.raises(KeyCustodyError, match="not a reference"):
        hsm.check(ref, b"\x01" + bytes(40))
    hsm.destroy(ref, blob)
    with pytest.raises(KeyCustodyError, match="holds no key object"):
        hsm.check(ref, blob)


def test_the_key_check_value_is_computed_by_the_token(hsm: Pkcs11SecurityModule) -> None:
    """DES keys: the first 3 bytes of the encrypted zero block (the vector key's KCV)."""
    ref = KeyRef(sgc="123456", krn=1)
    blob = hsm.wrap(ref, bytes.fromhex("abababababababab"))
    assert hsm.kcv(ref, blob) == "C33F45"


def test_a_wrong_pin_or_token_is_a_clear_error(softhsm: SoftHsm) -> None:
    with pytest.raises(HsmUnavailable, match="PIN of token"):
        Pkcs11SecurityModule(library=softhsm.library, token_label=softhsm.label, pin="0000")
    with pytest.raises(HsmUnavailable, match="no PKCS#11 token labelled 'nope'"):
        Pkcs11SecurityModule(library=softhsm.library, token_label="nope", pin=softhsm.pin)
    with pytest.raises(HsmUnavailable, match="cannot load the PKCS#11 library"):
        Pkcs11SecurityModule(library="/nonexistent/lib.so", token_label="x", pin="1")
