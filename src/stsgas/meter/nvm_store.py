"""EncryptedRecordStore: the meter's record sets on an :class:`Nvm`, power-fail safe and sealed.

Layout (docs/nvm.md has the full picture)::

    page 0, 1        counter pages: the last committed sequence number, HMAC'd;
                     value v lives in page v % 2
    pages 2 ..       slot 0 then slot 1, each (page_count - 2) // 2 pages;
                     sequence number s lives in slot s % 2

A commit seals the whole record set into the slot *not* holding the newest copy:
body pages first, the header page (the commit marker) last, then the counter
page. Any torn write lands in a copy that is not the newest valid one, so load()
sees either the old set or the new one. The AEAD tag (AES-128-GCM) or the
encrypt-then-MAC tag (3DES-CBC + HMAC-SHA256) covers the header and the body.

Why whole-set A/B slots and not a journal: the meter's sets are small (a few
hundred bytes to a few KB), so one sealed blob per commit is both the simplest
thing to prove and cheap (tens of µs in memory, two fsyncs on a file).
"""

from __future__ import annotations

import hmac
import struct
from collections.abc import Callable, Mapping
from typing import Final, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from stsgas.meter import _randpool
from stsgas.meter.nvm import (
    ERASED,
    Nvm,
    NvmCapacityError,
    NvmError,
    NvmRegion,
    NvmTamperError,
)
from stsgas.meter.nvm_records import RecordSet
from stsgas.meter.nvm_records import decode_records as _decode_records
from stsgas.meter.nvm_records import encode_records as _encode_records
from stsgas.meter.storage import SplitStateStore

__all__ = ["CipherName", "EncryptedRecordStore", "split_record_store"]

CipherName = Literal["aes128", "3des"]

_CIPHER_IDS: Final[dict[str, int]] = {"aes128": 1, "3des": 2}
_MAGIC: Final = b"SGNV"
_CMAGIC: Final = b"SGNC"
_VERSION: Final = 1
#: magic, version, cipher id, slot, flags, seq, body length, nonce/IV (zero padded)
_HEADER: Final = struct.Struct(">4sBBBBQI16s")
#: magic, version, cipher id, page, flags, seq — then a 16-byte HMAC-SHA256 prefix
_COUNTER: Final = struct.Struct(">4sBBBBQ")
_CTAG: Final = 16
_COUNTER_PAGES: Final = 2
_MAX_SEQ: Final = 2**64 - 1


def _derive(key: bytes, label: str, length: int) -> bytes:
    return HKDF(algorithm=SHA256(), length=length, salt=None, info=label.encode()).derive(key)


