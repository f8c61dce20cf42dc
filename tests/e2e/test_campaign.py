"""An operator runs a campaign in Chromium: creates it, uploads a CSV with some bad rows, maps
the columns, downloads the report of rows left out, launches, watches the progress reach
completion while receipts arrive, and exports the results.

Everything is real but the operator: the live console, the CAMS sandbox pushing receipts to the
console's webhook, and an RQ worker on the receipts, dispatch and default queues (the messaging
browser test's fixture).
"""

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from messaging.campaigns.models import Campaign, Recipient
from messaging.models import State
from tests.e2e.test_messaging import (  # noqa: F401 - the fixture is used by name
    Console,
    console,
    log_in,
    settled,
)

pytestmark = pytest.mark.e2e

GOOD = 250


@pytest.fixture(autouse=True)
def _one_lane(settings: Any, tmp_path: Path) -> None:
    # One lane per dispatch job: with SQLite in memory, the worker thread shares the test's
    # connection and must not open others.
    settings.CAMPAIGN_MASS_THREADS = 1
    settings.CAMPAIGN_SINGLE_THREADS = 1
    settings.CAMPAIGN_DISPATCH_JOBS = 1
    settings.CAMPAIGN_UPLOAD_DIR = tmp_path / "uploads"


def recipients_file(folder: Path) -> Path:
    rows = [["Mobile", "First name", "Order"]]
    rows += [[f"+65 9{n:03d} {n:04d}", f"Customer {n}", f"ORD-{n}"] for n in range(GOOD)]
    rows += [
        ["not a number", "Mallory", "ORD-X"],
        ["=1+2", "Eve", "ORD-Y"],
        ["+65 9000 0000", "Again", "ORD-0b"],  # the first row's number again
        ["+65 9001 0001", "", "ORD-Z"],  # an empty variable
    ]
    path = folder / "customers.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    return path


def test_it_runs_a_campaign_from_csv_to_read_receipts_and_exports_it(
    console: Console,  # noqa: F811 - the fixture imported above
    browser_page: Page,
    screenshots: Path,
    tmp_path: Path,
) -> None:
    page = browser_page
    log_in(page, console)
    page.click("nav >> text=Campaigns")
    page.click("text=New campaign")
    settled(page)
    page.fill("[name=name]", "Spring sale")
    page.select_option("[name=channel]", str(console.sender.channel_id))
    settled(page)
    expect(page.locator("[name=sender] option")).to_have_count(2)  # the sender and "---------"
    page.select_option("[name=sender]", str(console.sender.pk))
    page.select_option("[name=variant]", str(console.variant.pk))
    page.fill("[name=batch_size]", "100")
    page.click("button:text('Save')")
    page.screenshot(path=str(screenshots / "campaign-form.png"), full_page=True)
    expect(page.locator("h1")).to_have_text("Spring sale")
    campaign = Campaign.objects.get()

    page.set_input_files("input[name=file]", str(recipients_file(tmp_path)))
    page.click("#upload button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Map the columns of customers.csv")
    expect(page.locator("#sample-rows")).to_contain_text("Customer 0")
    expect(page.locator("[name=recipient]")).to_have_value("0")
    expect(page.locator("[name=var_1]")).to_have_value("1")
    expect(page.locator("[name=var_2]")).to_have_value("2")
    page.screenshot(path=str(screenshots / "campaign-mapping.png"), full_page=True)
    page.click("#mapping-form button[type=submit]")

    state = page.locator("[data-testid=import-state]")
    expect(state).to_have_text("Imported", timeout=20_000)
    counts = page.locator("[data-testid=import-counts]")
    expect(counts.locator("[data-count=valid]")).to_have_text(str(GOOD))
    expect(counts.locator("[data-count=invalid]")).to_have_text("3")
    expect(counts.locator("[data-count=duplicates]")).to_have_text("1")
    expect(page.locator("#preflight")).to_contain_text("Approved")
    expect(page.locator("#samples .tp-body").first).to_have_text(
        "Hi Customer 0, your order ORD-0 is on its way."
    )
    expect(page.locator("[data-testid=duration]")).to_be_visible()
    page.screenshot(path=str(screenshots / "campaign-preflight.png"), full_page=True)

    with page.expect_download() as downloading:
        page.click("#report-link")
    report = Path(downloading.value.path()).read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(report)))
    assert lines[0] == ["Row", "Value", "Reason"]
    assert [str(GOOD + 3), "'=1+2", "not a phone number"] in lines  # formula-safe
    assert len(lines) == 5

    page.click("#launch-button")
    expect(page.locator(".alert-success")).to_contain_text("Launched")
    status = page.locator("[data-testid=campaign-status]")
    expect(status).to_have_text("Completed", timeout=30_000)
    expect(page.locator("[data-testid=progress-text]")).to_have_text(
        f"{GOOD} of {GOOD} recipients done"
    )
    # Receipts keep arriving after the last call: the page follows them to Read.
    expect(page.locator("#state-counts [data-state=read] strong")).to_have_text(
        str(GOOD), timeout=30_000
    )
    page.wait_for_function(
        "() => Chart.getChart('funnel-chart').data.datasets[0].data[3] === " + str(GOOD),
        timeout=15_000,
    )
    page.screenshot(path=str(screenshots / "campaign-completed.png"), full_page=True)
    assert Recipient.objects.filter(campaign=campaign, state=State.READ).count() == GOOD
    assert console.sandbox.ledger()["duplicates"]["by_to"]["extra"] == 0

    with page.expect_download() as downloading:
        page.click("#export-link")
    exported = Path(downloading.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0][:5] == ["To", "{{1}}", "{{2}}", "Payload", "State"]
    assert len(rows) == GOOD + 1
    assert {row[4] for row in rows[1:]} == {"read"}
    assert all(re.fullmatch(r"[0-9a-f-]{36}", row[5]) for row in rows[1:])  # TaskId
    history = page.locator("text=Full history of this campaign")
    expect(history).to_be_visible()
    page.click("text=Full history of this campaign")
    for verb in ("campaign.create", "campaign.upload", "campaign.import", "campaign.launch"):
        expect(page.locator("main")).to_contain_text(verb)
    expect(page.locator("main")).to_contain_text("campaign.export")
