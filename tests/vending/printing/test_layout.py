"""The printed receipt's ESC/POS bytes: the same bytes as the golden file, and on them
every name, amount and token a customer relies on."""

from __future__ import annotations

from dataclasses import replace

from stsgas.vending.printing import escpos_bytes
from tests.vending.printing.receipt import GOLDEN, fixed_receipt

QR_STORE = b"\x1d(k"  # GS ( k: the printer's own QR code commands
CUT = b"\x1dV\x00"


def test_bytes_equal_the_golden_file() -> None:
    """A fixed receipt makes exactly the bytes in tests/data/escpos/receipt.bin."""
    assert escpos_bytes(fixed_receipt()) == GOLDEN.read_bytes()


def test_receipt_names_every_party_line_and_token() -> None:
    """Utility, vendor, masked customer, the currency on every amount, each itemised
    line, and the tokens grouped 4-4-4-4-4 in entry order (key change first)."""
    data = escpos_bytes(fixed_receipt())
    text = data.decode("latin-1")
    lines = set(text.split("\n"))
    for label, value in (
        ("Customer", "A** L*******"),
        ("Meter", "01234567897"),
        ("Currency", "TZS"),
        ("Amount tendered", "TZS 20.00"),
        ("Amount paid", "TZS 19.84"),
        ("Fixed charge (1 month)", "TZS 1.00"),
        ("Debt recovered", "TZS 1.80"),
        ("Tax", "TZS 2.21"),
        ("Gas", "TZS 14.83"),
        ("Credit", "9.8 m3"),
        ("Change", "TZS 0.16"),
    ):
        assert label + " " * (32 - len(label) - len(value)) + value in lines, label
    assert "Dar Gas Utility" in text
    assert "Main Street Kiosk" in text
    assert "Tariff step\n         5.000 m3 at TZS 1.50/m3\n" in text
    order = [text.index(t) for t in ("1111 2222", "6666 7777", "5678 9012 3456 7890 1234")]
    assert order == sorted(order)
    assert text.index("1. Key change token 1") < text.index("3. Credit token")
    assert QR_STORE + b"\x17\x001P0" + b"56789012345678901234" in data
    assert data.endswith(CUT)


def test_receipt_without_qr_or_currency() -> None:
    """The QR code is optional; with no currency set the amounts stand alone."""
    doc = replace(fixed_receipt(), qr=False, currency="")
    data = escpos_bytes(doc)
    assert QR_STORE not in data
    assert b"Amount paid" + b" " * 16 + b"19.84\n" in data
