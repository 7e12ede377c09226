"""Coverage-guided fuzzing (atheris, RELIABILITY T4) of token decoding, for each
algorithm: any text either decodes to a token that encodes back to the same
20 digits, or raises an ``StsError`` — never another exception.

Run: ``.venv/bin/python fuzz/fuzz_sts_decode.py -max_total_time=600`` (needs
``pip install -e '.[fuzz]'``).
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from stsgas.meter.demo import demo_meter_json
    from stsgas.sts import MeterConfig, StsError, decode, encode

BASE = demo_meter_json()  # its identity; the algorithm and keys vary below
KEYS = [
    MeterConfig.from_json({**BASE, "ea": ea, "dkga": dkga, "vending_key": vk}).key()
    for ea, dkga, vk in (("07", "02", "ab" * 8), ("09", "02", "ab" * 8), ("11", "04", "ab" * 20))
]


def one(data: bytes) -> None:
    """Decode one text under one of the keys (or none: class 0 tokens)."""
    fdp = atheris.FuzzedDataProvider(data)
    which = fdp.ConsumeIntInRange(0, len(KEYS))
    key = KEYS[which] if which < len(KEYS) else None
    text = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 30))
    try:
        token = decode(text, key)
    except StsError:
        return
    digits = "".join(ch for ch in text if ch.isdigit())
    assert encode(token, key) == digits, (text, token)


if __name__ == "__main__":
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()
