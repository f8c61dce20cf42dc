"""What a free-form message of each channel and MessageType is made of, field by field.

`rules.CONTENT_RULES` says which Content keys a MessageType must and must not have (reference
§4.2); this module adds what an operator needs to fill them in: a label, a kind of input, whether
it is required, and how the values become the Content JSON. Every key the rules require is a
required field here, so the form and the rules cannot disagree. MessageTypes the reference lists
without field rules (WhatsApp typing_indicator, pin and carousel; Messenger and Instagram
interactive and template types) take their Content as a JSON object, as CAMS would.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from camsconsole.cams import rules

TEXT, TEXTAREA, URL, INTEGER, DECIMAL, JSON, CHOICE = (
    "text",
    "textarea",
    "url",
    "integer",
    "decimal",
    "json",
    "choice",
)

# Content key for a whole JSON object given by hand.
RAW: Final = "json"

# WhatsApp interactive types (Meta's), for the interactive message's `type`.
INTERACTIVE_TYPES: Final = (
    "button",
    "list",
    "cta_url",
    "product",
    "product_list",
    "catalog_message",
    "flow",
    "location_request_message",
)


@dataclass(frozen=True)
class Input:
    """One form field that fills one Content key (or, for RAW, the whole Content)."""

    key: str
    label: str
    kind: str = TEXT
    required: bool = False
    help: str = ""
    choices: tuple[str, ...] = ()
    min_value: float | None = None
    max_value: float | None = None

    @property
    def field_name(self) -> str:
        return f"content_{self.key}"


def _text(required: bool = True) -> Input:
    return Input("text", "Text", TEXTAREA, required)


def _link(label: str = "Media link", required: bool = True) -> Input:
    return Input("link", label, URL, required, "A public https:// link CAMS can fetch.")


_CAPTION = Input("caption", "Caption")
_RAW = Input(
    RAW,
    "Content (JSON object)",
    JSON,
    True,
    "The reference lists this type without its fields: give the Content object as CAMS takes it.",
)
_VIBER_VIDEO = (
    Input("thumbnail", "Thumbnail link", URL, True),
    Input("fileSize", "File size (MB)", INTEGER, True, min_value=0),
    Input("duration", "Duration (seconds)", INTEGER, True, min_value=0, max_value=600),
)
_VIBER_BUTTON = (
    Input("caption", "Button text", TEXT, True),
    Input("action", "Button link", URL, True, "Where the button leads."),
)

INPUTS: Final[dict[str, dict[str, tuple[Input, ...]]]] = {
    "whatsapp": {
        "text": (_text(),),
        "image": (_link(), _CAPTION),
        "video": (_link(), _CAPTION),
        "audio": (_link(),),
        "document": (_link(), Input("fileName", "File name", TEXT, True)),
        "interactive": (
            Input("type", "Interactive type", CHOICE, True, choices=INTERACTIVE_TYPES),
            Input("header", "Header text"),
            Input("body", "Body text", TEXTAREA),
            Input("footer", "Footer text"),
            Input(
                "action",
                "Action (JSON)",
                JSON,
                True,
                'The interactive action, e.g. {"buttons": [{"type": "reply", "reply": '
                '{"id": "yes", "title": "Yes"}}]}.',
            ),
        ),
        "contacts": (
            Input("name", "Contact name", TEXT, True),
            Input("phone", "Contact phone number"),
            Input("email", "Contact email"),
        ),
        "location": (
            Input("latitude", "Latitude", DECIMAL, True, min_value=-90, max_value=90),
            Input("longitude", "Longitude", DECIMAL, True, min_value=-180, max_value=180),
            Input("name", "Place name"),
            Input("address", "Address"),
        ),
        "sticker": (_link("Sticker link"),),
        "reaction": (
            Input("messageId", "Message reacted to (MessageId)", TEXT, True),
            Input("emoji", "Emoji", TEXT, True),
        ),
        "typing_indicator": (Input("messageId", "Message being answered (MessageId)", TEXT, True),),
        "pin": (_RAW,),
        "carousel": (_RAW,),
    },
    "viber": {
        "text": (_text(),),
        "image": (_link("Image link"),),
        "video": (_link("Video link"), *_VIBER_VIDEO),
        "document": (
            _link("Document link"),
            Input("fileName", "File name", TEXT, True),
            Input("fileType", "File type", TEXT, True, "The extension, e.g. pdf."),
        ),
        "text_button": (_text(), *_VIBER_BUTTON),
        "text_image_button": (_text(), _link("Image link"), *_VIBER_BUTTON),
        "text_video": (_text(), _link("Video link"), *_VIBER_VIDEO),
        "text_video_button": (
            _text(),
            _link("Video link"),
            *_VIBER_VIDEO,
            Input("caption", "Button text", TEXT, True),
        ),
        "text_image": (_text(), _link("Image link")),
    },
}

_META_RAW_TYPES: Final = (
    "interactive",
    "couponTemplate",
    "regularTemplate",
    "quickReply",
    "buttonTemplate",
)
for _channel, _linked in (
    ("messenger", ("image", "video", "audio", "document")),
    ("instagram", ("image", "video", "audio")),
):
    INPUTS[_channel] = {
        "text": (_text(),),
        **{
            kind: (_link(required=kind in _linked),)
            for kind in ("image", "video", "audio", "document")
        },
        **dict.fromkeys(_META_RAW_TYPES, (_RAW,)),
    }

# The order the pages list them in: the reference's order, common types first.
ORDER: Final[dict[str, tuple[str, ...]]] = {
    "whatsapp": (
        "text",
        "image",
        "video",
        "audio",
        "document",
        "interactive",
        "contacts",
        "location",
        "sticker",
        "reaction",
        "typing_indicator",
        "pin",
        "carousel",
    ),
    "viber": (
        "text",
        "image",
        "video",
        "document",
        "text_button",
        "text_image_button",
        "text_video",
        "text_video_button",
        "text_image",
    ),
    "messenger": ("text", "image", "video", "document", "audio", *_META_RAW_TYPES),
    "instagram": ("text", "image", "video", "document", "audio", *_META_RAW_TYPES),
}


def message_types(channel_type: str) -> tuple[str, ...]:
    return ORDER.get(channel_type, ())


def inputs(channel_type: str, message_type: str) -> tuple[Input, ...]:
    return INPUTS.get(channel_type, {}).get(message_type, ())


def content(channel_type: str, message_type: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The Content object from the fields' cleaned values (keyed by Content key)."""
    given = {key: value for key, value in values.items() if value not in (None, "")}
    if RAW in given:
        raw = given[RAW]
        return dict(raw) if isinstance(raw, Mapping) else {}
    if channel_type == "whatsapp" and message_type == "interactive":
        found: dict[str, Any] = {"type": given.get("type"), "action": given.get("action")}
        if "header" in given:
            found["header"] = {"type": "text", "text": given["header"]}
        for part in ("body", "footer"):
            if part in given:
                found[part] = {"text": given[part]}
        return found
    if channel_type == "whatsapp" and message_type == "contacts":
        card: dict[str, Any] = {"name": given.get("name")}
        if "phone" in given:
            card["phones"] = [{"phone": given["phone"]}]
        if "email" in given:
            card["emails"] = [{"email": given["email"]}]
        return card
    if channel_type == "whatsapp" and message_type == "location":
        for key in ("latitude", "longitude"):
            if key in given:
                given[key] = float(given[key])
    return given


def check_tables() -> list[str]:
    """Where this module and the rules disagree (a test asserts none)."""
    problems = []
    for channel, rules_by_type in rules.CONTENT_RULES.items():
        if set(ORDER[channel]) != set(rules_by_type):
            problems.append(f"{channel}: MessageTypes differ from the rules")
        for message_type, rule in rules_by_type.items():
            fields = {item.key: item for item in inputs(channel, message_type)}
            if RAW in fields:
                continue
            for key in rule.required:
                if key not in fields or not fields[key].required:
                    problems.append(f"{channel} {message_type}: {key} must be a required field")
            for key in rule.forbidden:
                if key in fields:
                    problems.append(f"{channel} {message_type}: {key} must not be a field")
    return problems
