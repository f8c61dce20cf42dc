"""An operator sends a template message in Chromium and watches it reach Read through the
sandbox's receipts, replies to a user's message inside the 24-hour window, and is refused
outside it.

Everything is real but the browser's operator: the live console, the CAMS sandbox pushing its
receipts to the console's webhook, and an RQ worker working the receipts, dispatch and default
queues (with due scheduled jobs moved as `--with-scheduler` does).
"""

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connections
from django.utils import timezone
from playwright.sync_api import Page, expect

from camsconsole.cams.client import CamsClient
from camsconsole.cams.sandbox import SandboxHandle, running_sandbox
from camsconsole.models import Account, Channel, ChannelType, Sender
from camsconsole.roles import Role
from messaging import queues
from messaging.models import Conversation, Message, State
from templates_app.models import Status, Template, Variant
from tests.cams.conftest import FAST
from tests.conftest import PASSWORD, make_user
from tests.templates_app import worker

pytestmark = pytest.mark.e2e

NUMBER = "6580001111"
USER = "6590002222"


class QueuesWorker(threading.Thread):
    """An RQ worker in this process on the messaging queues and the default one (like
    tests/e2e/conftest.WorkerThread, which works one queue)."""

    def __init__(self) -> None:
        super().__init__(name="rq-messaging-worker", daemon=True)
        self.queues = [queues.queue(name) for name in (queues.RECEIPTS, queues.DISPATCH)]
        self.queues.append(queues.queue("default"))
        self.stopping = threading.Event()
        self.shared = {
            conn.alias: conn
            for conn in connections.all()
            if conn.vendor == "sqlite" and conn.is_in_memory_db()
        }

    def run(self) -> None:
        for alias, conn in self.shared.items():
            connections[alias] = conn
        try:
            while not self.stopping.is_set():
                for queue in self.queues:
                    worker.move_due(queue)
                busy = any(queue.count for queue in self.queues)
                if not busy or not worker.InlineWorker(
                    self.queues, connection=self.queues[0].connection
                ).work(burst=True):
                    self.stopping.wait(0.1)
        finally:
            if not self.shared:
                connections.close_all()

    def start(self) -> None:
        for conn in self.shared.values():
            conn.inc_thread_sharing()
        super().start()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)
        for conn in self.shared.values():
            conn.dec_thread_sharing()


@dataclass
class Console:
    url: str
    sandbox: SandboxHandle
    sender: Sender
    variant: Variant


def forget(queue: Any) -> None:
    queue.empty()
    for registry in (queue.scheduled_job_registry, queue.failed_job_registry):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)


@pytest.fixture
def console(live_server: Any) -> Iterator[Console]:
    for name in (queues.RECEIPTS, queues.DISPATCH, "default"):
        forget(queues.queue(name))
    queues.clear_doorbell()
    with running_sandbox(**FAST) as sandbox:
        account = Account(name="Sandbox", endpoint=sandbox.url, access_key_id=sandbox.access_key_id)
        account.set_secret(sandbox.access_key_secret)
        account.save()
        channel = Channel.objects.create(
            account=account, channel_type=ChannelType.WHATSAPP, cust_space_id="s1", name="Shop"
        )
        sender = Sender.objects.create(channel=channel, sender_id=NUMBER, display_name="Shop")
        # What an operator does in CAMS: point the number's receipts at the channel's hook.
        hook = live_server.url + f"/hooks/cams/{channel.hook_token}/"
        sandbox.set_callback(hook, sender=NUMBER)
        sandbox.set_callback(hook)
        variant = approved_template(sandbox, channel)
        thread = QueuesWorker()
        thread.start()
        try:
            yield Console(live_server.url, sandbox, sender, variant)
        finally:
            thread.stop()
    failed = [
        job_id
        for name in (queues.RECEIPTS, queues.DISPATCH, "default")
        for job_id in queues.queue(name).failed_job_registry.get_job_ids()
    ]
    assert not failed


def approved_template(sandbox: SandboxHandle, channel: Channel) -> Variant:
    components: list[dict[str, Any]] = [
        {"Type": "BODY", "Text": "Hi {{1}}, your order {{2}} is on its way."},
        {"Type": "BUTTONS", "Buttons": [{"Type": "QUICK_REPLY", "Text": "Change address"}]},
    ]
    with CamsClient(
        access_key_id=sandbox.access_key_id,
        access_key_secret=sandbox.access_key_secret,
        endpoint=sandbox.url,
    ) as cams:
        ref = cams.create_template(
            template_type="WHATSAPP",
            name="order_shipped",
            language="en",
            category="UTILITY",
            components=components,
            example={"1": "Alice", "2": "ORD-1"},
        )
    template = Template.objects.create(channel=channel, name="order_shipped", category="UTILITY")
    return Variant.objects.create(
        template=template,
        language="en",
        components=components,
        example={"1": "Alice", "2": "ORD-1"},
        template_code=ref.template_code,
        status=Status.PASS,
    )


