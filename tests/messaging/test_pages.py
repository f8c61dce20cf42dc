"""The pages: Send Message (its fields per choice, errors at the field, the window), the message
list and page, conversations with the reply box, and the suppression list."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from camsconsole.models import AuditEvent
from messaging import compose
from messaging.models import Conversation, InboundMessage, Kind, Message, State, Suppression
from templates_app.models import Variant
from tests.messaging.conftest import PSID, USER, WA_NUMBER, RunJobs, Senders
from tests.messaging.sending import message_post, template_post


def page(client: Client, url: str, **params: Any) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def open_window(senders: Senders, user: str = USER, ago: timedelta = timedelta(0)) -> None:
    wa = senders.whatsapp
    Conversation.objects.update_or_create(
        channel=wa.channel,
        business_number=wa.sender_id,
        user=user,
        defaults={"last_inbound_at": timezone.now() - ago},
    )


SEND = reverse("message-send")


def test_it_grows_the_fields_each_message_type_needs(
    operator_client: Client, senders: Senders
) -> None:
    for channel_type in ("whatsapp", "viber", "messenger", "instagram"):
        sender = senders.of(channel_type)
        for message_type in compose.message_types(channel_type):
            html = page(
                operator_client,
                SEND,
                channel=sender.channel_id,
                sender=sender.pk,
                kind="message",
                message_type=message_type,
            )
            for item in compose.inputs(channel_type, message_type):
                assert f'name="{item.field_name}"' in html, (channel_type, message_type, item)
            others = {
                item.field_name
                for kind in compose.message_types(channel_type)
                for item in compose.inputs(channel_type, kind)
            } - {item.field_name for item in compose.inputs(channel_type, message_type)}
            for name in others:
                assert f'name="{name}"' not in html, (channel_type, message_type, name)
            assert ('name="label"' in html) == (channel_type == "viber")
            assert ('name="product_action"' in html) == (channel_type == "whatsapp")


def test_it_shows_a_templates_variables_payloads_and_preview(
    operator_client: Client, senders: Senders, template: Variant
) -> None:
    html = page(operator_client, SEND, channel=senders.whatsapp.channel_id, kind="template")
    # One approved template, one language, one sender: chosen for the operator.
    assert 'name="var_1"' in html
    assert 'name="var_2"' in html
    assert 'name="payload_0"' in html
    assert "Payload of “Track it”" in html
    assert 'id="preview"' in html
    assert "Hi {{1}}, your order {{2}} has shipped." in html
    assert 'data-variable="1"' in html


def test_it_puts_rule_errors_next_to_their_fields(
    operator_client: Client, senders: Senders
) -> None:
    open_window(senders)
    data = message_post(senders.whatsapp, "+65 9000 2222", "document", content_fileName="")
    response = operator_client.post(SEND, data)
    assert response.status_code == 200
    form = response.context["form"]
    assert "digits only" in " ".join(form.errors["to"])
    assert form.errors["content_fileName"]
    assert not Message.objects.exists()

    data = message_post(senders.viber, USER, "text", label="", ttl="5", fallback_duration="30")
    form = operator_client.post(SEND, data).context["form"]
    assert set(form.errors) >= {"label", "ttl", "fallback_duration"}


def test_it_refuses_whatsapp_free_form_outside_the_window(
    operator_client: Client, senders: Senders
) -> None:
    data = message_post(senders.whatsapp, USER, "text")
    response = operator_client.post(SEND, data)
    assert response.status_code == 200
    assert "only a template can be sent" in " ".join(response.context["form"].errors["kind"])

    open_window(senders, ago=timedelta(hours=25))
    errors = operator_client.post(SEND, data).context["form"].errors["kind"]
    assert "window closed at" in " ".join(errors)

    open_window(senders, ago=timedelta(hours=23, minutes=59, seconds=30))
    errors = operator_client.post(SEND, data).context["form"].errors["kind"]
    assert "too soon" in " ".join(errors)

    open_window(senders, ago=timedelta(hours=2))
    assert operator_client.post(SEND, data).status_code == 302
    # Viber free-form is exempt, as is any template.
    assert (
        operator_client.post(SEND, message_post(senders.viber, "6590007777", "text")).status_code
        == 302
    )


def test_it_refuses_a_suppressed_recipient(operator_client: Client, senders: Senders) -> None:
    Suppression.objects.create(
        channel=senders.messenger.channel,
        business_number=senders.messenger.sender_id,
        user=PSID,
        source=Suppression.Source.OPERATOR,
        changed_at=timezone.now(),
    )
    response = operator_client.post(SEND, message_post(senders.messenger, PSID, "text"))
    assert "suppression list" in " ".join(response.context["form"].errors["to"])


def test_it_shows_the_window_while_typing(operator_client: Client, senders: Senders) -> None:
    url = reverse("message-window")
    params = {"sender": senders.whatsapp.pk, "to": USER}
    assert "has not written" in page(operator_client, url, **params)
    open_window(senders)
    assert "window open until" in page(operator_client, url, **params)
    assert page(operator_client, url, sender=senders.viber.pk, to=USER).strip() == ""


def test_it_lists_messages_with_filters_and_pages(
    viewer_client: Client, senders: Senders, settings: Any
) -> None:
    from messaging.views import browse

    rows = [
        Message.objects.create(
            channel=senders.whatsapp.channel,
            sender=senders.whatsapp,
            to=f"65900{n:05d}",
            kind=Kind.TEMPLATE,
            template_name="order_update",
            state=State.READ if n % 2 else State.FAILED,
        )
        for n in range(7)
    ]
    url = reverse("message-list")
    html = page(viewer_client, url, state="failed")
    assert html.count('data-testid="state"') == 4
    html = page(viewer_client, url, to=rows[3].to)
    assert html.count('data-testid="state"') == 1
    browse.PAGE_SIZE = 3
    try:
        response = viewer_client.get(url)
        assert response.context["next_before"] == rows[4].pk
        older = viewer_client.get(url, {"before": rows[4].pk})
        assert [m.pk for m in older.context["rows"]] == [rows[3].pk, rows[2].pk, rows[1].pk]
    finally:
        browse.PAGE_SIZE = 50
    assert "Send a message" not in page(viewer_client, url)
    today = timezone.localdate().isoformat()
    assert page(viewer_client, url, date_from=today).count('data-testid="state"') == 7


def test_it_shows_a_messages_timeline_request_and_response(
    viewer_client: Client, senders: Senders, template: Variant, run_jobs: RunJobs
) -> None:
    from camsconsole.audit import Actor
    from messaging import actions

    message = actions.send(
        Actor(),
        Message(
            channel=senders.whatsapp.channel,
            sender=senders.whatsapp,
            to=USER,
            kind=Kind.TEMPLATE,
            template_code=template.template_code,
            template_name="order_update",
            language="en",
            template_params={"1": "<b>Al</b>", "2": "ORD"},
        ),
    )
    run_jobs()
    html = page(viewer_client, reverse("message-detail", args=[message.pk]))
    message.refresh_from_db()
    assert "Accepted" in html
    assert message.message_id in html
    assert "&lt;b&gt;Al&lt;/b&gt;" in html
    assert "<b>Al</b>" not in html
    assert "LTAI****" in html
    assert message.channel.account.access_key_id not in html
    assert 'hx-trigger="every 2s"' in html
    status = page(viewer_client, reverse("message-status", args=[message.pk]))
    assert status.startswith('<div id="message-status"')


def test_it_lists_conversations_and_replies_inside_the_window(
    operator_client: Client, senders: Senders, run_jobs: RunJobs
) -> None:
    wa = senders.whatsapp
    inbound = InboundMessage.objects.create(
        channel=wa.channel,
        cams_message_id="in1",
        business_number=WA_NUMBER,
        user=USER,
        type="TEXT",
        text="Where is my order?",
        occurred_at=timezone.now(),
    )
    conversation = Conversation.objects.create(
        channel=wa.channel,
        business_number=WA_NUMBER,
        user=USER,
        display_name="Alice",
        last_inbound_at=inbound.occurred_at,
        last_inbound=inbound,
    )
    html = page(operator_client, reverse("conversation-list"), sender=wa.pk)
    assert "Where is my order?" in html
    assert "open until" in html
    url = reverse("conversation-detail", args=[conversation.pk])
    assert 'id="reply-form"' in page(operator_client, url)
    reply = reverse("conversation-reply", args=[conversation.pk])
    assert operator_client.post(reply, {"text": "On its way!"}).status_code == 302
    message = Message.objects.get()
    assert (message.kind, message.message_type, message.content) == (
        "message",
        "text",
        {"text": "On its way!"},
    )
    html = page(operator_client, url)
    assert "On its way!" in html
    assert html.index("Where is my order?") < html.index("On its way!")

    Conversation.objects.filter(pk=conversation.pk).update(
        last_inbound_at=timezone.now() - timedelta(days=2)
    )
    html = page(operator_client, url)
    assert 'id="reply-form"' not in html
    assert "Send a template" in html
    response = operator_client.post(reply, {"text": "Still there?"})
    assert response.status_code == 200
    assert "window closed" in response.content.decode()
    assert Message.objects.count() == 1


def test_it_lets_operators_keep_the_suppression_list(
    operator_client: Client, viewer_client: Client, senders: Senders
) -> None:
    url = reverse("suppression-add")
    response = operator_client.post(url, {"sender": senders.whatsapp.pk, "user": "+6590008888"})
    assert response.status_code == 302
    entry = Suppression.objects.get()
    assert (entry.user, entry.active, entry.source) == ("6590008888", True, "operator")
    assert "6590008888" in page(viewer_client, reverse("suppression-list"))
    bad = operator_client.post(url, {"sender": senders.whatsapp.pk, "user": "abc"})
    assert bad.status_code == 200
    assert bad.context["form"].errors["user"]
    operator_client.post(reverse("suppression-lift", args=[entry.pk]))
    entry.refresh_from_db()
    assert entry.active is False
    verbs = AuditEvent.objects.filter(object_type="suppression").values_list("verb", flat=True)
    assert sorted(verbs) == ["suppression.add", "suppression.lift"]
    assert "6590008888" not in page(viewer_client, reverse("suppression-list"))
    assert "6590008888" in page(viewer_client, reverse("suppression-list"), show="all")


@pytest.mark.parametrize("field", ["product_action", "flow_action_data"])
def test_it_takes_whatsapp_product_and_flow_actions(
    field: str, operator_client: Client, senders: Senders, template: Variant
) -> None:
    value = (
        '{"ThumbnailProductRetailerId": "sku1", "Sections": [{"Title": "Shoes", '
        '"ProductItems": [{"ProductRetailerId": "sku1"}]}]}'
        if field == "product_action"
        else '{"screen": "WELCOME"}'
    )
    extra: dict[str, Any] = {field: value, "flow_token": "t-1"}
    data = template_post(senders.whatsapp, USER, template, **extra)
    assert operator_client.post(SEND, data).status_code == 302
    options = Message.objects.get().options
    assert options["FlowAction"]["FlowToken"] == "t-1"
    if field == "product_action":
        assert options["ProductAction"]["Sections"][0]["Title"] == "Shoes"
    else:
        assert options["FlowAction"]["FlowActionData"] == {"screen": "WELCOME"}
    wrong: dict[str, Any] = {field: "[1, 2]"}
    bad = template_post(senders.whatsapp, USER, template, **wrong)
    assert "JSON object" in " ".join(operator_client.post(SEND, bad).context["form"].errors[field])
