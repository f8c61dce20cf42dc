"""What the Send Message form posts, for any channel and MessageType (test helpers)."""

import json
from typing import Any

from camsconsole.models import Sender
from messaging import compose
from templates_app.models import Variant

INTERACTIVE_ACTION = {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}}]}

# A valid value for each Content input, by key (and by kind where one key means two things).
SAMPLES: dict[str, Any] = {
    "text": "Your parcel is on its way.",
    "link": "https://example.com/media/parcel.jpg",
    "caption": "Your parcel",
    "fileName": "invoice.pdf",
    "fileType": "pdf",
    "thumbnail": "https://example.com/media/parcel-thumb.jpg",
    "fileSize": "3",
    "duration": "30",
    "type": "button",
    "header": "Delivery",
    "body": "Shall we leave it at the door?",
    "footer": "Reply any time",
    "name": "Bob Lim",
    "phone": "6590006666",
    "email": "bob@example.com",
    "latitude": "1.284",
    "longitude": "103.8514",
    "address": "1 Raffles Place",
    "messageId": "wamid.HBgLNjU5MDAwMjIyMhUCABEYEjQ5",
    "emoji": "👍",
}


def sample(item: compose.Input) -> str:
    if item.key == compose.RAW:
        return json.dumps({"text": "Hello from a raw Content object"})
    if item.key == "action":
        return (
            "https://example.com/go" if item.kind == compose.URL else json.dumps(INTERACTIVE_ACTION)
        )
    return str(SAMPLES[item.key])


def message_post(sender: Sender, to: str, message_type: str, **extra: Any) -> dict[str, Any]:
    channel_type = sender.channel.channel_type
    data: dict[str, Any] = {
        "channel": sender.channel_id,
        "sender": sender.pk,
        "to": to,
        "kind": "message",
        "message_type": message_type,
    }
    for item in compose.inputs(channel_type, message_type):
        data[item.field_name] = sample(item)
    if channel_type == "viber":
        data["label"] = "transaction"
    if message_type == "pin":
        data["recipient_type"] = "group"
    data.update(extra)
    return data


def template_post(
    sender: Sender,
    to: str,
    variant: Variant,
    values: tuple[str, ...] = ("Alice", "ORD-42"),
    **extra: Any,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "channel": sender.channel_id,
        "sender": sender.pk,
        "to": to,
        "kind": "template",
        "template": variant.template_id,
        "language": variant.language,
    }
    for number, value in enumerate(values, start=1):
        data[f"var_{number}"] = value
    if sender.channel.channel_type == "viber":
        data["label"] = "transaction"
    data.update(extra)
    return data
