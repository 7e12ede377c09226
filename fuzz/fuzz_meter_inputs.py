"""Coverage-guided fuzzing (atheris, RELIABILITY T4) of everything a meter takes from
outside: IR frames, keypad presses and 20-digit tokens.

Run: ``.venv/bin/python fuzz/fuzz_meter_inputs.py -max_total_time=600`` (needs
``pip install -e '.[fuzz]'``). The rule checked: whatever arrives, the meter
answers with events and an IR reply or refusal; it never raises, and its
credit never goes up without an accepted token.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import atheris

with atheris.instrument_imports():
    from stsgas.meter import MemoryStateStore, Meter
    from stsgas.meter.demo import demo_meter_json
    from stsgas.meter.events import TokenAccepted

T0 = datetime(2026, 1, 1, tzinfo=UTC)
METER = demo_meter_json()  # a volume meter with an overdraft, a recharge limit and an alarm
KEYS = "0123456789*#C"


def one(data: bytes) -> None:
    """Feed one input sequence to a fresh meter."""
    fdp = atheris.FuzzedDataProvider(data)
    m = Meter.from_json(METER, store=MemoryStateStore(), now=T0)
    now = T0
    for _ in range(fdp.ConsumeIntInRange(1, 8)):
        now += timedelta(seconds=fdp.ConsumeIntInRange(0, 4000))
        before = m.credit
        what = fdp.ConsumeIntInRange(0, 2)
        if what == 0:
            events = m.receive_ir(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 220)), now)
            assert events.reply is not None  # every frame is answered
        elif what == 1:
            digits = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 24))
            events = m.enter_token(digits, now)
        else:
            events = m.press(KEYS[fdp.ConsumeIntInRange(0, len(KEYS) - 1)], now)
        if m.credit > before:
            assert any(isinstance(e, TokenAccepted) for e in events), "credit from nowhere"


if __name__ == "__main__":
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()
