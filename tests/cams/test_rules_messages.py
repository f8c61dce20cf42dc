"""SendChatappMessage and SendChatappMassMessage rules."""

import json
from collections.abc import Callable
from typing import Any

import pytest

from camsconsole.cams import rules
from camsconsole.cams.rules import RuleError

CONTENT_ERROR = "InvalidParameter.ContentError"
TEXT_NOT_EMPTY = "InvalidParameter.TextNotEmpty"
LINK_NOT_EMPTY = "InvalidParameter.LinkNotEmpty"
MESSAGE_TYPE_NOT_SUPPORT = "InvalidParameter.MessageTypeNotSupport"

Params = dict[str, Any]


def pairs(errors: list[RuleError]) -> list[tuple[str, str]]:
    return [(error.code, error.field) for error in errors]


# Realistic, valid requests, as the console builds them (nested parameters as Python objects).


def whatsapp_template_send() -> Params:
    return {
        "ChannelType": "whatsapp",
        "Type": "template",
        "From": "6580001111",
        "To": "6590002222",
        "TemplateCode": "744c4b5c79c9432497a075bdfca3abcd",
        "Language": "en_US",
        "TemplateParams": {"1": "Alice", "2": "ORD-42"},
        "Payload": ["confirm_yes", "confirm_no"],
        "TaskId": "6f1c2a9e-3b1d-4a4e-9d55-0b8f7e2c1a10",
        "FallBackId": "S_000001",
        "FallBackContent": "Your order ORD-42 has shipped.",
        "FallBackDuration": 120,
        "FallBackRule": "undelivered",
        "CustSpaceId": "cams-test0001",
    }


def whatsapp_text_message() -> Params:
    return {
        "ChannelType": "whatsapp",
        "Type": "message",
        "MessageType": "text",
        "From": "6580001111",
        "To": "6590002222",
        "Content": {"text": "Olá 👋 your order #42 is on its way."},
        "ContextMessageId": "61851ccb2f1365b16aee0001",
    }


def whatsapp_catalog_send() -> Params:
    return {
        **whatsapp_template_send(),
        "TemplateName": "spring_catalog",
        "ProductAction": {
            "ThumbnailProductRetailerId": "SKU-THUMB",
            "Sections": [{"Title": "Shoes", "ProductItems": [{"ProductRetailerId": "SKU-1"}]}],
        },
        "FlowAction": {"FlowToken": "flow-token-123", "FlowActionData": {"name": "test"}},
    }


def viber_message() -> Params:
    return {
        "ChannelType": "viber",
        "Type": "message",
        "MessageType": "text_image_button",
        "From": "2819",
        "To": "380501234567",
        "Label": "transaction",
        "Ttl": 3600,
        "TrackingData": "tracking_id:123456",
        "Tag": "orders",
        "Content": {
            "text": "Your parcel is ready.",
            "link": "https://example.com/parcel.png",
            "caption": "Track it",
            "action": "https://example.com/track/42",
        },
    }


def messenger_message() -> Params:
    return {
        "ChannelType": "messenger",
        "Type": "message",
        "MessageType": "text",
        "From": "104512345678901",
        "To": "6254712345678901",
        "Content": {"text": "Thanks for writing to us!"},
    }


def instagram_template_send() -> Params:
    return {
        "ChannelType": "instagram",
        "Type": "template",
        "From": "17841400000000000",
        "To": "1789012345678901",
        "TemplateName": "order_update",
        "Language": "en",
    }


def whatsapp_mass_send(recipients: int = 3) -> Params:
    return {
        "ChannelType": "whatsapp",
        "From": "6580001111",
        "Language": "en_US",
        "TemplateCode": "744c4b5c79c9432497a075bdfca3abcd",
        "TaskId": "mass-0001",
        "SenderList": [
            {"To": f"659{n:07d}", "TemplateParams": {"1": f"Customer {n}", "2": f"ORD-{n}"}}
            for n in range(recipients)
        ],
    }


def viber_mass_send() -> Params:
    return {
        "ChannelType": "viber",
        "From": "2819",
        "Language": "en",
        "TemplateName": "parcel_ready",
        "Label": "promotion",
        "Ttl": 86_400,
        "SenderList": [{"To": "380501234567"}, {"To": "380501234568", "TemplateParams": {}}],
    }


