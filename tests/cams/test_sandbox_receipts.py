"""Receipts reach a real HTTP receiver as JSON arrays shaped like CAMS's (reference §6)."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from camsconsole.cams.client import CamsClient
from camsconsole.cams.sandbox import SandboxHandle
from camsconsole.cams.sandbox.receipts import DELIVERY_FAILURES
from tests.cams.conftest import SENDER, USER, Receiver, create_template, template_send

FIXTURES = Path(__file__).parent / "fixtures" / "receipts"


def fixture_keys(name: str) -> set[str]:
    receipts = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return set(receipts[0])


def by_message(receipts: list[dict[str, Any]]) -> dict[str, list[str]]:
    statuses: dict[str, list[str]] = defaultdict(list)
    for receipt in receipts:
        statuses[receipt["MessageId"]].append(receipt["Status"])
    return statuses


def test_it_pushes_sent_delivered_read_in_order(
    sandbox: SandboxHandle, client: CamsClient, receiver: Receiver, approved_template: str
) -> None:
    sandbox.set_callback(receiver.url)
    sent = client.call("SendChatappMessage", template_send(approved_template, TaskId="row-17"))
    receipts = receiver.wait_count(3)
    assert [r["Status"] for r in receipts] == ["Sent", "Delivered", "Read"]
    assert all(isinstance(batch, list) for _, batch in receiver.batches)
    first = receipts[0]
    assert first["MessageId"] == sent["MessageId"]
    assert first["TaskId"] == "row-17"
    assert (first["From"], first["To"]) == (SENDER, USER)
    assert first["MsgFrameType"] == "template"
    assert first["TemplateCode"] == approved_template
    assert first["Language"] == "en"
    assert first["ConversationType"] == "utility"
    assert isinstance(first["Timestamp"], int)
    assert first["Timestamp"] <= receipts[1]["Timestamp"] <= receipts[2]["Timestamp"]
    assert set(first) == fixture_keys("chatappstatus_sent.json")
    assert set(receipts[2]) == fixture_keys("chatappstatus_read.json")
    assert sandbox.ledger()["statuses"]["Read"] == 1


def test_it_uses_the_message_id_when_no_task_id_was_given(
    sandbox: SandboxHandle, client: CamsClient, receiver: Receiver, approved_template: str
) -> None:
    sandbox.set_callback(receiver.url)
    sent = client.call("SendChatappMessage", template_send(approved_template))
    receipt = receiver.wait_count(1)[0]
    assert receipt["TaskId"] == sent["MessageId"]


def test_it_pushes_each_mass_recipient_in_batches_of_a_hundred(
    sandbox: SandboxHandle, client: CamsClient, receiver: Receiver, approved_template: str
) -> None:
    sandbox.set_callback(receiver.url)
    recipients = [{"To": f"6591{n:06d}"} for n in range(250)]
    client.send_mass_message(
        channel_type="whatsapp",
        from_=SENDER,
        language="en",
        template_code=approved_template,
        task_id="campaign-3",
        sender_list=recipients,
    )
    receipts = receiver.wait_count(750)
    assert max(len(batch) for _, batch in receiver.batches) <= 100
    assert {r["TaskId"] for r in receipts} == {"campaign-3"}
    assert {r["To"] for r in receipts} == {item["To"] for item in recipients}
    assert all(s == ["Sent", "Delivered", "Read"] for s in by_message(receipts).values())
    assert len(by_message(receipts)) == 250


def test_it_routes_receipts_to_each_senders_url(
    sandbox: SandboxHandle, client: CamsClient, approved_template: str
) -> None:
    first, second = Receiver(), Receiver()
    try:
        sandbox.set_callback(first.url)
        sandbox.admin("callbacks", {"From": "6580009999", "url": second.url})
        client.call("SendChatappMessage", template_send(approved_template))
        client.call(
            "SendChatappMessage", {**template_send(approved_template), "From": "6580009999"}
        )
        assert {r["From"] for r in first.wait_count(3)} == {SENDER}
        assert {r["From"] for r in second.wait_count(3)} == {"6580009999"}
        assert sandbox.admin("callbacks")["senders"] == {"6580009999": second.url}
    finally:
        first.close()
        second.close()


def test_it_fails_messages_with_provider_codes(
    sandbox: SandboxHandle, client: CamsClient, receiver: Receiver, approved_template: str
) -> None:
    sandbox.set_callback(receiver.url)
    sandbox.configure(failure_ratio=1.0)
    for n in range(5):
        client.call("SendChatappMessage", template_send(approved_template, To=f"659000000{n}"))
    receipts = receiver.wait_count(5)
    time.sleep(0.1)
    assert len(receiver.receipts()) == 5
    codes = {code for code, _ in DELIVERY_FAILURES}
    for receipt in receipts:
        assert receipt["Status"] == "Failed"
        assert receipt["ErrorCode"] in codes
        assert receipt["ErrorDescription"].startswith(receipt["ErrorCode"] + ":")
        assert set(receipt) == fixture_keys("chatappstatus_failed.json")
    assert sandbox.ledger()["statuses"]["Failed"] == 5


def test_it_fails_free_form_whatsapp_outside_the_service_window(
    sandbox: SandboxHandle, client: CamsClient, receiver: Receiver
) -> None:
    sandbox.set_callback(receiver.url)
    text = {"text": "Hello again"}
    client.send_message(
        channel_type="whatsapp", type="message", from_=SENDER, to=USER, message_type="text",
        content=text,
    )  # fmt: skip
    failed = receiver.wait_count(1)[0]
    assert (failed["Status"], failed["ErrorCode"]) == ("Failed", "131047")
    assert set(failed) == fixture_keys("chatappstatus_failed_outside_window.json")

    sandbox.inbound(USER, SENDER, message="hi")  # the user writes: the window opens
    receiver.wait_for(lambda receipts: any(r.get("Type") == "TEXT" for r in receipts))
    client.send_message(
        channel_type="whatsapp", type="message", from_=SENDER, to=USER, message_type="text",
        content=text,
    )  # fmt: skip
    statuses = receiver.wait_for(lambda receipts: any(r.get("Status") == "Read" for r in receipts))
    assert [r["Status"] for r in statuses if "Status" in r] == [
        "Failed",
        "Sent",
        "Delivered",
        "Read",
    ]


def test_it_pushes_duplicates_when_asked(
    sandbox: SandboxHandle, client: CamsClient, receiver: Receiver, approved_template: str
) -> None:
    sandbox.set_callback(receiver.url)
    sandbox.configure(duplicate_ratio=1.0)
    client.call("SendChatappMessage", template_send(approved_template))
    receipts = receiver.wait_count(6)
    assert sorted(r["Status"] for r in receipts) == sorted(["Sent", "Delivered", "Read"] * 2)
    assert sandbox.ledger()["receipts"]["duplicates_injected"] == 3


def test_it_reorders_statuses_when_asked(
    sandbox: SandboxHandle, client: CamsClient, receiver: Receiver, approved_template: str
) -> None:
    sandbox.set_callback(receiver.url)
    sandbox.configure(reorder=1.0)
    for n in range(6):
        client.call("SendChatappMessage", template_send(approved_template, To=f"659000000{n}"))
    receipts = receiver.wait_count(18)
    orders = by_message(receipts).values()
    assert all(sorted(order) == ["Delivered", "Read", "Sent"] for order in orders)
    assert all(order != ["Sent", "Delivered", "Read"] for order in orders)


def test_it_retries_a_failed_push(
    sandbox: SandboxHandle, client: CamsClient, receiver: Receiver, approved_template: str
) -> None:
    sandbox.set_callback(receiver.url)
    receiver.scripted = [(500, b"oops")]
    client.call("SendChatappMessage", template_send(approved_template))
    receipts = receiver.wait_count(3)
    assert sorted(r["Status"] for r in receipts) == ["Delivered", "Read", "Sent"]
    stats = sandbox.ledger()["receipts"]
    assert stats["retries"] == 1
    assert stats["receipts_dropped"] == 0


@pytest.mark.parametrize(
    "answer",
    [(500, b'{"code":0}'), (200, b"OK"), (200, b'{"msg":"no code"}'), (200, b'{"code":true}')],
)
def test_it_gives_up_after_three_attempts(
    sandbox: SandboxHandle,
    client: CamsClient,
    receiver: Receiver,
    approved_template: str,
    answer: tuple[int, bytes],
) -> None:
    sandbox.set_callback(receiver.url)
    sandbox.configure(read_ratio=0.0, delivered_delay=5.0)  # just the Sent receipt for a while
    receiver.scripted = [answer] * 3
    client.call("SendChatappMessage", template_send(approved_template))
    deadline = time.monotonic() + 3
    while sandbox.ledger()["receipts"]["batches_dropped"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    stats = sandbox.ledger()["receipts"]
    assert receiver.attempts == 3
    assert (stats["pushes_failed"], stats["retries"], stats["receipts_dropped"]) == (3, 2, 1)
    assert receiver.receipts() == []


def test_it_pushes_an_audit_receipt_when_review_ends(
    sandbox: SandboxHandle, client: CamsClient, receiver: Receiver
) -> None:
    sandbox.set_callback(receiver.url)
    sandbox.configure(review_delay=0.1)
    passed = create_template(client, name="shipping_notice")
    failed = create_template(client, name="shady_reject")
    audits = {r["TemplateCode"]: r for r in receiver.wait_count(2)}
    assert audits[passed]["AuditStatus"] == "pass"
    assert audits[passed]["Reason"] == ""
    assert audits[failed]["AuditStatus"] == "fail"
    assert "reject" in audits[failed]["Reason"]
    assert set(audits[passed]) == fixture_keys("chatappaudit_pass.json")
    assert set(audits[failed]) == fixture_keys("chatappaudit_fail.json")
    assert audits[passed]["Language"] == "en"
    assert audits[passed]["WabaId"].isdigit()


def test_it_skips_the_audit_of_a_superseded_review(
    sandbox: SandboxHandle, client: CamsClient, receiver: Receiver
) -> None:
    sandbox.set_callback(receiver.url)
    sandbox.configure(review_delay=0.5)
    code = create_template(client)
    client.modify_template(
        template_code=code,
        language="en",
        components=[{"Type": "BODY", "Text": "Hello {{1}}, order {{2}} is packed."}],
    )
    receiver.wait_count(1)
    time.sleep(0.6)
    assert len(receiver.receipts()) == 1


def test_it_answers_with_a_quick_reply_or_text(
    sandbox: SandboxHandle, client: CamsClient, receiver: Receiver
) -> None:
    sandbox.set_callback(receiver.url)
    sandbox.configure(inbound_ratio=1.0)
    code = create_template(
        client,
        name="delivery_choice",
        components=[
            {"Type": "BODY", "Text": "Hi {{1}}, when should we deliver order {{2}}?"},
            {
                "Type": "BUTTONS",
                "Buttons": [
                    {"Type": "QUICK_REPLY", "Text": "Today"},
                    {"Type": "QUICK_REPLY", "Text": "Tomorrow"},
                ],
            },
        ],
    )
    client.call(
        "SendChatappMessage", template_send(code, Payload=["deliver_today", "deliver_tomorrow"])
    )
    client.call("SendChatappMessage", template_send(code, To="6590003333"))
    receipts = receiver.wait_for(lambda rs: sum(r.get("NoticeType") == "inbound" for r in rs) == 2)
    inbound = {r["From"]: r for r in receipts if r.get("NoticeType") == "inbound"}
    reply = inbound[USER]
    assert reply["Type"] == "REPLY"
    assert json.loads(reply["Message"]) == {"text": "Today", "payload": "deliver_today"}
    assert reply["To"] == SENDER
    assert set(reply) == fixture_keys("chatappinbound_reply.json")
    text = inbound["6590003333"]
    assert text["Type"] == "TEXT"
    assert set(text) == fixture_keys("chatappinbound_text.json")
    # Replies are inbound messages: they open the window and show in the history.
    assert sandbox.state.ledger.last_inbound(SENDER, USER) is not None


def test_it_simulates_a_user_message_now(sandbox: SandboxHandle, receiver: Receiver) -> None:
    sandbox.set_callback(receiver.url, sender=SENDER)
    answer = sandbox.admin("inbound", {"From": USER, "To": SENDER, "Message": "Hello?"})
    receipt = receiver.wait_count(1)[0]
    assert receipt["MessageId"] == answer["MessageId"]
    assert (receipt["Type"], receipt["Message"]) == ("TEXT", "Hello?")
    image = {"caption": "broken", "id": "42", "mimeType": "image/jpeg", "url": "https://x/1.jpg"}
    sandbox.admin("inbound", {"From": USER, "To": SENDER, "Type": "IMAGE", "Message": image})
    receipts = receiver.wait_count(2)
    assert receipts[1]["Type"] == "IMAGE"
    assert json.loads(receipts[1]["Message"]) == image
    assert set(receipts[1]) == fixture_keys("chatappinbound_image.json")


def test_it_can_switch_receipts_off(
    sandbox: SandboxHandle, client: CamsClient, receiver: Receiver, approved_template: str
) -> None:
    sandbox.set_callback(receiver.url)
    sandbox.configure(receipts=False)
    client.call("SendChatappMessage", template_send(approved_template))
    assert sandbox.wait_receipts()
    time.sleep(0.15)
    assert receiver.receipts() == []
    assert sandbox.ledger()["statuses"]["Accepted"] == 1


def test_it_counts_receipts_that_have_nowhere_to_go(
    sandbox: SandboxHandle, client: CamsClient, approved_template: str
) -> None:
    client.call("SendChatappMessage", template_send(approved_template))
    assert sandbox.wait_receipts()
    time.sleep(0.15)
    # Sent, Delivered, Read, and the ChatAppAudit of the template.
    assert sandbox.ledger()["receipts"]["receipts_without_url"] == 4
