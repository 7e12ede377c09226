"""The receipt page's "Print receipt": the sale's ESC/POS bytes sent to the network printer.

The bytes come from the API (``GET /api/v1/sales/{id}/receipt.escpos``, so its
per-object check holds); printing only reads the sale, so a printer that is
off, unplugged or not set leaves it exactly as it was, and the page says so.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from stsgas.vending.apiclient import ApiProblem, VendingApi
from stsgas.vending.printing import PrinterError, send_to_printer
from stsgas.vending.printing.settings import load
from stsgas.vending.web import paths
from stsgas.vending.web.forms import STALE_RECEIPT, signed_form
from stsgas.vending.web.pages import receipt_page
from stsgas.vending.web.render import error_page

router = APIRouter(prefix="/console", include_in_schema=False)


async def _print(data: bytes) -> dict[str, str]:
    """Send the bytes; the flash the receipt page shows."""
    settings = load()  # the bytes were made under the same settings, so they are sound
    if settings.printer is None:
        return {
            "kind": "error",
            "text": "No receipt printer is set (STSGAS_RECEIPT_PRINTER, host:port). "
            "Nothing was printed; the sale is unchanged.",
        }
    try:
        await run_in_threadpool(
            send_to_printer, data, settings.printer, timeout=settings.timeout_seconds
        )
    except PrinterError as exc:
        return {
            "kind": "error",
            "text": f"Not printed: {exc}. The sale is unchanged: check the printer "
            "and press Print receipt again.",
        }
    return {"kind": "ok", "text": f"Receipt sent to the printer at {settings.printer}."}


@router.post("/sales/{sale_id}/print", response_class=HTMLResponse)
async def print_receipt(
    request: Request, sale_id: int, csrf: Annotated[str, Form()] = ""
) -> Response:
    """Print the sale's receipt on the network printer and show the receipt again."""
    me = await signed_form(request, "sales", csrf, stale=STALE_RECEIPT)
    api = VendingApi(request.app, me.token)
    try:
        sale = await api.get(paths.SALE.format(id=sale_id))
        data = (await api.request("GET", paths.RECEIPT_ESCPOS.format(id=sale_id))).content
    except ApiProblem as exc:
        return error_page(request, me, "sales", "Receipt not printed", exc)
    return receipt_page(request, me, sale_id, sale, flash=await _print(data))
