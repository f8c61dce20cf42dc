"""Every documented template rule at its edge, as the design page's live check reports it: the
last value allowed passes, the first one beyond is refused next to the field at fault."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from camsconsole.models import Channel
from tests.templates_app.conftest import EXAMPLE, design_post, marketing

QR = {"Type": "QUICK_REPLY", "Text": "OK"}
URL = {"Type": "URL", "Text": "Open", "Url": "https://example.com/a", "UrlType": "static"}
PHONE = {"Type": "PHONE_NUMBER", "Text": "Call", "PhoneNumber": "+6560000000"}
COPY = {"Type": "COPY_CODE", "Text": "Copy code"}
ONE_TAP = {
    "Type": "ONE_TAP",
    "Text": "Copy code",
    "AutofillText": "Autofill",
    "SupportedApps": [{"PackageName": "com.shop.app", "SignatureHash": "K8a/AINcGX7"}],
}


def buttons(*items: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "BUTTONS", "Buttons": list(items)}


def body(text: str) -> dict[str, Any]:
    return {"Type": "BODY", "Text": text}


def padded(length: int) -> str:
    start = "Hello {{1}}, use {{2}} "
    return start + "x" * (length - len(start))


def header_text(text: str) -> dict[str, Any]:
    return {"Type": "HEADER", "Format": "TEXT", "Text": text}


def authentication(*parts: dict[str, Any]) -> dict[str, Any]:
    default = [
        {"Type": "BODY", "AddSecretRecommendation": True},
        {"Type": "FOOTER", "CodeExpirationMinutes": 10},
        buttons(COPY),
    ]
    return {
        "category": "AUTHENTICATION",
        "components": list(parts) or default,
        "example": {},
        "message_send_ttl_seconds": "300",
    }


def card(*card_buttons: dict[str, Any], header: str = "IMAGE") -> dict[str, Any]:
    parts = [
        {"Type": "HEADER", "Format": header, "Url": "https://example.com/c.png"},
        {"Type": "BODY", "Text": "Card text"},
    ]
    if card_buttons:
        parts.append(buttons(*card_buttons))
    return {"CardComponents": parts}


def carousel(*cards: dict[str, Any]) -> dict[str, Any]:
    return {
        "components": [
            body("Pick one of these, {{1}}."),
            {"Type": "CAROUSEL", "Cards": list(cards)},
        ],
        "example": {"1": "Alice"},
    }


# (case, changes to the valid marketing design, field the error must be reported at or None)
CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("valid marketing design", {}, None),
    ("body at 1,024 characters", {"components": marketing(BODY=body(padded(1024)))}, None),
    ("body at 1,025", {"components": marketing(BODY=body(padded(1025)))}, "Components[1].Text"),
    (
        "body starting with a variable",
        {"components": marketing(BODY=body("{{1}} {{2}} hi"))},
        "Components[1].Text",
    ),
    (
        "variables with a gap",
        {"components": marketing(BODY=body("Hi {{1}}, {{3}} off"))},
        "Components[1].Text",
    ),
    ("a sample missing", {"example": {"1": "Alice"}}, "Example.2"),
    ("header text at 60", {"components": marketing(HEADER=header_text("H" * 60))}, None),
    (
        "header text at 61",
        {"components": marketing(HEADER=header_text("H" * 61))},
        "Components[0].Text",
    ),
    ("header with one variable", {"components": marketing(HEADER=header_text("Hi {{1}}"))}, None),
    (
        "header with two variables",
        {"components": marketing(HEADER=header_text("{{1}} {{2}}"))},
        "Components[0].Text",
    ),
    (
        "header image without a Url",
        {"components": marketing(HEADER={"Type": "HEADER", "Format": "IMAGE"})},
        "Components[0].Url",
    ),
    (
        "caption on a text header",
        {"components": marketing(HEADER=header_text("Hi") | {"Caption": "x"})},
        "Components[0].Caption",
    ),
    (
        "file name on a document",
        {
            "components": marketing(
                HEADER={
                    "Type": "HEADER",
                    "Format": "DOCUMENT",
                    "Url": "https://example.com/a.pdf",
                    "FileName": "a.pdf",
                }
            )
        },
        None,
    ),
    (
        "file name on an image",
        {
            "components": marketing(
                HEADER={
                    "Type": "HEADER",
                    "Format": "IMAGE",
                    "Url": "https://example.com/a.png",
                    "FileName": "a.png",
                }
            )
        },
        "Components[0].FileName",
    ),
    ("footer at 60", {"components": marketing(FOOTER={"Type": "FOOTER", "Text": "F" * 60})}, None),
    (
        "footer at 61",
        {"components": marketing(FOOTER={"Type": "FOOTER", "Text": "F" * 61})},
        "Components[2].Text",
    ),
    (
        "footer with a variable",
        {"components": marketing(FOOTER={"Type": "FOOTER", "Text": "Bye {{1}}"})},
        "Components[2].Text",
    ),
    ("ten buttons", {"components": marketing(BUTTONS=buttons(URL, URL, PHONE, *[QR] * 7))}, None),
    (
        "eleven buttons",
        {"components": marketing(BUTTONS=buttons(URL, URL, PHONE, *[QR] * 8))},
        "Components[3].Buttons",
    ),
    (
        "three URL buttons",
        {"components": marketing(BUTTONS=buttons(URL, URL, URL))},
        "Components[3].Buttons",
    ),
    (
        "two phone buttons",
        {"components": marketing(BUTTONS=buttons(PHONE, PHONE))},
        "Components[3].Buttons",
    ),
    (
        "quick replies split",
        {"components": marketing(BUTTONS=buttons(QR, URL, QR))},
        "Components[3].Buttons",
    ),
    ("quick replies first", {"components": marketing(BUTTONS=buttons(QR, QR, URL, PHONE))}, None),
    (
        "a variable in button text",
        {"components": marketing(BUTTONS=buttons(QR | {"Text": "Hi {{1}}"}))},
        "Components[3].Buttons[0].Text",
    ),
    (
        "a dynamic URL",
        {
            "components": marketing(
                BUTTONS=buttons(URL | {"Url": "https://example.com/o/{{1}}", "UrlType": "dynamic"})
            )
        },
        None,
    ),
    (
        "two variables in a URL",
        {
            "components": marketing(
                BUTTONS=buttons(
                    URL | {"Url": "https://example.com/{{1}}/{{2}}", "UrlType": "dynamic"}
                )
            )
        },
        "Components[3].Buttons[0].Url",
    ),
    (
        "a variable in a static URL",
        {"components": marketing(BUTTONS=buttons(URL | {"Url": "https://example.com/{{1}}"}))},
        "Components[3].Buttons[0].Url",
    ),
    (
        "opt-out on marketing",
        {"components": marketing(BUTTONS=buttons(QR | {"IsOptOut": True}))},
        None,
    ),
    (
        "opt-out on utility",
        {"category": "UTILITY", "components": marketing(BUTTONS=buttons(QR | {"IsOptOut": True}))},
        "Components[3].Buttons[0].IsOptOut",
    ),
    (
        "a bad phone number",
        {"components": marketing(BUTTONS=buttons(PHONE | {"PhoneNumber": "call-me"}))},
        "Components[3].Buttons[0].PhoneNumber",
    ),
    (
        "a navigate flow without screen",
        {
            "components": marketing(
                BUTTONS=buttons(
                    {"Type": "FLOW", "Text": "Go", "FlowId": "66451", "FlowAction": "NAVIGATE"}
                )
            )
        },
        "Components[3].Buttons[0].NavigateScreen",
    ),
    (
        "a navigate flow with screen",
        {
            "components": marketing(
                BUTTONS=buttons(
                    {
                        "Type": "FLOW",
                        "Text": "Go",
                        "FlowId": "66451",
                        "FlowAction": "NAVIGATE",
                        "NavigateScreen": "DETAILS",
                    }
                )
            )
        },
        None,
    ),
    (
        "a coupon with a dash",
        {"components": marketing(BUTTONS=buttons({"Type": "COPY_CODE", "CouponCode": "SAVE-20"}))},
        "Components[3].Buttons[0].CouponCode",
    ),
    (
        "a ONE_TAP outside authentication",
        {"components": marketing(BUTTONS=buttons(ONE_TAP))},
        "Components[3].Buttons[0].Type",
    ),
    (
        "a limited-time offer",
        {
            "components": [
                *marketing(),
                {"Type": "LIMITED_TIME_OFFER", "Text": "Ends soon", "HasExpiration": True},
            ]
        },
        None,
    ),
    (
        "a limited-time offer on utility",
        {
            "category": "UTILITY",
            "components": [*marketing(), {"Type": "LIMITED_TIME_OFFER", "Text": "x"}],
        },
        "Components[4].Type",
    ),
    ("name with capitals", {"name": "Spring_Sale"}, "Name"),
    ("name with a dash", {"name": "spring-sale"}, "Name"),
    ("name of 512", {"name": "n" * 512}, None),
    ("name of 513", {"name": "n" * 513}, "Name"),
    ("language en_US", {"language": "en_US"}, None),
    ("language en-US", {"language": "en-US"}, "Language"),
    ("language fil", {"language": "fil"}, None),
    ("authentication", authentication(), None),
    ("authentication with ONE_TAP", authentication({"Type": "BODY"}, buttons(ONE_TAP)), None),
    (
        "ONE_TAP without app",
        authentication({"Type": "BODY"}, buttons(ONE_TAP | {"SupportedApps": []})),
        "Components[1].Buttons[0].SupportedApps",
    ),
    (
        "authentication with a header",
        authentication(header_text("Code"), {"Type": "BODY"}, buttons(COPY)),
        "Components[0].Type",
    ),
    (
        "authentication body text",
        authentication(body("Your code"), buttons(COPY)),
        "Components[0].Text",
    ),
    ("authentication without buttons", authentication({"Type": "BODY"}), "Components"),
    (
        "authentication with two buttons",
        authentication({"Type": "BODY"}, buttons(COPY, COPY)),
        "Components[1].Buttons",
    ),
    (
        "authentication quick reply",
        authentication({"Type": "BODY"}, buttons(QR)),
        "Components[1].Buttons[0].Type",
    ),
    (
        "code expiring after 90 minutes",
        authentication(
            {"Type": "BODY"}, {"Type": "FOOTER", "CodeExpirationMinutes": 90}, buttons(COPY)
        ),
        None,
    ),
    (
        "code expiring after 91 minutes",
        authentication(
            {"Type": "BODY"}, {"Type": "FOOTER", "CodeExpirationMinutes": 91}, buttons(COPY)
        ),
        "Components[1].CodeExpirationMinutes",
    ),
    ("message validity 30 s", authentication() | {"message_send_ttl_seconds": "30"}, None),
    (
        "message validity 29 s",
        authentication() | {"message_send_ttl_seconds": "29"},
        "MessageSendTtlSeconds",
    ),
    ("message validity 900 s", authentication() | {"message_send_ttl_seconds": "900"}, None),
    (
        "message validity 901 s",
        authentication() | {"message_send_ttl_seconds": "901"},
        "MessageSendTtlSeconds",
    ),
    ("carousel of two cards", carousel(card(QR, URL), card(QR, URL)), None),
    ("carousel of ten cards", carousel(*[card()] * 10), None),
    ("carousel of eleven cards", carousel(*[card()] * 11), "Components[1].Cards"),
    (
        "card with three buttons",
        carousel(card(QR, QR, QR)),
        "Components[1].Cards[0].CardComponents[2].Buttons",
    ),
    (
        "card with a document header",
        carousel(card(header="DOCUMENT")),
        "Components[1].Cards[0].CardComponents[0].Format",
    ),
    (
        "cards with different headers",
        carousel(card(), card(header="VIDEO")),
        "Components[1].Cards[1]",
    ),
    (
        "carousel with a footer",
        carousel(card())
        | {"components": [*carousel(card())["components"], {"Type": "FOOTER", "Text": "x"}]},
        "Components[2].Type",
    ),
]

VIBER_CASES: list[tuple[str, list[dict[str, Any]], str | None]] = [
    (
        "image, text and a URL button",
        [marketing()[0], body("Hi {{1}}, {{2}} inside."), buttons(URL)],
        None,
    ),
    (
        "a footer",
        [body("Hi {{1}}, {{2}} inside."), {"Type": "FOOTER", "Text": "x"}],
        "Components[1].Type",
    ),
    ("two buttons", [body("Hi {{1}}, {{2}} inside."), buttons(URL, URL)], "Components[1].Buttons"),
    (
        "a quick reply",
        [body("Hi {{1}}, {{2}} inside."), buttons(QR)],
        "Components[1].Buttons[0].Type",
    ),
    ("a text header", [header_text("Hi"), body("Hi {{1}}, {{2}} inside.")], "Components[0].Format"),
]


def check(client: Client, data: dict[str, Any]) -> dict[str, Any]:
    response = client.post(reverse("template-validate"), data)
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(("case", "changes", "field"), CASES, ids=[c[0] for c in CASES])
def test_it_checks_each_rule_at_its_edge(
    operator_client: Client, channel: Channel, case: str, changes: dict[str, Any], field: str | None
) -> None:
    answer = check(operator_client, design_post(channel, **{"example": EXAMPLE, **changes}))
    fields = [error["field"] for error in answer["errors"]]
    if field is None:
        assert answer == {"valid": True, "errors": []}
    else:
        assert field in fields, answer["errors"]
        assert not answer["valid"]


@pytest.mark.parametrize(("case", "parts", "field"), VIBER_CASES, ids=[c[0] for c in VIBER_CASES])
def test_it_allows_viber_only_its_documented_parts(
    operator_client: Client,
    channel: Channel,
    case: str,
    parts: list[dict[str, Any]],
    field: str | None,
) -> None:
    channel.channel_type = "viber"
    channel.save()
    answer = check(operator_client, design_post(channel, components=parts))
    if field is None:
        assert answer == {"valid": True, "errors": []}
    else:
        assert field in [error["field"] for error in answer["errors"]], answer["errors"]


def test_it_reports_cams_codes_with_the_errors(operator_client: Client, channel: Channel) -> None:
    changes = {"components": marketing(FOOTER={"Type": "FOOTER", "Text": "Bye {{1}}"})}
    errors = check(operator_client, design_post(channel, **changes))["errors"]
    assert {"field": "Components[2].Text", "code": "InvalidParameter.FooterHaveVariable"} in [
        {"field": e["field"], "code": e["code"]} for e in errors
    ]


def test_it_says_a_missing_name_once(operator_client: Client, channel: Channel) -> None:
    errors = check(operator_client, design_post(channel, name=""))["errors"]
    assert [e["field"] for e in errors] == ["Name"]


def test_it_checks_the_components_while_the_name_is_missing(
    operator_client: Client, channel: Channel
) -> None:
    changes = {"name": "", "components": marketing(FOOTER={"Type": "FOOTER", "Text": "F" * 61})}
    errors = check(operator_client, design_post(channel, **changes))["errors"]
    assert {e["field"] for e in errors} == {"Name", "Components[2].Text"}


def test_it_refuses_malformed_components(operator_client: Client, channel: Channel) -> None:
    for bad in ("{not json", '{"Type": "BODY"}', '["BODY"]'):
        errors = check(operator_client, design_post(channel, components=bad))["errors"]
        assert [e["field"] for e in errors] == ["Components"]


def test_it_checks_for_viewers_never(viewer_client: Client, channel: Channel) -> None:
    response = viewer_client.post(reverse("template-validate"), design_post(channel))
    assert response.status_code == 403
