"""Issue #7's journey: the whole console as a new operator meets it, in Chromium.

The console is started the way `make run` starts it (`manage.py run_console` on its own ports
and SQLite file: embedded Redis, the CAMS sandbox, an RQ worker and gunicorn, as subprocesses).
The demo admin logs in; creates an account pointing at the sandbox, a channel and a sender, and
points the sender's receipts at the channel's callback URL as an operator pastes it into CAMS;
designs a template and sees it approved; sends a message and watches it reach Read; uploads a
campaign CSV with bad rows, launches it, watches it complete and exports it; and finds every one
of those actions in the history. Then a viewer reads every page and is refused every action.

Each step saves a screenshot (in $E2E_SCREENSHOT_DIR, or the test's tmp dir); any console
error, page error or failed request in the browser fails the test (tests/e2e/conftest.py).
"""

import csv
import io
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import Page, expect

from camsconsole.roles import Role
from tests.e2e.test_messaging import settled
from tests.test_roles import EXPECTED
from tests.test_run_console import (  # noqa: F401 - the fixture is used by name
    ROOT,
    console_env,
    wait_for,
)

pytestmark = pytest.mark.e2e

ADMIN, ADMIN_PASSWORD = "admin", "cams-demo-admin"  # load_demo's documented demo login
VIEWER, VIEWER_PASSWORD = "vera-viewer", "journey-viewer-pw-1"
NUMBER = "6580007777"  # the journey's own sender, apart from the demo's 6580001111
USER = "6590004444"
GOOD = 20
VERBS = "main table tbody td:nth-child(4) code"  # the "What" column of the history


@dataclass
class RunningConsole:
    url: str
    sandbox: str
    database: Path
    log: Path


