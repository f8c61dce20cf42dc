"""The ledger of accepted sends, and the sandbox's own /_sandbox/ endpoints."""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

import pytest
import requests

from camsconsole.cams.client import CamsClient
from camsconsole.cams.errors import CamsApiError
from camsconsole.cams.sandbox import SandboxHandle
from camsconsole.cams.sandbox.admin import is_loopback
from camsconsole.cams.sandbox.ledger import DELIVERED, READ, SENT, Descriptor, Ledger
from tests.cams.conftest import SENDER, USER, template_send

DESCRIPTOR = Descriptor("key", "whatsapp", SENDER, "template", "TEMPLATE", "code", "name", "en")


def mass(client: CamsClient, template: str, tos: list[str], task_id: str | None = None) -> str:
    return client.send_mass_message(
        channel_type="whatsapp",
        from_=SENDER,
        language="en",
        template_code=template,
        task_id=task_id,
        sender_list=[{"To": to} for to in tos],
    ).group_message_id


def test_it_counts_accepted_sends(
    sandbox: SandboxHandle, client: CamsClient, approved_template: str
) -> None:
    sandbox.configure(receipts=False)  # statuses stay Accepted however slow this machine is
    client.call("SendChatappMessage", template_send(approved_template))
    mass(client, approved_template, ["6590000001", "6590000002", "6590000003"])
    with pytest.raises(CamsApiError):
        client.call("SendChatappMessage", template_send(approved_template, To="12"))
    report = sandbox.ledger()
    assert report["messages"] == 4
    assert report["send_calls"] == {"SendChatappMessage": 1, "SendChatappMassMessage": 1}
    assert report["statuses"]["Accepted"] == 4
    send = report["operations"]["SendChatappMessage"]
    assert (send["accepted"], send["ok"], send["throttled"]) == (2, 1, 0)
    assert send["errors"] == {"InvalidParameter.PhoneNumberError": 1}
    assert report["rate"]["max_messages_per_second"] >= 1
    assert sum(row[1] for row in report["rate"]["series"]) == 4
    assert sum(row[2] for row in report["rate"]["series"]) == 2


def test_it_counts_duplicates_per_recipient_and_task(
    sandbox: SandboxHandle, client: CamsClient, approved_template: str
) -> None:
    for _ in range(3):
        client.call("SendChatappMessage", template_send(approved_template, TaskId="row-1"))
    client.call("SendChatappMessage", template_send(approved_template, TaskId="row-2"))
    # Without a TaskId a send is never a (To, TaskId) duplicate, but still one more for the To.
    client.call("SendChatappMessage", template_send(approved_template))
    mass(client, approved_template, ["6590000001", "6590000001"], task_id="job-1")
    duplicates = sandbox.ledger()["duplicates"]
    by_task = duplicates["by_to_task"]
    assert (by_task["keys"], by_task["extra"]) == (2, 3)
    assert {(d["To"], d["count"]) for d in by_task["top"]} == {(USER, 3), ("6590000001", 2)}
    by_to = duplicates["by_to"]
    assert (by_to["keys"], by_to["extra"]) == (2, 5)
    assert by_to["top"][0] == {"To": USER, "count": 5}


def test_it_pages_and_filters_entries(
    sandbox: SandboxHandle, client: CamsClient, approved_template: str
) -> None:
    mass(client, approved_template, [f"659000000{n}" for n in range(5)], task_id="job-9")
    client.call("SendChatappMessage", template_send(approved_template, TaskId="row-9"))
    page = sandbox.admin("ledger?entries=1&offset=1&limit=2")
    assert [e["To"] for e in page["entries"]] == ["6590000001", "6590000002"]
    entry = page["entries"][0]
    assert entry["TaskId"] == "job-9"
    assert entry["GroupMessageId"]
    assert entry["From"] == SENDER
    assert isinstance(entry["Time"], float)
    mine = sandbox.ledger(entries=True, to=USER)["entries"]
    assert [e["TaskId"] for e in mine] == ["row-9"]
    assert len(sandbox.ledger(entries=True, task_id="job-9")["entries"]) == 5
    assert "entries" not in sandbox.ledger()