SENDS: list[Callable[[], Params]] = [
    whatsapp_template_send,
    whatsapp_text_message,
    whatsapp_catalog_send,
    viber_message,
    messenger_message,
    instagram_template_send,
]
MASS_SENDS: list[Callable[[], Params]] = [whatsapp_mass_send, viber_mass_send]


def as_wire(params: Params) -> Params:
    """The same request as the sandbox receives it: every value a string, nested ones JSON."""
    return {
        key: value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        for key, value in params.items()
    }


@pytest.mark.parametrize("example", SENDS)
def test_it_accepts_each_valid_send(example: Callable[[], Params]) -> None:
    assert rules.check_send_message(example()) == []


@pytest.mark.parametrize("example", SENDS)
def test_it_accepts_each_valid_send_as_it_arrives_over_the_wire(
    example: Callable[[], Params],
) -> None:
    assert rules.check_send_message(as_wire(example())) == []


@pytest.mark.parametrize("example", MASS_SENDS)
def test_it_accepts_each_valid_mass_send(example: Callable[[], Params]) -> None:
    assert rules.check_mass_send(example()) == []
    assert rules.check_mass_send(as_wire(example())) == []


# Type, channel and the top-level required parameters.


@pytest.mark.parametrize("name", ["ChannelType", "Type", "From", "To"])
def test_it_refuses_a_send_without_a_required_parameter(name: str) -> None:
    params = whatsapp_text_message()
    del params[name]
    assert pairs(rules.check_send_message(params))[0] == (f"Missing{name}", name)


def test_it_reports_the_most_fundamental_error_first() -> None:
    errors = rules.check_send_message({"Type": "message", "Ttl": 1})
    assert errors[0] == RuleError("MissingChannelType", errors[0].message, "ChannelType")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"ChannelType": "telegram"}, ("InvalidParameter.ChannelTypeNotSupport", "ChannelType")),
        ({"Type": "freeform"}, ("InvalidType", "Type")),
        ({"From": "+6580001111"}, ("InvalidParameter.FromOnlyNumeric", "From")),
        ({"To": "0065 9000 2222"}, ("InvalidParameter.ToOnlyNumeric", "To")),
        ({"To": "12"}, ("InvalidParameter.PhoneNumberError", "To")),
        ({"RecipientType": "everyone"}, ("InvalidRecipientType", "RecipientType")),
    ],
)
def test_it_refuses_bad_top_level_values(changes: Params, expected: tuple[str, str]) -> None:
    assert pairs(rules.check_send_message({**whatsapp_text_message(), **changes})) == [expected]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"TemplateCode": None}, ("InvalidParameter.TemplateCodeNotEmpty", "TemplateCode")),
        ({"Language": ""}, ("InvalidParameter.LanguageNotEmpty", "Language")),
        ({"Language": "en-US"}, ("InvalidParameter.LanguageNotSupport", "Language")),
    ],
)
def test_it_needs_template_code_and_language_for_a_template(
    changes: Params, expected: tuple[str, str]
) -> None:
    params = {key: value for key, value in whatsapp_template_send().items() if key not in changes}
    params |= {key: value for key, value in changes.items() if value is not None}
    assert pairs(rules.check_send_message(params)) == [expected]


def test_it_takes_template_name_in_place_of_template_code() -> None:
    params = whatsapp_template_send()
    params["TemplateName"] = params.pop("TemplateCode")
    assert rules.check_send_message(params) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"MessageType": ""}, ("InvalidParameter.MessageTypeNotEmpty", "MessageType")),
        ({"MessageType": "text_button"}, (MESSAGE_TYPE_NOT_SUPPORT, "MessageType")),
        ({"Content": ""}, ("InvalidParameter.ContentNotEmpty", "Content")),
        ({"Content": "{not json"}, (CONTENT_ERROR, "Content")),
        ({"Content": '["text"]'}, (CONTENT_ERROR, "Content")),
    ],
)
def test_it_needs_message_type_and_content_for_a_free_form_message(
    changes: Params, expected: tuple[str, str]
) -> None:
    assert pairs(rules.check_send_message({**whatsapp_text_message(), **changes})) == [expected]


def test_it_ignores_message_fields_on_a_template_send() -> None:
    assert rules.check_send_message({**whatsapp_template_send(), "Content": "{oops"}) == []


# Content per channel and MessageType: a minimal valid Content for every listed type.

