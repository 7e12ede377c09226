"""Key custody in a hardware security module over PKCS#11 (issue 13).

Each vending key is a token object made non-extractable and sensitive: the
token refuses to show or export its value. The database stores only a
reference to it (:func:`reference`), never key material. Decoder keys are
derived by the token:

* DKGA04 is HMAC-SHA-256 under the vending key (``CKM_SHA256_HMAC``). Tokens
  set a shortest HMAC key (SoftHSM: 32 bytes for SHA-256), so a shorter key
  is refused with :class:`HsmKeyTooShort` naming the token's limit.
* DKGA02 is ``DES(VK, X) XOR X XOR VK``. SoftHSM has no single DES, so the
  vending key is stored as the 3DES key ``VK‖VK‖VK``: EDE with three equal
  keys is one DES encryption, the same block. PKCS#11 has no mechanism that
  XORs a key into an output, so the last ``XOR VK`` is done by a second
  object made at import, a *whitening* AES key ``W`` and a block
  ``C = AES(W, VK‖r)`` kept as its ``CKA_ID``: AES-CBC decryption of ``C``
  with the IV ``(E XOR X)‖0`` gives ``VK XOR E XOR X``, the decoder key.
  Both objects are non-extractable; whoever holds a session on the token can
  still use them (as with every HSM key), see docs/hsm.md.

The process keeps object handles and the public ``C`` block in memory, never
a key value. One session per module, behind a lock (PKCS#11 sessions are not
for concurrent use). Every key use is logged to ``stsgas.keys.use`` (which
key, what for; never material), and the database audits who sold what.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pkcs11
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.exceptions import PKCS11Error

from stsgas.irproto import mac_for
from stsgas.sts import DKGA, EA, BaseDate, MeterConfig
from stsgas.sts.identity import control_block, pan_block
from stsgas.sts.kdf import dkga04_input
from stsgas.vending.errors import InvalidInput
from stsgas.vending.keys.security import KeyCustodyError, KeyRef, MeterKeyData

#: the blob a supply group stores for an HSM key: this prefix and the object's id (hex)
BLOB_PREFIX = b"pkcs11:v1:"
#: the HMAC key length SoftHSM (and the PKCS#11 profile for SHA-256) refuses below
DEFAULT_MIN_HMAC_BYTES = 32

use_log = logging.getLogger("stsgas.keys.use")


class HsmUnavailable(KeyCustodyError):
    """The PKCS#11 library, token or PIN does not give a working session."""


class HsmKeyTooShort(KeyCustodyError, InvalidInput):
    """A DKGA04 vending key shorter than the token's shortest HMAC key."""

    code = "hsm_key_too_short"
    title = "Vending key too short for the HSM"


def label_for(ref: KeyRef) -> str:
    """The token label of a supply group's vending key (not secret)."""
    return f"stsgas-vk:sgc={ref.sgc}:krn={ref.krn}"


def reference(object_id: bytes) -> bytes:
    """The database blob naming the key object with ``object_id``."""
    return BLOB_PREFIX + object_id.hex().encode()