def test_it_resets_everything_but_config_and_callbacks(
    sandbox: SandboxHandle, client: CamsClient, approved_template: str
) -> None:
    sandbox.set_callback("http://127.0.0.1:9/hook")
    sandbox.configure(failure_ratio=0.5)
    client.call("SendChatappMessage", template_send(approved_template))
    sandbox.admin("reset", {"templates": False})
    report = sandbox.ledger()
    assert report["messages"] == 0
    assert report["operations"] == {}
    assert client.list_templates().total == 1
    sandbox.admin("reset", {})
    assert client.list_templates().total == 0
    assert sandbox.config.failure_ratio == 0.5
    assert sandbox.admin("callbacks")["default"] == "http://127.0.0.1:9/hook"


def test_it_never_reuses_a_message_id_after_a_reset(
    sandbox: SandboxHandle, client: CamsClient, approved_template: str
) -> None:
    first = client.call("SendChatappMessage", template_send(approved_template))["MessageId"]
    sandbox.reset(templates=False)
    second = client.call("SendChatappMessage", template_send(approved_template))["MessageId"]
    assert first != second
    assert sandbox.entry(first) is None
    assert sandbox.entry(second) is not None


def test_it_answers_health_and_unknown_paths(sandbox: SandboxHandle) -> None:
    assert sandbox.admin("health")["ok"] is True
    response = requests.get(f"{sandbox.url}/_sandbox/nothing", timeout=5)
    assert response.status_code == 404
    response = requests.post(f"{sandbox.url}/_sandbox/reset", data=b"[1]", timeout=5)
    assert response.status_code == 400


def test_it_validates_callback_urls(sandbox: SandboxHandle) -> None:
    response = requests.post(
        f"{sandbox.url}/_sandbox/callbacks", json={"url": "ftp://x"}, timeout=5
    )
    assert response.status_code == 400
    sandbox.admin("callbacks", {"url": "http://127.0.0.1:9/a", "from": SENDER})
    sandbox.admin("callbacks", {"url": None, "from": SENDER})
    assert sandbox.admin("callbacks")["senders"] == {}


def test_it_requires_from_and_to_for_inbound(sandbox: SandboxHandle) -> None:
    response = requests.post(f"{sandbox.url}/_sandbox/inbound", json={"From": USER}, timeout=5)
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("address", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("10.0.0.2", False), ("", False)],
)
def test_it_serves_its_controls_to_loopback_only(address: str, loopback: bool) -> None:
    assert is_loopback(address) is loopback


def test_it_tracks_statuses_without_going_backwards() -> None:
    ledger = Ledger()
    first, _ = ledger.record(DESCRIPTOR, [USER], "", mass=False)
    ledger.set_status(first, READ)
    ledger.set_status(first, DELIVERED)  # a late Delivered after Read
    entry = ledger.entry(first)
    assert entry is not None
    assert entry.status == READ
    ledger.set_status(first, SENT)
    assert ledger.stats()["statuses"]["Read"] == 1


def test_it_keeps_recipients_that_are_not_plain_numbers() -> None:
    ledger = Ledger()
    first, _ = ledger.record(DESCRIPTOR, ["0065123", "psid-x", "6590000001"], "t", mass=True)
    assert [ledger.entry(first + n).to for n in range(3)] == [
        "0065123",
        "psid-x",
        "6590000001",
    ]
    assert [e["To"] for e in ledger.entries(to="psid-x")] == ["psid-x"]


def test_it_stays_compact_for_a_million_entries() -> None:
    ledger = Ledger()
    recipients = [f"659{n:07d}" for n in range(1000)]
    tracemalloc.start()
    started = time.monotonic()
    for call in range(1000):
        ledger.record(DESCRIPTOR, recipients, f"job-{call}", mass=True)
    elapsed = time.monotonic() - started
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(ledger) == 1_000_000
    # ~37 bytes a row in typed arrays; tuples of strings would take ~400.
    assert current / 1_000_000 < 60, f"{current / 1_000_000:.0f} bytes per entry"
    assert elapsed < 20
    report: dict[str, Any] = ledger.stats()
    assert report["messages"] == 1_000_000
    assert report["duplicates"]["by_to"]["keys"] == 1000