MINIMAL_CONTENT: dict[str, dict[str, Params]] = {
    "whatsapp": {
        "text": {"text": "Hello"},
        "image": {"link": "https://example.com/a.jpg"},
        "video": {"link": "https://example.com/a.mp4"},
        "audio": {"link": "https://example.com/a.ogg"},
        "document": {"link": "https://example.com/a.pdf", "fileName": "invoice.pdf"},
        "interactive": {"type": "button", "action": {"buttons": []}},
        "contacts": {"name": {"formatted_name": "Alice Tan"}},
        "location": {"longitude": 103.8198, "latitude": 1.3521},
        "sticker": {"link": "https://example.com/a.webp"},
        "reaction": {"messageId": "61851ccb2f1365b16aee0001", "emoji": "👍"},
        "typing_indicator": {"messageId": "61851ccb2f1365b16aee0001"},
        "pin": {"messageId": "61851ccb2f1365b16aee0001"},
        "carousel": {"cards": []},
    },
    "viber": {
        "text": {"text": "Hello"},
        "image": {"link": "https://example.com/a.jpg"},
        "video": {
            "link": "https://example.com/a.mp4",
            "thumbnail": "https://example.com/a.jpg",
            "fileSize": 2048,
            "duration": 30,
        },
        "document": {"link": "https://example.com/a.pdf", "fileName": "a.pdf", "fileType": "pdf"},
        "text_button": {"text": "Hello", "caption": "Open", "action": "https://example.com"},
        "text_image_button": {
            "text": "Hello",
            "link": "https://example.com/a.jpg",
            "caption": "Open",
            "action": "https://example.com",
        },
        "text_video": {
            "text": "Hello",
            "link": "https://example.com/a.mp4",
            "thumbnail": "https://example.com/a.jpg",
            "fileSize": 2048,
            "duration": 30,
        },
        "text_video_button": {
            "text": "Hello",
            "link": "https://example.com/a.mp4",
            "thumbnail": "https://example.com/a.jpg",
            "fileSize": 2048,
            "duration": 30,
            "caption": "Watch",
        },
        "text_image": {"text": "Hello", "link": "https://example.com/a.jpg"},
    },
    "messenger": {
        "text": {"text": "Hello"},
        "image": {"link": "https://example.com/a.jpg"},
        "video": {"link": "https://example.com/a.mp4"},
        "audio": {"link": "https://example.com/a.mp3"},
        "document": {"link": "https://example.com/a.pdf"},
        "interactive": {"type": "generic"},
        "couponTemplate": {"title": "10% off"},
        "regularTemplate": {"elements": []},
        "quickReply": {"text": "Pick one", "quick_replies": []},
        "buttonTemplate": {"text": "Choose", "buttons": []},
    },
    "instagram": {
        "text": {"text": "Hello"},
        "image": {"link": "https://example.com/a.jpg"},
        "video": {"link": "https://example.com/a.mp4"},
        "audio": {"link": "https://example.com/a.mp3"},
        "document": {"link": "https://example.com/a.pdf"},
        "interactive": {"type": "generic"},
        "couponTemplate": {"title": "10% off"},
        "regularTemplate": {"elements": []},
        "quickReply": {"text": "Pick one", "quick_replies": []},
        "buttonTemplate": {"text": "Choose", "buttons": []},
    },
}
SENDERS = {
    "whatsapp": ("6580001111", "6590002222"),
    "viber": ("2819", "380501234567"),
    "messenger": ("104512345678901", "6254712345678901"),
    "instagram": ("17841400000000000", "1789012345678901"),
}
MESSAGE_CASES = [
    (channel, message_type) for channel, types in MINIMAL_CONTENT.items() for message_type in types
]


def free_form(channel: str, message_type: str, content: Any) -> Params:
    sender, recipient = SENDERS[channel]
    params: Params = {
        "ChannelType": channel,
        "Type": "message",
        "MessageType": message_type,
        "From": sender,
        "To": recipient,
        "Content": content,
    }
    if channel == "viber":
        params["Label"] = "transaction"
    if message_type == "pin":
        params["RecipientType"] = "group"
        params["To"] = "120363012345678901"
    return params


def test_it_lists_every_message_type_of_the_reference_and_seeds() -> None:
    assert {channel: set(types) for channel, types in MINIMAL_CONTENT.items()} == {
        channel: set(types) for channel, types in rules.MESSAGE_TYPES.items()
    }