def parse_reference(blob: bytes) -> bytes:
    """The object id a blob names, or :class:`KeyCustodyError` (e.g. a software blob)."""
    if not blob.startswith(BLOB_PREFIX):
        raise KeyCustodyError("the key blob is not a reference to an HSM key object")
    try:
        return bytes.fromhex(blob[len(BLOB_PREFIX) :].decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise KeyCustodyError("the HSM key reference is malformed") from None


@dataclass(frozen=True, slots=True)
class _Handles:
    """The token objects of one vending key (handles, not values)."""

    label: str
    key: Any
    dkga: DKGA
    whitening: Any = None
    block: bytes = b""


_LIBS: dict[str, Any] = {}
_LIBS_LOCK = threading.Lock()
#: a digest of the PIN each token was logged in with in this process
_LOGINS: dict[tuple[str, str], bytes] = {}


def _library(path: str) -> Any:
    """One loaded PKCS#11 library per path and process (C_Initialize runs once)."""
    with _LIBS_LOCK:
        if path not in _LIBS:
            try:
                _LIBS[path] = pkcs11.lib(path)
            except (RuntimeError, OSError, PKCS11Error) as exc:
                raise HsmUnavailable(f"cannot load the PKCS#11 library {path}: {exc}") from None
        return _LIBS[path]


def _private(extra: dict[Any, Any]) -> dict[Any, Any]:
    """The attributes every vending-key object gets: on the token, never revealed."""
    base: dict[Any, Any] = {
        Attribute.CLASS: ObjectClass.SECRET_KEY,
        Attribute.TOKEN: True,
        Attribute.PRIVATE: True,
        Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: False,
        Attribute.MODIFIABLE: False,
    }
    base.update(extra)
    return base


class Pkcs11SecurityModule:
    """Vending keys as non-extractable objects on one PKCS#11 token."""

    def __init__(self, *, library: Path | str, token_label: str, pin: str) -> None:
        self.library = str(library)
        self.token_label = token_label
        lib = _library(self.library)
        try:
            token = lib.get_token(token_label=token_label)
        except pkcs11.NoSuchToken:
            raise HsmUnavailable(f"no PKCS#11 token labelled {token_label!r}") from None
        except PKCS11Error as exc:
            raise HsmUnavailable(f"cannot reach token {token_label!r}: {exc!r}") from None
        self._session = self._login(token, pin)
        self._lock = threading.Lock()
        self._handles: dict[bytes, _Handles] = {}
        self.min_hmac_bytes = self._min_hmac(token)

    def __repr__(self) -> str:
        return f"Pkcs11SecurityModule(token={self.token_label!r})"

    def _login(self, token: Any, pin: str) -> Any:
        """A logged-in session; PKCS#11 logs a whole process in, so a second module on
        the same token shares that login, if its PIN is the one that logged in."""
        where = (self.library, self.token_label)
        tag = hashlib.sha256(pin.encode()).digest()
        try:
            session = token.open(user_pin=pin, rw=True)
        except pkcs11.PinIncorrect:
            raise HsmUnavailable(f"the PIN of token {self.token_label!r} is wrong") from None
        except pkcs11.UserAlreadyLoggedIn:
            if _LOGINS.get(where) != tag:
                raise HsmUnavailable(
                    f"the PIN of token {self.token_label!r} is wrong"
                    " (not the one this process logged in with)"
                ) from None
            session = token.open(rw=True)
        except PKCS11Error as exc:
            raise HsmUnavailable(f"cannot log in to token {self.token_label!r}: {exc!r}") from None
        _LOGINS[where] = tag
        return session

    @staticmethod
    def _min_hmac(token: Any) -> int:
        """The token's shortest SHA-256 HMAC key in bytes (its mechanism info, else 32)."""
        try:
            info = token.slot.get_mechanism_info(Mechanism.SHA256_HMAC)
        except PKCS11Error:
            return DEFAULT_MIN_HMAC_BYTES
        return max(int(info.min_key_length), 1)

    def close(self) -> None:
        """End the session (the library stays loaded for the process)."""
        with self._lock:
            self._handles.clear()
            self._session.close()

    @contextmanager
    def _token(self) -> Iterator[Any]:
        with self._lock:
            try:
                yield self._session
            except PKCS11Error as exc:
                raise KeyCustodyError(f"the HSM refused the operation: {exc!r}") from None

    # -- import -------------------------------------------------------------------

    def wrap(self, ref: KeyRef, vending_key: bytes) -> bytes:
        """Import ``vending_key`` as non-extractable object(s); return the reference."""
        object_id = secrets.token_bytes(8)
        label = label_for(ref)
        if len(vending_key) == 8:
            self._import_dkga02(label, object_id, vending_key)
        elif len(vending_key) >= 20:
            if len(vending_key) < self.min_hmac_bytes:
                raise HsmKeyTooShort(
                    f"the HSM takes HMAC keys of at least {self.min_hmac_bytes} bytes; this "
                    f"DKGA04 vending key has {len(vending_key)}: make a longer one",
                    min_bytes=self.min_hmac_bytes,
                )
            with self._token() as s:
                s.create_object(
                    _private(
                        {
                            Attribute.KEY_TYPE: KeyType.GENERIC_SECRET,
                            Attribute.VALUE: vending_key,
                            Attribute.LABEL: label,
                            Attribute.ID: object_id,
                            Attribute.SIGN: True,
                            Attribute.VERIFY: False,
                        }
                    )
                )
        else:
            raise KeyCustodyError("a vending key is 8 bytes (DKGA02) or at least 20 (DKGA04)")
        use_log.info("import key=%s id=%s", label, object_id.hex())
        return reference(object_id)

    def generate(self, ref: KeyRef, length: int) -> bytes:
        """Make a new DKGA04 vending key of ``length`` bytes inside the token (its value
        never exists outside it); return the reference. DKGA02 keys cannot be made so:
        their 3DES form repeats the key and their whitening object needs its value."""
        if length < max(self.min_hmac_bytes, 20):
            raise HsmKeyTooShort(
                f"the HSM takes HMAC keys of at least {self.min_hmac_bytes} bytes, not {length}",
                min_bytes=self.min_hmac_bytes,
            )
        object_id = secrets.token_bytes(8)
        label = label_for(ref)
        template = _private(
            {
                Attribute.LABEL: label,
                Attribute.ID: object_id,
                Attribute.SIGN: True,
                Attribute.VERIFY: False,
            }
        )
        template.pop(Attribute.CLASS)
        with self._token() as s:
            s.generate_key(
                KeyType.GENERIC_SECRET,
                key_length=length * 8,
                mechanism=Mechanism.GENERIC_SECRET_KEY_GEN,
                template=template,
            )
        use_log.info("generate key=%s id=%s", label, object_id.hex())
        return reference(object_id)

    def _import_dkga02(self, label: str, object_id: bytes, vk: bytes) -> None:
        whitening = os.urandom(32)
        enc = Cipher(algorithms.AES(whitening), modes.ECB()).encryptor()
        block = enc.update(vk + os.urandom(8)) + enc.finalize()
        with self._token() as s:
            s.create_object(
                _private(
                    {
                        Attribute.KEY_TYPE: KeyType.DES3,
                        Attribute.VALUE: vk * 3,
                        Attribute.LABEL: label,
                        Attribute.ID: object_id,
                        Attribute.ENCRYPT: True,
                        Attribute.DECRYPT: False,
                    }
                )
            )
            s.create_object(
                _private(
                    {
                        Attribute.KEY_TYPE: KeyType.AES,
                        Attribute.VALUE: whitening,
                        Attribute.LABEL: label + ":w:" + object_id.hex(),
                        Attribute.ID: block,
                        Attribute.ENCRYPT: False,
                        Attribute.DECRYPT: True,
                    }
                )
            )

    # -- lookup -------------------------------------------------------------------

    def _find(self, ref: KeyRef, blob: bytes) -> _Handles:
        object_id = parse_reference(blob)
        cached = self._handles.get(object_id)
        label = label_for(ref)
        if cached is not None and cached.label == label:
            return cached
        with self._token() as s:
            found = list(s.get_objects({Attribute.LABEL: label, Attribute.ID: object_id}))
            if len(found) != 1:
                raise KeyCustodyError(
                    f"token {self.token_label!r} holds no key object for supply group "
                    f"{ref.sgc}/KRN {ref.krn} (id {object_id.hex()})"
                )
            key = found[0]
            if key[Attribute.EXTRACTABLE] or not key[Attribute.SENSITIVE]:
                raise KeyCustodyError(f"the HSM key {label} is extractable: re-import it")
            if key.key_type == KeyType.DES3:
                w = list(s.get_objects({Attribute.LABEL: label + ":w:" + object_id.hex()}))
                if len(w) != 1:
                    raise KeyCustodyError(f"the HSM key {label} lacks its DKGA02 whitening key")
                handles = _Handles(label, key, DKGA.DKGA02, w[0], bytes(w[0][Attribute.ID]))
            else:
                handles = _Handles(label, key, DKGA.DKGA04)
        self._handles[object_id] = handles
        return handles

    def check(self, ref: KeyRef, blob: bytes) -> None:
        """Raise unless the token holds the (non-extractable) key ``blob`` names for ``ref``."""
        self._find(ref, blob)

    def destroy(self, ref: KeyRef, blob: bytes) -> None:
        """Remove a key's objects from the token (an import whose record was not written)."""
        h = self._find(ref, blob)
        with self._token():
            for obj in (h.key, h.whitening):
                if obj is not None:
                    obj.destroy()
        self._handles.pop(parse_reference(blob), None)
        use_log.info("destroy key=%s", label_for(ref))

    # -- use ------------------------------------------------------------------

    def decoder_key(self, data: MeterKeyData, blob: bytes) -> bytes:
        """The meter's decoder key, derived by the token."""
        ref = KeyRef(sgc=data.sgc, krn=data.krn)
        h = self._find(ref, blob)
        if h.dkga is not DKGA(data.dkga):
            raise KeyCustodyError(
                f"the HSM key of {ref.sgc}/KRN {ref.krn} is a DKGA{int(h.dkga):02d} key"
            )
        use_log.info("derive key=%s dkga=%02d pan=%s", label_for(ref), data.dkga, data.pan)
        if h.dkga is DKGA.DKGA04:
            msg = dkga04_input(
                pan=data.pan,
                key_type=data.key_type,
                sgc=data.sgc,
                ti=data.ti,
                krn=data.krn,
                base_date=BaseDate(data.base_date),
                ea=EA(data.ea),
            )
            with self._token():
                mac: bytes = h.key.sign(msg, mechanism=Mechanism.SHA256_HMAC)
            return mac[: EA(data.ea).key_bytes]
        x = pan_block(data.pan, data.key_type) ^ control_block(
            data.key_type, data.sgc, data.ti, data.krn
        )
        xb = x.to_bytes(8, "big")
        with self._token():
            e: bytes = h.key.encrypt(xb, mechanism=Mechanism.DES3_ECB)
            iv = bytes(a ^ b for a, b in zip(e, xb, strict=True)) + bytes(8)
            out: bytes = h.whitening.decrypt(
                h.block, mechanism=Mechanism.AES_CBC, mechanism_param=iv
            )
        return out[:8]

    def meter_config(self, data: MeterKeyData, blob: bytes) -> MeterConfig:
        """The meter's config with its decoder key derived in the HSM."""
        return data.with_key(decoder_key=self.decoder_key(data, blob))

    def ir_mac(self, data: MeterKeyData, blob: bytes, payload: str) -> str:
        """Sign an IR command under the meter's decoder key (derived in the HSM)."""
        return mac_for(self.decoder_key(data, blob), payload)

    def kcv(self, ref: KeyRef, blob: bytes) -> str:
        """The key check value of the stored key, computed by the token (see ceremony)."""
        h = self._find(ref, blob)
        with self._token():
            if h.dkga is DKGA.DKGA02:
                raw: bytes = h.key.encrypt(bytes(8), mechanism=Mechanism.DES3_ECB)
            else:
                raw = h.key.sign(bytes(8), mechanism=Mechanism.SHA256_HMAC)
        return raw[:3].hex().upper()
