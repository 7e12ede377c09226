"""The key ceremony (issue 13): components with check values in, one non-extractable HSM
key and its supply group out, audited, never shown; a failed import leaves nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pkcs11 import Attribute
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.exc import OperationalError

from stsgas.sts.ciphers.dea import des_encrypt_block
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.errors import AlreadyExists
from stsgas.vending.keys import ceremony
from stsgas.vending.keys.hsm import (
    HsmKeyTooShort,
    Pkcs11SecurityModule,
    label_for,
    parse_reference,
)
from stsgas.vending.keys.security import KeyRef, MeterKeyData
from stsgas.vending.models import AuditEntry, SupplyGroup
from tests.vending.keys.ceremony_data import CASES


def _spec(case: dict[str, Any], sgc: str | None = None) -> ceremony.GroupSpec:
    return ceremony.GroupSpec(
        sgc=sgc or case["sgc"], krn=case["krn"], dkga=case["dkga"], ea=case["ea"]
    )


def _parts(case: dict[str, Any]) -> list[bytes]:
    return [bytes.fromhex(c) for c in case["components"]]


@given(key=st.binary(min_size=8, max_size=8) | st.binary(min_size=20, max_size=64), data=st.data())
def test_components_combine_to_the_key_they_were_split_from(
    key: bytes, data: st.DataObject
) -> None:
    """Any key split into 2 or 3 random shares XORs back to itself, whatever the shares."""
    n = data.draw(st.sampled_from([2, 3]))
    shares = [data.draw(st.binary(min_size=len(key), max_size=len(key))) for _ in range(n - 1)]
    last = bytes(key)
    for s in shares:
        last = bytes(a ^ b for a, b in zip(last, s, strict=True))
    parts = [*shares, last]
    if len(set(parts)) != len(parts):
        return  # equal shares are refused, checked below
    assert ceremony.combine(parts) == key


def test_the_des_check_value_is_the_encrypted_zero_block() -> None:
    key = bytes.fromhex("abababababababab")
    assert ceremony.kcv(key) == des_encrypt_block(key, bytes(8))[:3].hex().upper()
    assert ceremony.kcv(key) == CASES["des"]["key_kcv"]
    assert ceremony.combine(_parts(CASES["des"])) == key


@pytest.mark.parametrize("case", CASES["refusals"], ids=lambda c: c["words"])
def test_bad_component_sets_are_refused(case: dict[str, Any]) -> None:
    with pytest.raises(ceremony.CeremonyRefused, match=case["words"]):
        ceremony.combine([bytes.fromhex(c) for c in case["components"]])


@pytest.mark.parametrize("case", CASES["bad_component_text"], ids=lambda c: c["words"])
def test_a_mistyped_component_is_refused_without_echo(case: dict[str, Any]) -> None:
    with pytest.raises(ceremony.CeremonyRefused, match=case["words"]) as caught:
        ceremony.parse_component(case["text"], 1)
    assert case["text"] not in str(caught.value)


def test_a_component_with_the_wrong_check_value_is_refused() -> None:
    part = _parts(CASES["des"])[0]
    good = ceremony.kcv(part)
    assert ceremony.check_component(part, 1, good.lower()) == good
    with pytest.raises(ceremony.CeremonyRefused, match=f"check value {good}, not 000000"):
        ceremony.check_component(part, 1, "000000")


def _objects(hsm: Pkcs11SecurityModule, ref: KeyRef) -> int:
    with hsm._token() as s:  # the token itself, not the module API
        return len(list(s.get_objects({Attribute.LABEL: label_for(ref)})))


@pytest.mark.parametrize("which", ["des", "hmac"])
def test_a_ceremony_imports_a_non_extractable_key_and_audits_it(
    which: str, engine: Engine, hsm: Pkcs11SecurityModule, backend: str
) -> None:
    """The group stores a reference; the HSM reports the key's check value; the audit
    record names the key, the purpose and the custodians, and holds no key bytes."""
    case = CASES[which]
    spec = _spec(case, sgc=f"{case['sgc'][:5]}{'01'[backend == 'sqlite']}")
    parts = _parts(case)
    key = ceremony.combine(parts)
    done = ceremony.import_key(
        engine, hsm, spec=spec, components=parts, key_kcv=None, custodians=["ann", "bob"]
    )
    assert done.kcv_from_module
    assert done.kcv == ceremony.kcv(key)
    with make_sessionmaker(engine)() as s:
        sg = s.get(SupplyGroup, done.supply_group_id)
        assert sg is not None
        parse_reference(sg.vending_key_enc)  # a reference, not a wrapped key
        assert key not in sg.vending_key_enc
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "key.ceremony")).one()
        assert entry.data["custodians"] == ["ann", "bob"]
        assert entry.data["kcv"] == done.kcv
        assert key.hex() not in json.dumps(entry.data)
        assert all(p.hex() not in json.dumps(entry.data) for p in parts)
        meter = MeterKeyData(
            pan="600727000000000009",
            key_type=2,
            sgc=sg.sgc,
            ti="01",
            krn=sg.krn,
            ken=255,
            base_date=2014,
            ea=sg.ea,
            dkga=sg.dkga,
        )
        assert hsm.meter_config(meter, sg.vending_key_enc).decoder_key is not None


def test_a_refused_import_leaves_no_key_on_the_token(
    engine: Engine, hsm: Pkcs11SecurityModule, backend: str
) -> None:
    """A second ceremony for one group, or one whose key check value differs, is
    refused before the token is touched."""
    case = CASES["des"]
    spec = _spec(case, sgc=f"77777{'01'[backend == 'sqlite']}")
    ref = KeyRef(sgc=spec.sgc, krn=spec.krn)
    before = _objects(hsm, ref)
    ceremony.import_key(
        engine, hsm, spec=spec, components=_parts(case), key_kcv=None, custodians=[]
    )
    after_one = _objects(hsm, ref)
    assert after_one == before + 1
    with pytest.raises(AlreadyExists):
        ceremony.import_key(
            engine, hsm, spec=spec, components=_parts(case), key_kcv=None, custodians=[]
        )
    assert _objects(hsm, ref) == after_one
    with pytest.raises(ceremony.CeremonyRefused, match="combined key has check value C33F45"):
        ceremony.import_key(
            engine, hsm, spec=spec, components=_parts(case), key_kcv="ABCDEF", custodians=[]
        )


def test_an_import_whose_record_cannot_be_written_is_taken_off_the_token(
    hsm: Pkcs11SecurityModule, sqlite_template: Path, tmp_path: Path
) -> None:
    """The key reached the token, then the database refused the write (opened read-only):
    the token object is destroyed, so no key lives on without its supply group."""
    path = tmp_path / "ro.db"
    path.write_bytes(sqlite_template.read_bytes())
    engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    spec = _spec(CASES["des"], sgc="888801")
    ref = KeyRef(sgc=spec.sgc, krn=spec.krn)
    before = _objects(hsm, ref)
    try:
        with pytest.raises(OperationalError, match="readonly"):
            ceremony.import_key(
                engine, hsm, spec=spec, components=_parts(CASES["des"]), key_kcv=None, custodians=[]
            )
    finally:
        engine.dispose()
    assert _objects(hsm, ref) == before


def test_the_hsm_generates_a_dkga04_key_that_never_leaves_it(
    engine: Engine, hsm: Pkcs11SecurityModule, backend: str
) -> None:
    """A generated key is non-extractable, its group stores a reference, derivation works
    and the audit says it was generated; DKGA02 and short keys are refused."""
    spec = ceremony.GroupSpec(sgc=f"50000{'01'[backend == 'sqlite']}", krn=1, dkga=4, ea=11)
    done = ceremony.generate_key(engine, hsm, spec=spec, length=32, witnesses=["ann"])
    with make_sessionmaker(engine)() as s:
        sg = s.get(SupplyGroup, done.supply_group_id)
        assert sg is not None
        blob = sg.vending_key_enc
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "key.ceremony")).one()
    assert entry.data["generated"] is True
    assert entry.data["kcv"] == done.kcv == hsm.kcv(KeyRef(sgc=spec.sgc, krn=1), blob)
    key = hsm._find(KeyRef(sgc=spec.sgc, krn=1), blob).key  # the token object itself
    assert not key[Attribute.EXTRACTABLE]
    assert key[Attribute.SENSITIVE]
    meter = MeterKeyData(
        pan="600727000000000009",
        key_type=2,
        sgc=spec.sgc,
        ti="01",
        krn=1,
        ken=255,
        base_date=2014,
        ea=11,
        dkga=4,
    )
    assert len(hsm.decoder_key(meter, blob)) == 16
    with pytest.raises(ceremony.CeremonyRefused, match="DKGA04 keys only"):
        ceremony.generate_key(
            engine, hsm, spec=_spec(CASES["des"], sgc="500099"), length=8, witnesses=[]
        )
    with pytest.raises(HsmKeyTooShort, match="at least 32 bytes"):
        ceremony.generate_key(
            engine,
            hsm,
            spec=ceremony.GroupSpec(sgc="500098", krn=1, dkga=4),
            length=20,
            witnesses=[],
        )
