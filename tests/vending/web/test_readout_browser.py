"""A supervisor in chromium (Playwright, real uvicorn, both backends): uploads a meter's
readout on its page, sees the server-drawn charts and the visit flag, marks it visited."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.vending.chromium import browser, new_page, sign_in  # noqa: F401  (fixtures)
from tests.vending.readouts.office import DATA, Office
from tests.vending.test_browser import base_url  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def test_a_supervisor_uploads_a_readout_sees_the_charts_and_marks_the_meter_visited(
    new_page: Callable[[], Page],  # noqa: F811
    office: Office,
) -> None:
    """The ten-year file: 120 monthly bars, 336 hourly bars, six events two of which need
    a visit; the Visits page lists the meter; "Mark visited" clears the flag and the list."""
    page = new_page()
    csp: list[str] = []  # inline SVG must need no inline style or script
    page.on("console", lambda m: csp.append(m.text) if "Content Security" in m.text else None)
    sign_in(page, "shopsuper")
    page.get_by_role("link", name="Meters", exact=True).click()
    page.get_by_role("link", name=office.volume_pan).click()
    expect(page.locator("#last-readout")).to_have_text("No readout uploaded yet.")
    page.get_by_label("Readout file (stsgas-readout/1, JSON or CSV)").set_input_files(
        DATA / "office-120m.json"
    )
    page.get_by_role("button", name="Upload readout").click()
    expect(page.get_by_role("status")).to_have_text("Readout uploaded and merged.")
    expect(page.locator("#last-readout")).to_contain_text("Last read 2026-12-05 07:00 UTC")
    expect(page.locator("#monthly-chart svg rect.bar")).to_have_count(120)
    expect(page.locator("#hourly-chart svg rect.bar")).to_have_count(336)
    expect(page.locator("#events-chart svg circle")).to_have_count(6)
    expect(page.locator("#events-chart svg circle.alert")).to_have_count(2)
    expect(page.get_by_role("img", name="Gas used per month, 120 months")).to_be_visible()
    flag = page.locator("#visit-flag")
    expect(flag).to_contain_text("Magnetic interference")
    expect(flag).to_contain_text("Battery low")
    expect(page.locator("#settings-as-read")).to_contain_text("Africa/Nairobi")
    page.get_by_role("link", name="Visits").click()
    expect(page.locator(f'tr[data-meter="{office.volume_pan}"]')).to_contain_text(
        "Battery low, Magnetic interference"
    )
    page.get_by_role("link", name=office.volume_pan).click()
    page.get_by_label("What was found or done").fill("magnet removed, battery swapped")
    page.get_by_role("button", name="Mark visited").click()
    expect(page.get_by_role("status")).to_have_text("Visit recorded; the visit flag is cleared.")
    expect(page.locator("#visit-flag")).to_have_count(0)
    expect(page.locator("#events-chart svg circle.alert")).to_have_count(0)
    page.get_by_role("link", name="Visits").click()
    expect(page.get_by_role("table", name="Meters to visit")).to_contain_text(
        "No meter needs a visit."
    )
    assert csp == []