@pytest.mark.parametrize(("channel", "message_type"), MESSAGE_CASES)
def test_it_accepts_the_minimal_content_of_each_message_type(
    channel: str, message_type: str
) -> None:
    content = MINIMAL_CONTENT[channel][message_type]
    assert rules.check_send_message(free_form(channel, message_type, content)) == []
    wire = free_form(channel, message_type, json.dumps(content))
    assert rules.check_send_message(wire) == []


REQUIRED_FIELD_CASES = [
    (channel, message_type, name)
    for channel, types in MINIMAL_CONTENT.items()
    for message_type in types
    for name in rules.CONTENT_RULES[channel][message_type].required
]


@pytest.mark.parametrize(("channel", "message_type", "name"), REQUIRED_FIELD_CASES)
def test_it_refuses_content_without_a_required_field(
    channel: str, message_type: str, name: str
) -> None:
    content = {k: v for k, v in MINIMAL_CONTENT[channel][message_type].items() if k != name}
    code = {"text": TEXT_NOT_EMPTY, "link": LINK_NOT_EMPTY}.get(name, CONTENT_ERROR)
    errors = rules.check_send_message(free_form(channel, message_type, content))
    assert pairs(errors) == [(code, f"Content.{name}")]


@pytest.mark.parametrize(
    ("channel", "message_type", "required"),
    [
        ("whatsapp", "document", ("link", "fileName")),
        ("whatsapp", "location", ("longitude", "latitude")),
        ("whatsapp", "reaction", ("messageId", "emoji")),
        ("viber", "video", ("link", "thumbnail", "fileSize", "duration")),
        ("viber", "document", ("link", "fileName", "fileType")),
        ("viber", "text_button", ("text", "caption", "action")),
        ("viber", "text_video_button", ("text", "link", "thumbnail", "fileSize", "duration")),
        ("messenger", "document", ("link",)),
        ("instagram", "audio", ("link",)),
    ],
)
def test_it_requires_exactly_the_documented_fields(
    channel: str, message_type: str, required: tuple[str, ...]
) -> None:
    assert set(required) <= set(rules.CONTENT_RULES[channel][message_type].required)


@pytest.mark.parametrize(
    ("channel", "message_type", "extra"),
    [
        ("whatsapp", "text", {"caption": "no"}),
        ("whatsapp", "text", {"Caption": "no"}),  # the seeds' spelling is refused as well
        ("whatsapp", "audio", {"caption": "no"}),
        ("whatsapp", "document", {"caption": "no"}),
        ("whatsapp", "sticker", {"caption": "no"}),
        ("whatsapp", "sticker", {"fileName": "a.webp"}),
        ("viber", "text_video_button", {"action": "https://example.com"}),
    ],
)
def test_it_refuses_content_with_a_forbidden_field(
    channel: str, message_type: str, extra: Params
) -> None:
    content = {**MINIMAL_CONTENT[channel][message_type], **extra}
    errors = rules.check_send_message(free_form(channel, message_type, content))
    assert pairs(errors) == [(CONTENT_ERROR, f"Content.{next(iter(extra))}")]


def test_it_accepts_forbidden_fields_left_empty_as_in_the_seed_example() -> None:
    content = {"text": "hello whatsapp", "link": "", "caption": "", "fileName": ""}
    assert rules.check_send_message(free_form("whatsapp", "text", content)) == []


def test_it_hints_at_lower_camel_case_content_keys() -> None:
    errors = rules.check_send_message(
        free_form("whatsapp", "image", {"Link": "https://example.com/a.jpg"})
    )
    assert pairs(errors) == [(LINK_NOT_EMPTY, "Content.link")]
    assert "'link'" in errors[0].message


@pytest.mark.parametrize(
    ("channel", "message_type"),
    [("whatsapp", "location_request"), ("viber", "audio"), ("messenger", "sticker")],
)
def test_it_refuses_message_types_a_channel_does_not_list(channel: str, message_type: str) -> None:
    errors = rules.check_send_message(free_form(channel, message_type, {"text": "x"}))
    assert pairs(errors) == [(MESSAGE_TYPE_NOT_SUPPORT, "MessageType")]


def test_it_sends_pin_messages_to_groups_only() -> None:
    params = free_form("whatsapp", "pin", {"messageId": "61851ccb2f1365b16aee0001"})
    params.update(RecipientType="individual", To="6590002222")
    assert pairs(rules.check_send_message(params)) == [(MESSAGE_TYPE_NOT_SUPPORT, "MessageType")]