class _Sealer:
    """The two ciphers behind one interface: seal(header, plaintext) -> body and back."""

    def __init__(
        self, key: bytes, cipher: CipherName, nonce: Callable[[int], bytes], domain: str = ""
    ) -> None:
        self.cipher = cipher
        self._nonce = nonce
        tail = f" {domain}" if domain else ""  # no domain: the labels stores always used
        if cipher == "aes128":
            self._aead = AESGCM(_derive(key, "stsgas nvm aes128-gcm" + tail, 16))
            self.nonce_len = 12
        else:
            # 24 bytes: three distinct DES keys (keying option 1), no decrepit-size warning
            self._des_key = _derive(key, "stsgas nvm 3des-cbc" + tail, 24)
            self._mac_key = _derive(key, "stsgas nvm 3des-hmac" + tail, 32)
            self.nonce_len = 8
        self.counter_key = _derive(key, f"stsgas nvm counter {cipher}" + tail, 32)
        # keyed once: a copy per counter page costs a fifth of a one-shot HMAC's key setup
        self._counter_mac = HMAC(self.counter_key, SHA256())

    def counter_tag(self, head: bytes) -> bytes:
        """HMAC-SHA256(counter key, head), as ``hmac.digest`` gives it."""
        mac = self._counter_mac.copy()
        mac.update(head)
        return mac.finalize()

    def new_nonce(self) -> bytes:
        nonce = self._nonce(self.nonce_len)
        if len(nonce) != self.nonce_len:
            raise ValueError(f"nonce source gave {len(nonce)} bytes, need {self.nonce_len}")
        return nonce

    def seal(self, header: bytes, nonce: bytes, plain: bytes) -> bytes:
        if self.cipher == "aes128":
            return self._aead.encrypt(nonce, plain, header)
        pad = 8 - len(plain) % 8
        enc = Cipher(TripleDES(self._des_key), modes.CBC(nonce)).encryptor()
        ct = enc.update(plain + bytes([pad]) * pad) + enc.finalize()
        return ct + hmac.digest(self._mac_key, header + ct, "sha256")

    def body_len(self, plain_len: int) -> int:
        if self.cipher == "aes128":
            return plain_len + 16
        return (plain_len // 8 + 1) * 8 + 32

    def open(self, header: bytes, nonce: bytes, body: bytes) -> bytes | None:
        """The plaintext, or None when the tag does not verify (torn or forged)."""
        if self.cipher == "aes128":
            try:
                return self._aead.decrypt(nonce, body, header)
            except InvalidTag:
                return None
        ct, tag = body[:-32], body[-32:]
        if len(ct) < 8 or len(ct) % 8:
            return None
        if not hmac.compare_digest(tag, hmac.digest(self._mac_key, header + ct, "sha256")):
            return None
        dec = Cipher(TripleDES(self._des_key), modes.CBC(nonce)).decryptor()
        padded = dec.update(ct) + dec.finalize()
        pad = padded[-1]
        if not 1 <= pad <= 8 or padded[-pad:] != bytes([pad]) * pad:
            raise NvmTamperError("an authenticated record set has bad padding")
        return padded[:-pad]


class EncryptedRecordStore:
    """A :class:`StateStore` (load / commit) over an :class:`Nvm`.

    ``commit(records)`` merges the named records into the current set and
    writes the whole set atomically. ``load()`` returns the newest valid set,
    ``None`` for a blank device, and raises :class:`NvmTamperError` when the
    image holds no trustworthy newest copy.

    ``key`` is a 16-, 24- or 32-byte master key; the cipher keys and the
    counter MAC key are derived from it with HKDF-SHA256. ``nonce`` supplies
    fresh random nonces/IVs (the OS generator, read in 4 KB runs; tests may inject a
    seeded source).
    ``domain`` names the store when several share one key (regions of one
    device): it goes into the key derivation, so a copy sealed by one store
    never authenticates in another.
    """

    def __init__(
        self,
        nvm: Nvm,
        key: bytes,
        cipher: CipherName = "aes128",
        *,
        nonce: Callable[[int], bytes] = _randpool.urandom,
        domain: str = "",
    ) -> None:
        if cipher not in _CIPHER_IDS:
            raise ValueError(f"cipher must be 'aes128' or '3des', not {cipher!r}")
        if len(key) not in (16, 24, 32):
            raise ValueError("the NVM key must be 16, 24 or 32 bytes")
        self.nvm = nvm
        self.cipher: CipherName = cipher
        self._cid = _CIPHER_IDS[cipher]
        self._sealer = _Sealer(bytes(key), cipher, nonce, domain)
        self.slot_pages = (nvm.page_count - _COUNTER_PAGES) // 2
        if self.slot_pages < 1 or nvm.page_size < max(_HEADER.size, _COUNTER.size + _CTAG):
            raise NvmError("the device is too small for two slots")
        #: the committed set, its sequence number and the counter value on the device;
        #: None until loaded, and again after a failed commit (the device must be re-read)
        self._records: RecordSet | None = None
        self._pad = bytes([ERASED]) * nvm.page_size
        self._counter_pad = self._pad[: nvm.page_size - _COUNTER.size - _CTAG]
        self._seq = 0
        self._counter = 0
        room = self.slot_pages * nvm.page_size - _HEADER.size
        self._capacity = room - self._sealer.body_len(0)

    # ----------------------------------------------------------------- layout
    @property
    def capacity(self) -> int:
        """The largest serialised record set one slot holds, in bytes."""
        return self._capacity

    def _slot_start(self, slot: int) -> int:
        return _COUNTER_PAGES + slot * self.slot_pages

    # ---------------------------------------------------------------- counter
    def _counter_page(self, seq: int) -> bytes:
        page = seq % 2
        head = _COUNTER.pack(_CMAGIC, _VERSION, self._cid, page, 0, seq)
        return head + self._sealer.counter_tag(head)[:_CTAG] + self._counter_pad

    def _read_counter(self, page: int) -> int | Literal["bad"] | None:
        """The counter value in ``page``; None if erased; "bad" if it does not verify."""
        raw = self.nvm.read_page(page)
        if raw.count(ERASED) == len(raw):
            return None
        head, tag = raw[: _COUNTER.size], raw[_COUNTER.size : _COUNTER.size + _CTAG]
        want = self._sealer.counter_tag(head)[:_CTAG]
        if not hmac.compare_digest(tag, want):
            return "bad"
        magic, version, cid, idx, _flags, seq = _COUNTER.unpack(head)
        if magic != _CMAGIC or version != _VERSION or cid != self._cid or idx != page:
            raise NvmTamperError("an authenticated counter page is inconsistent")
        if seq % 2 != page:
            raise NvmTamperError("an authenticated counter page is in the wrong place")
        return int(seq)

    # ------------------------------------------------------------------ slots
    def _read_slot(self, slot: int) -> tuple[int, bytes] | Literal["bad"] | None:
        """(seq, plaintext) of a valid slot; None if its header page is erased; "bad" else."""
        start = self._slot_start(slot)
        first = self.nvm.read_page(start)
        if first.count(ERASED) == len(first):
            return None
        magic, version, cid, idx, flags, seq, blen, nonce_field = _HEADER.unpack_from(first)
        total = _HEADER.size + blen
        if (
            magic != _MAGIC
            or version != _VERSION
            or cid != self._cid
            or idx != slot
            or flags != 0
            or blen < self._sealer.body_len(0)
            or total > self.slot_pages * self.nvm.page_size
        ):
            return "bad"
        npages = -(-total // self.nvm.page_size)
        blob = first + b"".join(self.nvm.read_page(start + i) for i in range(1, npages))
        header = blob[: _HEADER.size]
        nonce = nonce_field[: self._sealer.nonce_len]
        plain = self._sealer.open(header, nonce, blob[_HEADER.size : total])
        if plain is None:
            return "bad"
        if seq % 2 != slot or seq == 0:
            raise NvmTamperError("an authenticated slot holds a sequence number it cannot hold")
        if nonce_field[self._sealer.nonce_len :].count(0) != 16 - self._sealer.nonce_len:
            raise NvmTamperError("an authenticated slot header is inconsistent")
        return int(seq), plain

    # ------------------------------------------------------------------- load
    def load(self) -> dict[str, bytes] | None:
        """The newest committed record set; None if never committed; NvmTamperError if untrusted."""
        counters = [self._read_counter(p) for p in range(_COUNTER_PAGES)]
        slots = [self._read_slot(s) for s in range(2)]
        valid = [s for s in slots if isinstance(s, tuple)]
        good_counters = [c for c in counters if isinstance(c, int)]
        bad_counters = [p for p, c in enumerate(counters) if c == "bad"]
        cmax = max(good_counters, default=0)
        if not valid:
            if counters == [None, None]:
                # a blank device, or a first commit cut before its commit marker landed
                self._records, self._seq, self._counter = RecordSet(), 0, 0
                return None
            raise NvmTamperError("no valid copy of the meter's records is left on the device")
        seq, plain = max(valid)
        if len(valid) == 2 and valid[0][0] == valid[1][0]:
            raise NvmTamperError("two copies claim the same sequence number")
        if bad_counters and (
            len(bad_counters) > 1 or seq != cmax + 1 or bad_counters[0] != seq % 2
        ):
            raise NvmTamperError("a counter page was altered")
        if seq < cmax:
            raise NvmTamperError(
                f"rolled back: the newest valid copy is #{seq} but #{cmax} was committed"
            )
        if seq > cmax + 1:
            raise NvmTamperError(f"copy #{seq} is ahead of the counter #{cmax}")
        records = _decode_records(plain)
        self._records, self._seq, self._counter = RecordSet(records), seq, cmax
        return records

    # ----------------------------------------------------------------- commit
    def commit(self, records: Mapping[str, bytes]) -> None:
        """Merge ``records`` into the set and write it atomically (old or new after any cut)."""
        if self._records is None:
            self.load()
        assert self._records is not None
        merged = self._records.merged(records)  # encodes only the changed records
        plain = _encode_records(merged)
        if len(plain) > self._capacity:
            raise NvmCapacityError(
                f"the record set is {len(plain)} bytes; one slot holds {self.capacity}"
            )
        seq = self._seq + 1
        if seq > _MAX_SEQ:
            raise NvmError("sequence number exhausted")
        slot = seq % 2
        sealer = self._sealer
        nonce = sealer.new_nonce()
        header = _HEADER.pack(
            _MAGIC,
            _VERSION,
            self._cid,
            slot,
            0,
            seq,
            sealer.body_len(len(plain)),
            nonce.ljust(16, b"\0"),
        )
        body = sealer.seal(header, nonce, plain)
        size = self.nvm.page_size
        # whole pages (the padding is never read), in one copy
        blob = b"".join((header, body, self._pad[: -(len(header) + len(body)) % size]))
        start = self._slot_start(slot)
        try:
            if self._counter < self._seq:
                # the last commit was cut before its counter page: catch up first, so the
                # counter is never more than one behind the newest copy
                self.nvm.write_page(self._seq % 2, self._counter_page(self._seq))
                self._counter = self._seq
            # last page first: the body, then the commit marker (header + tag-covered body)
            self.nvm.write_span(start, blob)
            self.nvm.write_page(seq % 2, self._counter_page(seq))
        except BaseException:
            self._records = None  # the device state is unknown until re-read
            raise
        self._records, self._seq, self._counter = merged, seq, seq

    @property
    def sequence(self) -> int:
        """The sequence number of the newest committed set (0 when blank)."""
        return self._seq


#: pages of the registers' region in :func:`split_record_store` (the rest hold the trend)
MAIN_PAGES: Final = 128


def split_record_store(
    nvm: Nvm,
    key: bytes,
    cipher: CipherName = "aes128",
    *,
    main_pages: int = MAIN_PAGES,
    nonce: Callable[[int], bytes] = _randpool.urandom,
) -> SplitStateStore:
    """The meter's records on ``nvm`` in two sealed stores: the hourly trend in its own
    region (its own A/B slot pair and counter), everything else in the first
    ``main_pages`` pages. A register commit then seals and writes the registers' set
    only, not the trend (docs/nvm.md, "Trend data in its own slots").

    A device laid out this way is not readable as one store, nor the other way round:
    the layout is chosen when the device is first used.
    """
    main = EncryptedRecordStore(NvmRegion(nvm, 0, main_pages), key, cipher, nonce=nonce)
    side = EncryptedRecordStore(
        NvmRegion(nvm, main_pages, nvm.page_count - main_pages),
        key,
        cipher,
        nonce=nonce,
        domain="trend",
    )
    return SplitStateStore(main, side)
