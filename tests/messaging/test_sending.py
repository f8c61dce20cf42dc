"""Every ChannelType x MessageType pair the reference documents, and templates, sent through the
Send Message form against the sandbox and followed to Read through its receipts."""

import pytest
from django.test import Client
from django.urls import reverse

from camsconsole.cams.sandbox import SandboxHandle
from camsconsole.models import AuditEvent
from messaging import compose
from messaging.models import Conversation, Message, State
from templates_app.models import Variant
from tests.messaging.conftest import (
    IGSID,
    PSID,
    QUICK_REPLIES,
    USER,
    VIBER_SERVICE,
    Deliver,
    RunJobs,
    Senders,
    approve,
)
from tests.messaging.sending import message_post, template_post

RECIPIENTS = {"whatsapp": USER, "viber": USER, "messenger": PSID, "instagram": IGSID}
PAIRS = [
    (channel, message_type)
    for channel in ("whatsapp", "viber", "messenger", "instagram")
    for message_type in compose.message_types(channel)
]


def test_it_covers_every_pair_the_rules_know() -> None:
    from camsconsole.cams import rules

    assert {(c, t) for c, t in PAIRS} == {
        (channel, kind) for channel, kinds in rules.MESSAGE_TYPES.items() for kind in kinds
    }
    assert compose.check_tables() == []


@pytest.mark.parametrize(("channel_type", "message_type"), PAIRS)
def test_it_sends_each_message_type_of_each_channel(
    channel_type: str,
    message_type: str,
    senders: Senders,
    sandbox: SandboxHandle,
    operator_client: Client,
    run_jobs: RunJobs,
    deliver: Deliver,
) -> None:
    sender = senders.of(channel_type)
    to = RECIPIENTS[channel_type]
    if channel_type == "whatsapp":
        # The user writes first: that opens the 24-hour window, here and in the sandbox.
        sandbox.inbound(user=to, business_number=sender.sender_id, message="Hi!")
        deliver()
        run_jobs()
        assert Conversation.objects.get(user=to).window_open

    response = operator_client.post(reverse("message-send"), message_post(sender, to, message_type))
    assert response.status_code == 302, response.content.decode()[:3000]
    message = Message.objects.get()
    assert response["Location"] == message.get_absolute_url()
    assert message.kind == "message"
    assert message.message_type == message_type
    run_jobs()
    message.refresh_from_db()
    assert message.state == State.ACCEPTED, (message.error_code, message.error_message)
    assert message.message_id
    entry = sandbox.entry(message.message_id)
    assert entry is not None
    assert entry.task_id == message.task_id
    assert entry.descriptor.message_type == message_type.upper()
    assert message.request["Parameters"]["Content"] == message.content
    assert message.request["AccessKeyId"].startswith("LTAI****")

    deliver()
    run_jobs()
    message.refresh_from_db()
    assert message.state == State.READ
    assert message.sent_at
    assert message.delivered_at
    assert message.read_at
    assert AuditEvent.objects.filter(verb="message.send", object_id=str(message.pk)).exists()


@pytest.mark.parametrize("channel_type", ["whatsapp", "viber"])
def test_it_sends_an_approved_template(
    channel_type: str,
    senders: Senders,
    sandbox: SandboxHandle,
    cams: object,
    operator_client: Client,
    run_jobs: RunJobs,
    deliver: Deliver,
) -> None:
    sender = senders.of(channel_type)
    components = None
    if channel_type == "viber":
        components = [{"Type": "BODY", "Text": "Hi {{1}}, your order {{2}} has shipped."}]
    variant = approve(sandbox, cams, sender.channel, components=components)  # type: ignore[arg-type]
    data = template_post(sender, USER, variant, payload_0="track-42")
    response = operator_client.post(reverse("message-send"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    run_jobs()
    message = Message.objects.get()
    assert message.state == State.ACCEPTED, message.error_message
    assert message.template_params == {"1": "Alice", "2": "ORD-42"}
    params = message.request["Parameters"]
    assert params["TemplateCode"] == variant.template_code
    assert params["Language"] == "en"
    if channel_type == "whatsapp":
        # One Payload per quick-reply button; an empty one becomes the button's text.
        assert message.payload == ["track-42", QUICK_REPLIES[1]]
    else:
        assert params["Label"] == "transaction"
        assert sender.sender_id == VIBER_SERVICE
    deliver()
    run_jobs()
    message.refresh_from_db()
    assert message.state == State.READ
    assert [event.status_name for event in message.events.all()] == ["Sent", "Delivered", "Read"]


def test_it_sends_a_template_outside_any_window(
    senders: Senders, template: Variant, operator_client: Client, run_jobs: RunJobs
) -> None:
    assert not Conversation.objects.exists()
    response = operator_client.post(
        reverse("message-send"), template_post(senders.whatsapp, USER, template)
    )
    assert response.status_code == 302
    run_jobs()
    assert Message.objects.get().state == State.ACCEPTED
