"""Hand a receipt's bytes to a network printer (raw TCP, the "port 9100" protocol).

A printer that cannot be reached or stops taking data raises
:class:`PrinterError` with a sentence for the operator; the sale itself is
never touched by printing (it is read, not written).
"""

from __future__ import annotations

import socket

from stsgas.vending.printing.settings import address


class PrinterError(Exception):
    """The printer could not be reached or did not take the whole receipt."""


def send_to_printer(data: bytes, printer: str, *, timeout: float = 5.0) -> None:
    """Write ``data`` to the printer at ``host:port`` and close the connection."""
    try:
        host, port = address(printer)
    except ValueError as exc:
        raise PrinterError(str(exc)) from exc
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise PrinterError(f"the printer at {printer} did not take the receipt: {reason}") from exc
