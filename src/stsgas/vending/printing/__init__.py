"""Printed receipts: a sale's receipt as ESC/POS bytes for a thermal printer.

``layout`` turns a typed :class:`~stsgas.vending.sales.receipts.Receipt` (with
the utility's, vendor's and customer's names) into printer commands; ``sale``
reads what a receipt needs from the database; ``send`` writes the bytes to a
network printer. The POS sends the same bytes to a Bluetooth printer itself.
"""

from stsgas.vending.printing.layout import PrintedReceipt, escpos_bytes
from stsgas.vending.printing.send import PrinterError, send_to_printer
from stsgas.vending.printing.settings import PrintSettings

__all__ = ["PrintSettings", "PrintedReceipt", "PrinterError", "escpos_bytes", "send_to_printer"]
