"""Printing to a network printer: a real TCP listener receives exactly the golden bytes;
a printer that is not there is a clear PrinterError."""

from __future__ import annotations

import pytest

from stsgas.vending.printing import PrinterError, escpos_bytes, send_to_printer
from stsgas.vending.printing.settings import BadPrintSetting, load
from tests.vending.printing.listener import closed_port, fake_printer
from tests.vending.printing.receipt import GOLDEN, fixed_receipt


def test_network_printer_receives_the_golden_bytes() -> None:
    """The bytes the printer's socket receives are the receipt, whole and unchanged."""
    with fake_printer() as printer:
        send_to_printer(escpos_bytes(fixed_receipt()), printer.address, timeout=5)
        assert printer.done.wait(5)
    assert printer.jobs == [GOLDEN.read_bytes()]


def test_unreachable_printer_is_a_printer_error() -> None:
    """Nothing listening: PrinterError naming the printer."""
    where = closed_port()
    with pytest.raises(PrinterError, match=f"the printer at {where} did not take the receipt"):
        send_to_printer(b"\x1b@", where, timeout=2)


@pytest.mark.parametrize("bad", ["printer", "host:", ":9100", "host:99999", "host:port"])
def test_printer_must_be_host_and_port(bad: str) -> None:
    """A printer that is no host:port is a PrinterError saying what it should be."""
    with pytest.raises(PrinterError, match="a printer is host:port"):
        send_to_printer(b"\x1b@", bad, timeout=1)


def test_a_bad_print_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """A setting of the wrong shape is BadPrintSetting (503 bad_print_setting) naming it."""
    monkeypatch.setenv("STSGAS_RECEIPT_COLUMNS", "7")
    with pytest.raises(BadPrintSetting, match="bad setting STSGAS_RECEIPT_COLUMNS") as caught:
        load()
    assert (caught.value.status_code, caught.value.code) == (503, "bad_print_setting")