@pytest.fixture
def running_console(console_env: dict[str, str], tmp_path: Path) -> Iterator[RunningConsole]:  # noqa: F811
    """`make run`'s console (tests/test_run_console.py), with a quick sandbox and a viewer."""
    env = console_env | {
        "CAMS_SANDBOX_REVIEW_DELAY": "2",
        "CAMS_SANDBOX_SENT_DELAY": "0.2",
        "CAMS_SANDBOX_DELIVERED_DELAY": "0.3",
        "CAMS_SANDBOX_READ_DELAY": "0.5",
        "CAMPAIGN_UPLOAD_DIR": str(tmp_path / "uploads"),
        "JOURNEY_PW": VIEWER_PASSWORD,
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "create_user", VIEWER, "--role", "viewer", "--password-env", "JOURNEY_PW"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    log = tmp_path / "console.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [*manage, "run_console"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    url, sandbox = env["PUBLIC_BASE_URL"], env["CAMS_ENDPOINT"]
    try:
        assert wait_for(f"{url}/login/").status_code == 200, log.read_text()
        assert wait_for(f"{sandbox}/_sandbox/ledger").status_code == 200
        database = Path(env["DATABASE_URL"].removeprefix("sqlite:///"))
        yield RunningConsole(url, sandbox, database, log)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    text = log.read_text()
    assert process.returncode == 0, text[-5000:]
    assert "Traceback" not in text, text[-5000:]
    # The console's JSON request log: no request of the journey ended in a server error, and no
    # receipt-hook token was written out.
    statuses = [int(m) for m in re.findall(r'"status": (\d{3})', text)]
    assert statuses, text[-5000:]
    assert max(statuses) < 500, text[-5000:]
    assert not re.search(r"/hooks/cams/(?!\*\*\*)[^/\s\"]+/", text), text[-5000:]


class Steps:
    """Numbered full-page screenshots, one per step."""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page, self.folder, self.count = page, folder, 0

    def shot(self, step: str) -> None:
        self.count += 1
        self.page.screenshot(path=str(self.folder / f"{self.count:02d}-{step}.png"), full_page=True)


def log_in(page: Page, console: RunningConsole, username: str, password: str) -> None:
    page.goto(f"{console.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page.locator("nav")).to_contain_text(username)


def campaign_file(folder: Path) -> Path:
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


def pk_in(url: str) -> int:
    return int(url.rstrip("/").split("/")[-1])


def journey_objects(database: Path) -> dict[str, int]:
    """The primary keys of the journey's own objects, for the viewer's walk (read-only)."""
    latest = "SELECT max(id) FROM {}"
    queries: dict[str, tuple[str, tuple[str, ...]]] = {
        "sender": ("SELECT id FROM camsconsole_sender WHERE sender_id = ?", (NUMBER,)),
        "user": ("SELECT id FROM auth_user WHERE username = ?", (ADMIN,)),
        "message": ('SELECT max(id) FROM messaging_message WHERE "to" = ?', (USER,)),
    }
    for kind, table in (
        ("account", "camsconsole_account"),
        ("channel", "camsconsole_channel"),
        ("template", "templates_app_template"),
        ("variant", "templates_app_variant"),
        ("job", "templates_app_templatejob"),
        ("conversation", "messaging_conversation"),
        ("campaign", "messaging_campaign"),
        ("campaignimport", "messaging_campaignimport"),
    ):
        queries[kind] = (latest.format(table), ())
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        found = {kind: db.execute(*query).fetchone()[0] for kind, query in queries.items()}
    assert all(found.values()), found
    # The journey lifts no suppression; the refusal comes before the lookup all the same.
    return found | {"suppression": 1}


def url_for(name: str, objects: dict[str, int]) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return reverse(name, args=[objects[name.split("-")[0]]])


def test_a_new_operator_runs_the_whole_console_and_a_viewer_only_reads_it(
    running_console: RunningConsole, browser_page: Page, screenshots: Path, tmp_path: Path
) -> None:
    console, page = running_console, browser_page
    steps = Steps(page, screenshots)
    base = console.url

    # -- Log in as the demo admin.
    log_in(page, console, ADMIN, ADMIN_PASSWORD)
    steps.shot("logged-in")

    # -- An account pointing at the sandbox; its connection test passes.
    page.click("nav >> text=Accounts")
    page.click("text=New account")
    page.fill("[name=name]", "Journey CAMS")
    page.fill("[name=endpoint]", console.sandbox)
    page.fill("[name=access_key_id]", "LTAI5tDemoSandboxKey0001")
    page.fill("[name=access_key_secret]", "DemoSandboxSecret000000000000001")
    steps.shot("account-form")
    page.click("button:text('Save')")
    expect(page.locator("h1")).to_contain_text("Journey CAMS")
    page.click("button:text('Test connection')")
    expect(page.locator("#account-check")).to_contain_text("connection OK", timeout=20_000)
    steps.shot("account-connected")

    # -- A WhatsApp channel on it, and the channel's callback URL.
    page.click("text=Add channel")
    page.select_option("[name=channel_type]", "whatsapp")
    page.fill("[name=cust_space_id]", "journey-space")
    page.fill("[name=name]", "Journey shop")
    page.click("button:text('Save')")
    expect(page.locator("h1")).to_contain_text("Journey shop")
    callback_url = page.locator("input[aria-label='Callback URL']").input_value()
    assert callback_url.startswith(f"{base}/hooks/cams/")
    steps.shot("channel")

    # -- A sender on the channel; in CAMS the operator points its receipts (and the template
    # review notices, which CAMS sends to the account's callback) at the channel's URL.
    page.click("text=Add sender")
    page.fill("[name=sender_id]", NUMBER)
    page.fill("[name=display_name]", "Journey shop")
    page.click("button:text('Save')")
    expect(page.locator("h1")).to_contain_text(NUMBER)
    for body in ({"From": NUMBER, "url": callback_url}, {"url": callback_url}):
        sandbox_admin = f"{console.sandbox}/_sandbox/callbacks"
        requests.post(sandbox_admin, json=body, timeout=5).raise_for_status()
    steps.shot("sender")
    page.click("text=Journey shop")  # back to the channel, which lists the sender
    expect(page.locator("main")).to_contain_text(NUMBER)
    channel_pk = pk_in(page.url)

    # -- Design a template, submit it, see it approved.
    page.goto(f"{base}/templates/new/?channel={channel_pk}")
    page.fill("[name=name]", "journey_order")
    page.select_option("[name=category]", "UTILITY")
    page.locator('[data-path="Components[0].Text"]').fill(
        "Hi {{1}}, your order *{{2}}* is on its way."
    )
    page.locator('[data-path="Example.1"]').fill("Alice")
    page.locator('[data-path="Example.2"]').fill("ORD-1")
    preview = page.locator("#preview .tp-body")
    expect(preview).to_contain_text("Hi Alice, your order ORD-1 is on its way.")
    expect(page.locator("#check-summary")).to_have_text("Ready to submit.")
    steps.shot("template-design")
    page.click("#submit-button")
    expect(page.locator(".alert-success")).to_contain_text("sent it to CAMS for review")
    status = page.locator("#variant-status [data-testid=status]")
    expect(status).to_have_text("Approved", timeout=20_000)
    steps.shot("template-approved")

    # -- Send one message with it and watch it reach Read.
    page.click("nav >> text=Messages")
    page.click("text=Send a message")
    settled(page)
    page.select_option("[name=channel]", str(channel_pk))
    expect(page.locator("[name=var_1]")).to_be_visible()
    settled(page)
    page.fill("[name=to]", USER)
    page.fill("[name=var_1]", "Alice")
    page.fill("[name=var_2]", "ORD-42")
    expect(page.locator("#preview .tp-body")).to_have_text(
        "Hi Alice, your order ORD-42 is on its way."
    )
    steps.shot("message-form")
    page.click("#send-button")
    expect(page.locator(".alert-success")).to_contain_text("Queued message")
    state = page.locator("#message-status [data-testid=state]").first
    expect(state).to_have_text("Read", timeout=20_000)
    timeline = page.locator("[data-testid=timeline]")
    for step in ("Queued", "Accepted", "Sent", "Delivered", "Read"):
        expect(timeline).to_contain_text(step)
    steps.shot("message-read")

    # The customer answers (through the sandbox): a conversation the viewer will read later.
    requests.post(
        f"{console.sandbox}/_sandbox/inbound",
        json={"From": USER, "To": NUMBER, "Message": "Thanks, see you soon"},
        timeout=5,
    ).raise_for_status()
    page.click("nav >> text=Conversations")
    ours = page.locator("#conversation-sender option", has_text=NUMBER).get_attribute("value")
    page.select_option("#conversation-sender", ours)
    page.click("button:text('Show')")
    expect(page.locator("#conversation-sender")).to_have_value(ours or "")
    row = page.locator("#conversations tbody tr", has_text="Thanks, see you soon")
    for _ in range(40):  # the list does not refresh itself
        if row.count():
            break
        page.wait_for_timeout(250)
        page.reload()
    expect(row).to_have_count(1)
    steps.shot("conversation")

    # -- A campaign: CSV with bad rows, mapping, report of the rows left out, launch, export.
    page.click("nav >> text=Campaigns")
    page.click("text=New campaign")
    settled(page)
    page.fill("[name=name]", "Journey sale")
    page.select_option("[name=channel]", str(channel_pk))
    settled(page)
    expect(page.locator("[name=sender] option")).to_have_count(2)  # the sender and "---------"
    expect(page.locator("[name=variant] option")).to_have_count(2)
    page.select_option("[name=sender]", index=1)
    page.select_option("[name=variant]", index=1)
    page.fill("[name=batch_size]", "100")
    steps.shot("campaign-form")
    page.click("#campaign-form button:text('Save')")
    expect(page.locator("h1")).to_have_text("Journey sale")

    page.set_input_files("input[name=file]", str(campaign_file(tmp_path)))
    page.click("#upload button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Map the columns of customers.csv")
    expect(page.locator("[name=recipient]")).to_have_value("0")
    expect(page.locator("[name=var_1]")).to_have_value("1")
    expect(page.locator("[name=var_2]")).to_have_value("2")
    steps.shot("campaign-mapping")
    page.click("#mapping-form button[type=submit]")
    expect(page.locator("[data-testid=import-state]")).to_have_text("Imported", timeout=20_000)
    counts = page.locator("[data-testid=import-counts]")
    expect(counts.locator("[data-count=valid]")).to_have_text(str(GOOD))
    expect(counts.locator("[data-count=invalid]")).to_have_text("3")
    expect(counts.locator("[data-count=duplicates]")).to_have_text("1")
    expect(page.locator("#preflight")).to_contain_text("Approved")
    steps.shot("campaign-imported")
    with page.expect_download() as downloading:
        page.click("#report-link")
    report = list(csv.reader(io.StringIO(Path(downloading.value.path()).read_text("utf-8-sig"))))
    assert report[0] == ["Row", "Value", "Reason"]
    assert len(report) == 5

    page.click("#launch-button")
    expect(page.locator(".alert-success")).to_contain_text("Launched")
    expect(page.locator("[data-testid=campaign-status]")).to_have_text("Completed", timeout=30_000)
    expect(page.locator("[data-testid=progress-text]")).to_have_text(
        f"{GOOD} of {GOOD} recipients done"
    )
    expect(page.locator("#state-counts [data-state=read] strong")).to_have_text(
        str(GOOD), timeout=30_000
    )
    steps.shot("campaign-completed")
    with page.expect_download() as downloading:
        page.click("#export-link")
    exported = Path(downloading.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0][:5] == ["To", "{{1}}", "{{2}}", "Payload", "State"]
    assert len(rows) == GOOD + 1
    assert {row[4] for row in rows[1:]} == {"read"}

    # -- Every one of those actions is in the history, by the admin.
    page.click("nav >> text=History")
    page.fill("[name=actor]", ADMIN)
    page.click("button:text('Filter')")
    verbs = page.locator(VERBS)
    expect(verbs.first).to_be_visible()
    seen = set(verbs.all_inner_texts())
    wanted = {
        "auth.login",
        "account.create",
        "account.test_connection",
        "channel.create",
        "sender.create",
        "template.create",
        "template.submit",
        "message.send",
        "campaign.create",
        "campaign.upload",
        "campaign.launch",
        "campaign.import",
        "campaign.import_report.export",
        "campaign.export",
    }
    assert wanted <= seen, wanted - seen
    steps.shot("history")
    page.fill("[name=verb]", "campaign.launch")
    page.click("button:text('Filter')")
    expect(page.locator("main table tbody tr")).to_have_count(1)
    expect(page.locator("main table tbody tr")).to_contain_text("Journey sale")
    steps.shot("history-filtered")

    # -- The viewer: every page readable, every action refused.
    page.context.clear_cookies()
    log_in(page, console, VIEWER, VIEWER_PASSWORD)
    steps.shot("viewer-home")
    objects = journey_objects(console.database)
    refused, read = [], []
    for name, (least, method, _status) in sorted(EXPECTED.items()):
        url = base + url_for(name, objects)
        if least == Role.VIEWER:
            response = page.request.get(url, max_redirects=0)
            assert response.status == 200, (name, response.status)
            if "<html" in response.text()[:500].lower():
                read.append((name, url))  # a whole page, not an htmx piece or a download
            continue
        if method == "get":
            response = page.request.get(url, max_redirects=0)
        else:
            token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
            response = page.request.post(
                url, form={"active": "1"}, headers={"X-CSRFToken": token}, max_redirects=0
            )
        assert response.status == 403, (name, method, response.status)
        assert "CSRF verification failed" not in response.text(), (
            name
        )  # refused for the role, not the token
        refused.append(name)
    for name, url in read:
        page.goto(url)
        steps.shot(f"viewer-{name}")
        expect(page.locator("nav.navbar")).to_contain_text(VIEWER)
    assert len(refused) > 30, refused
    assert len(read) > 15, read
    # Nothing the viewer tried left a mark but its login and the history export it may do.
    page.goto(f"{base}/history/?actor={VIEWER}")
    expect(page.locator(VERBS)).to_have_text(["history.export", "auth.login"])
    steps.shot("viewer-own-history")