@pytest.mark.parametrize(
    ("recipient_type", "to", "expected"),
    [
        ("group", "120363012345678901@g.us", []),  # group ids have no documented format
        ("userId", "US.13491208655302741918", []),  # nor do BSUIDs
        ("individual", "US.13491208655302741918", [("InvalidParameter.ToOnlyNumeric", "To")]),
    ],
)
def test_it_checks_to_as_a_phone_number_for_individuals_only(
    recipient_type: str, to: str, expected: list[tuple[str, str]]
) -> None:
    params = {**whatsapp_text_message(), "RecipientType": recipient_type, "To": to}
    assert pairs(rules.check_send_message(params)) == expected


def test_it_allows_bsuid_recipients_on_whatsapp_only() -> None:
    params = {**viber_message(), "RecipientType": "userId"}
    assert pairs(rules.check_send_message(params)) == [("InvalidRecipientType", "RecipientType")]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"Content": {"text": "Hi {{1}}"}}, "Content.text"),
        ({"TemplateParams": {"1": "{{2}}"}}, "TemplateParams.1"),
    ],
)
def test_it_refuses_leftover_placeholders(params: Params, field: str) -> None:
    base = whatsapp_text_message() if "Content" in params else whatsapp_template_send()
    errors = rules.check_send_message({**base, **params})
    assert pairs(errors) == [("InvalidParameter.MessageInvalid", field)]


# Viber Label and Ttl; fallback.


def test_it_requires_a_label_for_viber_only() -> None:
    viber = viber_message()
    del viber["Label"]
    assert pairs(rules.check_send_message(viber)) == [("MissingLabel", "Label")]
    assert "Label" not in whatsapp_text_message()
    assert rules.check_send_message(whatsapp_text_message()) == []


@pytest.mark.parametrize("label", ["pormotion", "PROMOTION", "marketing"])
def test_it_refuses_labels_other_than_promotion_and_transaction(label: str) -> None:
    errors = rules.check_send_message({**viber_message(), "Label": label})
    assert pairs(errors) == [("InvalidLabel", "Label")]


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [
        ("Ttl", 30, True),
        ("Ttl", 1_209_600, True),
        ("Ttl", "3600", True),
        ("Ttl", 29, False),
        ("Ttl", 1_209_601, False),
        ("Ttl", "an hour", False),
        ("Ttl", 60.5, False),
        ("FallBackDuration", 60, True),
        ("FallBackDuration", 43_200, True),
        ("FallBackDuration", "120", True),
        ("FallBackDuration", 59, False),
        ("FallBackDuration", 43_201, False),
        ("FallBackDuration", True, False),
    ],
)
def test_it_keeps_durations_within_their_documented_range(name: str, value: Any, ok: bool) -> None:
    errors = rules.check_send_message({**viber_message(), name: value})
    assert pairs(errors) == ([] if ok else [(f"Invalid{name}", name)])


@pytest.mark.parametrize(
    ("rule", "ok"), [("undelivered", True), ("sentFailed", True), ("x", False)]
)
def test_it_knows_the_two_fallback_rules(rule: str, ok: bool) -> None:
    errors = rules.check_send_message({**whatsapp_template_send(), "FallBackRule": rule})
    assert pairs(errors) == ([] if ok else [("InvalidFallBackRule", "FallBackRule")])


# Nested parameters: JSON text or objects, and their shapes.


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("TemplateParams", "not json", "TemplateParams"),
        ("TemplateParams", ["Alice"], "TemplateParams"),
        ("TemplateParams", {"1": {"first": "Alice"}}, "TemplateParams.1"),
        ("Payload", "payload1,payload2", "Payload"),
        ("Payload", [1, 2], "Payload"),
        ("FlowAction", "[]", "FlowAction"),
        ("FlowAction", {"FlowActionData": "name=test"}, "FlowAction.FlowActionData"),
        ("FlowAction", {"FlowToken": 12}, "FlowAction.FlowToken"),
        ("ProductAction", {"Sections": {}}, "ProductAction"),
        ("ProductAction", {"Sections": [{"ProductItems": [{}]}]}, "ProductAction.Sections[0]"),
    ],
)
def test_it_refuses_malformed_nested_parameters(name: str, value: Any, field: str) -> None:
    errors = rules.check_send_message({**whatsapp_template_send(), name: value})
    assert len(errors) == 1
    assert errors[0].code == f"Invalid{name}"
    assert errors[0].field.startswith(field)