def settled(page: Page) -> None:
    """Wait until the page's scripts run and no htmx request or swap is under way, so that the
    next change lands on elements htmx already watches."""
    page.wait_for_load_state()
    page.wait_for_function(
        "() => window.htmx && !document.querySelector("
        "'.htmx-request, .htmx-settling, .htmx-swapping, .htmx-added')"
    )


def log_in(page: Page, console: Console) -> None:
    Group.objects.get_or_create(name=Role.OPERATOR.group_name)  # after another test's flush
    make_user("olivia-operator", Role.OPERATOR)
    page.goto(f"{console.url}/login/")
    page.fill("input[name=username]", "olivia-operator")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("nav")).to_contain_text("olivia-operator")


def test_it_sends_a_template_follows_it_to_read_and_replies_within_the_window(
    console: Console, browser_page: Page, screenshots: Path
) -> None:
    page = browser_page
    log_in(page, console)
    page.click("nav >> text=Messages")
    page.click("text=Send a message")
    expect(page.locator("h1")).to_have_text("Send a message")
    settled(page)

    # Choosing the channel brings its one sender, its one approved template and its language.
    page.select_option("[name=channel]", str(console.sender.channel_id))
    expect(page.locator("[name=sender]")).to_have_value(str(console.sender.pk))
    expect(page.locator("[name=var_1]")).to_be_visible()
    settled(page)
    page.fill("[name=to]", USER)
    expect(page.locator("[data-testid=window]")).to_contain_text("has not written")
    preview = page.locator("#preview .tp-body")
    expect(preview).to_have_text("Hi {{1}}, your order {{2}} is on its way.")
    page.fill("[name=var_1]", "<b>Alice</b>")
    page.fill("[name=var_2]", "ORD-42")
    expect(preview).to_have_text("Hi <b>Alice</b>, your order ORD-42 is on its way.")
    expect(preview.locator("b")).to_have_count(0)  # typed values are text, never markup
    page.fill("[name=payload_0]", "change-address-ORD-42")
    page.screenshot(path=str(screenshots / "send-template.png"), full_page=True)
    page.click("#send-button")

    expect(page.locator(".alert-success")).to_contain_text("Queued message")
    state = page.locator("#message-status [data-testid=state]").first
    expect(state).to_have_text("Read", timeout=20_000)
    timeline = page.locator("[data-testid=timeline]")
    for step in ("Queued", "Sending", "Accepted", "Sent", "Delivered", "Read"):
        expect(timeline).to_contain_text(step)
    message = Message.objects.get()
    expect(page.locator("[data-testid=request]")).to_contain_text(message.task_id)
    expect(page.locator("[data-testid=response]")).to_contain_text(message.message_id)
    page.screenshot(path=str(screenshots / "message-read.png"), full_page=True)

    # The user writes back: the window opens and the conversation shows it.
    console.sandbox.inbound(user=USER, business_number=NUMBER, message="Can I change it?")
    page.click("nav >> text=Conversations")
    row = page.locator("#conversations tbody tr").first
    for _ in range(40):
        if "Can I change it?" in (row.text_content() or ""):
            break
        page.wait_for_timeout(250)
        page.reload()
    expect(row).to_contain_text("Can I change it?")
    expect(row.locator("[data-testid=window]")).to_contain_text("open until")
    row.locator("a").first.click()
    page.fill("#reply-form [name=text]", "Yes: just reply with the new address.")
    page.click("#reply-form button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("Reply queued")
    reply = page.locator("[data-testid=outbound]").last
    expect(reply).to_contain_text("Yes: just reply with the new address.")
    for _ in range(40):
        if Message.objects.filter(kind="message", state=State.READ).exists():
            break
        page.wait_for_timeout(250)
    page.reload()
    expect(page.locator("[data-testid=outbound]").last.locator("[data-testid=state]")).to_have_text(
        "Read"
    )
    page.screenshot(path=str(screenshots / "conversation-reply.png"), full_page=True)

    # A day later the window has closed: no reply box, and free-form is refused at its field.
    Conversation.objects.update(last_inbound_at=timezone.now() - timedelta(hours=25))
    page.reload()
    expect(page.locator("#reply-form")).to_have_count(0)
    expect(page.locator("#reply-closed")).to_contain_text("window is closed")
    page.click("#reply-closed >> text=Send a template")
    expect(page.locator("[name=to]")).to_have_value(USER)
    settled(page)
    page.check("[name=kind][value=message]")
    expect(page.locator("[name=message_type]")).to_be_visible()
    settled(page)
    page.select_option("[name=message_type]", "text")
    expect(page.locator("[name=content_text]")).to_be_visible()
    settled(page)
    page.fill("[name=content_text]", "Are you still there?")
    page.click("#send-button")
    error = page.locator('[data-error-for="kind"]')
    expect(error).to_contain_text(re.compile("window closed at .*only a template"))
    expect(page.locator("[data-testid=window]")).to_contain_text("window closed")
    page.screenshot(path=str(screenshots / "refused-outside-window.png"), full_page=True)
    assert Message.objects.count() == 2
