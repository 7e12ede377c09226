"""The fixed receipt of the golden-file tests (tests/data/escpos/receipt.json)."""

from __future__ import annotations

import json
from pathlib import Path

from stsgas.vending.printing import PrintedReceipt
from stsgas.vending.sales.receipts import Receipt

DATA = Path(__file__).resolve().parents[2] / "data" / "escpos"
GOLDEN = DATA / "receipt.bin"


def fixed_receipt() -> PrintedReceipt:
    """A key change sale with change, a monthly fixed charge, debt and two tariff steps."""
    doc = json.loads((DATA / "receipt.json").read_text(encoding="utf-8"))
    return PrintedReceipt(receipt=Receipt.from_json(doc["receipt"]), **doc["printed"])