def product_action(sections: int, products_each: int) -> Params:
    return {
        "Sections": [
            {
                "Title": f"Section {s}",
                "ProductItems": [
                    {"ProductRetailerId": f"SKU-{s}-{p}"} for p in range(products_each)
                ],
            }
            for s in range(sections)
        ]
    }


@pytest.mark.parametrize(
    ("sections", "products_each", "ok"),
    [(10, 3, True), (11, 1, False), (3, 10, True), (1, 30, True), (1, 31, False), (2, 16, False)],
)
def test_it_limits_product_sections_and_products(
    sections: int, products_each: int, ok: bool
) -> None:
    params = {**whatsapp_catalog_send(), "ProductAction": product_action(sections, products_each)}
    errors = rules.check_send_message(params)
    assert pairs(errors) == ([] if ok else [("InvalidProductAction", "ProductAction.Sections")])
    assert rules.check_send_message(as_wire(params)) == errors


# Mass send.


@pytest.mark.parametrize(("recipients", "ok"), [(1, True), (1000, True), (1001, False)])
def test_it_limits_a_mass_send_to_1000_recipients(recipients: int, ok: bool) -> None:
    params = whatsapp_mass_send(recipients)
    expected = [] if ok else [("InvalidSenderList", "SenderList")]
    assert pairs(rules.check_mass_send(params)) == expected
    assert pairs(rules.check_mass_send(as_wire(params))) == expected
    assert rules.MASS_SEND_MAX_RECIPIENTS == 1000


@pytest.mark.parametrize("name", ["ChannelType", "From", "Language", "SenderList"])
def test_it_refuses_a_mass_send_without_a_required_parameter(name: str) -> None:
    params = whatsapp_mass_send()
    del params[name]
    assert pairs(rules.check_mass_send(params)) == [(f"Missing{name}", name)]


def test_it_needs_a_template_for_a_mass_send() -> None:
    params = whatsapp_mass_send()
    del params["TemplateCode"]
    expected = [("InvalidParameter.TemplateCodeNotEmpty", "TemplateCode")]
    assert pairs(rules.check_mass_send(params)) == expected


def test_it_checks_each_recipient_and_names_it() -> None:
    params = whatsapp_mass_send(6)
    params["SenderList"][1]["To"] = "+6590000001"
    params["SenderList"][2]["TemplateParams"] = "Alice"
    params["SenderList"][3] = {"TemplateParams": {"1": "Bob"}}
    params["SenderList"][4]["Payload"] = "yes"
    params["SenderList"][5] = "6590000005"
    assert pairs(rules.check_mass_send(params)) == [
        ("InvalidParameter.ToOnlyNumeric", "SenderList[1].To"),
        ("InvalidTemplateParams", "SenderList[2].TemplateParams"),
        ("MissingTo", "SenderList[3].To"),
        ("InvalidPayload", "SenderList[4].Payload"),
        ("InvalidSenderList", "SenderList[5]"),
    ]


def test_it_checks_recipients_against_the_channel() -> None:
    params = viber_mass_send()
    params["SenderList"].append({"To": "12"})
    assert pairs(rules.check_mass_send(params)) == [
        ("InvalidParameter.PhoneNumberError", "SenderList[2].To")
    ]


def test_it_applies_viber_and_fallback_rules_to_mass_sends() -> None:
    params = {**viber_mass_send(), "Ttl": 29, "FallBackDuration": 43_201}
    del params["Label"]
    assert pairs(rules.check_mass_send(params)) == [
        ("MissingLabel", "Label"),
        ("InvalidTtl", "Ttl"),
        ("InvalidFallBackDuration", "FallBackDuration"),
    ]


@pytest.mark.parametrize("sender_list", ['{"To": "6590000001"}', "[]", [], "6590000001"])
def test_it_refuses_a_sender_list_that_is_not_an_array_of_recipients(sender_list: Any) -> None:
    params = {**whatsapp_mass_send(), "SenderList": sender_list}
    assert pairs(rules.check_mass_send(params)) == [("InvalidSenderList", "SenderList")]


@pytest.mark.parametrize("content", [{}, "{}"])
def test_it_treats_empty_content_alike_as_object_and_as_json(content: Any) -> None:
    errors = rules.check_send_message({**whatsapp_text_message(), "Content": content})
    assert pairs(errors) == [(TEXT_NOT_EMPTY, "Content.text")]
