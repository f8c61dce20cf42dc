"""CreateChatappTemplate / ModifyChatappTemplate rules."""

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from camsconsole.cams import rules
from camsconsole.cams.rules import RuleError

CREATE_ERROR = "InvalidParameter.CreateError"
HEADER_TYPE_NOT_SUPPORT = "InvalidParameter.HeaderTypeNotSupport"

Params = dict[str, Any]


def pairs(errors: list[RuleError]) -> list[tuple[str, str]]:
    return [(error.code, error.field) for error in errors]


def template(category: str, *components: Params, **extra: Any) -> Params:
    return {
        "TemplateType": "WHATSAPP",
        "Name": f"{category.lower()}_example",
        "Language": "en_US",
        "Category": category,
        "Components": list(components),
        **extra,
    }


def body(text: str = "Your order {{1}} is ready, {{2}}.") -> Params:
    return {"Type": "BODY", "Text": text}


def buttons(*items: Params) -> Params:
    return {"Type": "BUTTONS", "Buttons": list(items)}


def quick_reply(text: str = "Yes", **extra: Any) -> Params:
    return {"Type": "QUICK_REPLY", "Text": text, **extra}


def url_button(url: str = "https://example.com/track/{{1}}", **extra: Any) -> Params:
    url_type = "dynamic" if "{{" in url else "static"
    return {"Type": "URL", "Text": "Track order", "Url": url, "UrlType": url_type, **extra}


def phone_button(number: str = "+6560000000") -> Params:
    return {"Type": "PHONE_NUMBER", "Text": "Call us", "PhoneNumber": number}


SAMPLES = {"1": "ORD-42", "2": "Alice"}

# Realistic, valid templates, one per kind the console designs.


def marketing_template() -> Params:
    # The shape of the ModifyChatappTemplate signature vector, as the SDK serialises it.
    return template(
        "MARKETING",
        {"Type": "HEADER", "Format": "IMAGE", "Url": "https://example.com/header.jpg"},
        body("Hi {{1}}, your order {{2}} is ready for pickup."),
        {"Type": "FOOTER", "Text": "Reply STOP to opt out", "Buttons": [], "Cards": []},
        buttons(
            quick_reply("Stop promotions", IsOptOut=True, SupportedApps=[]),
            url_button(),
            phone_button(),
        ),
        Example={"1": "Alice", "2": "ORD-42"},
        AllowCategoryChange="False",
    )


def utility_template() -> Params:
    return template(
        "UTILITY",
        {"Type": "HEADER", "Format": "TEXT", "Text": "Order {{1}}"},
        body(),
        {"Type": "FOOTER", "Text": "Thanks for shopping with us"},
        buttons(url_button("https://example.com/help"), quick_reply("Yes"), quick_reply("No")),
        Example=SAMPLES,
        MessageSendTtlSeconds=3600,
        CategoryChangePaused=True,
    )


def document_template() -> Params:
    header = {
        "Type": "HEADER",
        "Format": "DOCUMENT",
        "Url": "https://example.com/invoice.pdf",
        "FileName": "invoice.pdf",
        "Caption": "Your invoice",
    }
    return template("UTILITY", header, body("Invoice {{1}} is attached."), Example=SAMPLES)


def location_template() -> Params:
    header = {"Type": "HEADER", "Format": "LOCATION"}
    return template(
        "UTILITY", header, body("Your pickup point for {{1}} is above."), Example=SAMPLES
    )


def video_template() -> Params:
    header = {"Type": "HEADER", "Format": "VIDEO", "Url": "https://example.com/a.mp4"}
    return template("MARKETING", header, body("New arrivals, just for you {{1}}!"), Example=SAMPLES)


def authentication_template(button: Params | None = None) -> Params:
    return template(
        "AUTHENTICATION",
        {"Type": "BODY", "AddSecretRecommendation": True},
        {"Type": "FOOTER", "CodeExpirationMinutes": 5},
        buttons(button or {"Type": "COPY_CODE", "Text": "Copy code"}),
        MessageSendTtlSeconds=300,
    )


APP = {"PackageName": "com.example.shop", "SignatureHash": "K8a/AINcGX7"}


def one_tap_template() -> Params:
    button = {"Type": "ONE_TAP", "Text": "Copy code", "AutofillText": "Autofill"}
    return authentication_template({**button, "SupportedApps": [APP]})


def one_tap_flat_template() -> Params:
    # The seed's flat PackageName and SignatureHash: superseded, still accepted.
    button = {"Type": "ONE_TAP", "Text": "Copy code", "AutofillText": "Autofill", **APP}
    return authentication_template(button)


def zero_tap_template() -> Params:
    button = {"Type": "ZERO_TAP", "Text": "Copy code", "AutofillText": "Autofill"}
    return authentication_template({**button, "SupportedApps": [APP, APP]})


def card(url: str, text: str = "Rosa, {{1}} off") -> Params:
    return {
        "CardComponents": [
            {"Type": "HEADER", "Format": "IMAGE", "Url": url},
            {"Type": "BODY", "Text": text},
            {"Type": "BUTTONS", "Buttons": [quick_reply("Buy"), url_button()]},
        ]
    }


def carousel_template(cards: int = 3) -> Params:
    carousel = {
        "Type": "CAROUSEL",
        "Cards": [card(f"https://example.com/plant{n}.jpg") for n in range(cards)],
    }
    return template("MARKETING", body("Spring picks for you, {{1}}."), carousel, Example=SAMPLES)


def limited_time_offer_template() -> Params:
    return template(
        "MARKETING",
        {"Type": "HEADER", "Format": "IMAGE", "Url": "https://example.com/offer.jpg"},
        {"Type": "LIMITED_TIME_OFFER", "HasExpiration": True, "Text": "Expiring offer!"},
        body("Good news, {{1}}! Use code {{2}} for 25% off."),
        buttons({"Type": "COPY_CODE", "CouponCode": "$(couponCode)"}, url_button()),
        Example=SAMPLES,
    )


def flow_template() -> Params:
    flow = {
        "Type": "FLOW",
        "Text": "Book now",
        "FlowId": "664512345670605",
        "FlowAction": "NAVIGATE",
        "NavigateScreen": "DETAILS",
    }
    return template("UTILITY", body("Book your next visit, {{1}}."), buttons(flow), Example=SAMPLES)


def catalog_template() -> Params:
    return template(
        "MARKETING",
        body("Browse our spring catalog, {{1}}."),
        buttons({"Type": "CATALOG", "Text": "View catalog"}),
        Example=SAMPLES,
        ProductSetId="1234567890",
    )


def mpm_template() -> Params:
    return template(
        "MARKETING",
        {"Type": "HEADER", "Format": "TEXT", "Text": "Our picks"},
        body("Hand-picked items for you, {{1}}."),
        buttons({"Type": "MPM", "Text": "View items"}),
        Example=SAMPLES,
    )


def viber_template() -> Params:
    return {
        "TemplateType": "VIBER",
        "Name": "parcel_ready",
        "Language": "en",
        "Category": "UTILITY",
        "Components": [
            {"Type": "HEADER", "Format": "IMAGE", "Url": "https://example.com/800x800.png"},
            {"Type": "BODY", "Text": "Your parcel is ready for pickup."},
            buttons({"Type": "URL", "Text": "Track", "Url": "https://example.com/track"}),
        ],
    }


def viber_video_template() -> Params:
    params = viber_template()
    params["Components"][0] = {
        "Type": "HEADER",
        "Format": "VIDEO",
        "Url": "https://example.com/a.mp4",
        "ThumbUrl": "https://example.com/a.jpg",
        "Duration": 30,
    }
    params["Components"][2] = buttons({"Type": "URL", "Text": "Watch"})
    return params


def modify_params() -> Params:
    params = marketing_template()
    del params["Name"], params["TemplateType"]
    return {**params, "TemplateCode": "847200000883"}


TEMPLATES: list[Callable[[], Params]] = [
    marketing_template,
    utility_template,
    document_template,
    location_template,
    video_template,
    authentication_template,
    one_tap_template,
    one_tap_flat_template,
    zero_tap_template,
    carousel_template,
    limited_time_offer_template,
    flow_template,
    catalog_template,
    mpm_template,
    viber_template,
    viber_video_template,
]


def as_wire(params: Params) -> Params:
    """As the sandbox receives it: scalars as text (booleans as the Python SDK writes them)."""
    return {
        key: json.dumps(value, separators=(",", ":"))
        if isinstance(value, dict | list)
        else str(value)
        for key, value in params.items()
    }


def check(params: Params) -> list[tuple[str, str]]:
    return pairs(rules.check_template(params))


def with_component(params: Params, index: int, component: Params) -> Params:
    params = copy.deepcopy(params)
    params["Components"][index] = component
    return params


# Valid templates.


@pytest.mark.parametrize("example", TEMPLATES)
def test_it_accepts_each_valid_template(example: Callable[[], Params]) -> None:
    assert rules.check_template(example()) == []


@pytest.mark.parametrize("example", TEMPLATES)
def test_it_accepts_each_valid_template_as_it_arrives_over_the_wire(
    example: Callable[[], Params],
) -> None:
    assert rules.check_template(as_wire(example())) == []


def test_it_accepts_a_valid_modify() -> None:
    assert rules.check_template(modify_params(), modify=True) == []
    assert rules.check_template(as_wire(modify_params()), modify=True) == []


# Top-level parameters.


@pytest.mark.parametrize("name", ["TemplateType", "Name", "Language", "Category", "Components"])
def test_it_refuses_a_create_without_a_required_parameter(name: str) -> None:
    params = utility_template()
    del params[name]
    assert check(params)[0] == (f"Missing{name}", name)


@pytest.mark.parametrize("name", ["Language", "Components"])
def test_it_refuses_a_modify_without_a_required_parameter(name: str) -> None:
    params = modify_params()
    del params[name]
    assert pairs(rules.check_template(params, modify=True)) == [(f"Missing{name}", name)]


def test_it_names_the_template_to_modify_by_code_or_name() -> None:
    params = modify_params()
    del params["TemplateCode"]
    expected = [("InvalidParameter.TemplateCodeNotEmpty", "TemplateCode")]
    assert pairs(rules.check_template(params, modify=True)) == expected
    assert rules.check_template({**params, "TemplateName": "spring_sale"}, modify=True) == []


@pytest.mark.parametrize(
    ("changes", "modify", "expected"),
    [
        (
            {"TemplateType": "SMS"},
            False,
            ("InvalidParameter.TemplateTypeNotSupport", "TemplateType"),
        ),
        (
            {"TemplateType": "whatsapp"},
            False,
            ("InvalidParameter.TemplateTypeNotSupport", "TemplateType"),
        ),
        (
            {"TemplateType": "VIBER"},
            True,
            ("InvalidParameter.TemplateTypeNotSupport", "TemplateType"),
        ),
        ({"Language": "en-US"}, False, ("InvalidParameter.LanguageNotSupport", "Language")),
        ({"Category": "OTP"}, False, (CREATE_ERROR, "Category")),
        ({"Category": "TRANSACTIONAL"}, False, (CREATE_ERROR, "Category")),
        ({"AllowCategoryChange": "yes"}, False, (CREATE_ERROR, "AllowCategoryChange")),
        ({"CategoryChangePaused": 1}, False, (CREATE_ERROR, "CategoryChangePaused")),
        ({"Example": "1=Alice"}, False, (CREATE_ERROR, "Example")),
        ({"Example": {"1": ["Alice"]}}, False, (CREATE_ERROR, "Example")),
        ({"Components": "{}"}, False, (CREATE_ERROR, "Components")),
        ({"Components": "[]"}, False, (CREATE_ERROR, "Components")),
    ],
)
def test_it_refuses_bad_top_level_values(
    changes: Params, modify: bool, expected: tuple[str, str]
) -> None:
    params = {**(modify_params() if modify else marketing_template()), **changes}
    assert pairs(rules.check_template(params, modify=modify))[0] == expected


def test_it_points_obsolete_categories_at_their_new_names() -> None:
    errors = rules.check_template({**utility_template(), "Category": "OTP"})
    assert "AUTHENTICATION" in errors[0].message


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("order_update_2", True),
        ("a" * 512, True),
        ("a" * 513, False),
        ("Order_update", False),
        ("order-update", False),
        ("order update", False),
        ("订单", False),
    ],
)
def test_it_keeps_template_names_to_lowercase_digits_and_underscores(name: str, ok: bool) -> None:
    assert check({**utility_template(), "Name": name}) == ([] if ok else [(CREATE_ERROR, "Name")])
    assert rules.TEMPLATE_NAME_MAX_LENGTH == 512


@pytest.mark.parametrize(
    ("example", "seconds", "ok"),
    [
        (authentication_template, 30, True),
        (authentication_template, 900, True),
        (authentication_template, "600", True),
        (authentication_template, 29, False),
        (authentication_template, 901, False),
        (utility_template, 30, True),
        (utility_template, 43_200, True),
        (utility_template, 29, False),
        (utility_template, 43_201, False),
        (marketing_template, "soon", False),
    ],
)
def test_it_keeps_message_send_ttl_seconds_within_the_category_range(
    example: Callable[[], Params], seconds: Any, ok: bool
) -> None:
    params = {**example(), "MessageSendTtlSeconds": seconds}
    assert check(params) == ([] if ok else [(CREATE_ERROR, "MessageSendTtlSeconds")])


# Lengths.


def fill(length: int, stem: str = "") -> str:
    return stem + "x" * (length - len(stem))


@pytest.mark.parametrize(
    ("component", "index", "length", "ok"),
    [
        ("BODY", 1, 1024, True),
        ("BODY", 1, 1025, False),
        ("HEADER", 0, 60, True),
        ("HEADER", 0, 61, False),
        ("FOOTER", 2, 60, True),
        ("FOOTER", 2, 61, False),
    ],
)
def test_it_limits_text_lengths(component: str, index: int, length: int, ok: bool) -> None:
    stem = "Order {{1}} " if component != "FOOTER" else ""
    text = fill(length, stem)
    extra = {"Format": "TEXT"} if component == "HEADER" else {}
    params = with_component(utility_template(), index, {"Type": component, "Text": text, **extra})
    assert check(params) == ([] if ok else [(CREATE_ERROR, f"Components[{index}].Text")])


def test_it_counts_characters_not_bytes() -> None:
    params = with_component(utility_template(), 2, {"Type": "FOOTER", "Text": "é" * 60})
    assert check(params) == []


def test_it_leaves_viber_bodies_to_viber() -> None:
    params = with_component(viber_template(), 1, {"Type": "BODY", "Text": "x" * 1025})
    assert check(params) == []


# Variables.


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("Hi {{1}}, order {{2}}.", True),
        ("Hi {{2}}, order {{1}}.", True),  # order of appearance is free
        ("Hi {{1}}, again {{1}}.", True),
        ("Hi {{1}}, order {{3}}.", False),
        ("Hi {{0}}, order {{1}}.", False),
        ("Hi {{2}}.", False),
    ],
)
def test_it_numbers_variables_from_one_without_gaps(text: str, ok: bool) -> None:
    params = with_component(utility_template(), 1, body(text))
    params["Example"] = {"0": "a", "1": "b", "2": "c", "3": "d"}
    assert check(params) == ([] if ok else [(CREATE_ERROR, "Components[1].Text")])


@pytest.mark.parametrize("text", ["{{1}} is your order.", "Your order is {{1}}", "Order {{1}} \n"])
def test_it_refuses_a_body_starting_or_ending_with_a_variable(text: str) -> None:
    params = with_component(utility_template(), 1, body(text))
    assert check(params) == [(CREATE_ERROR, "Components[1].Text")]


def test_it_allows_one_variable_in_a_header() -> None:
    header = {"Type": "HEADER", "Format": "TEXT", "Text": "Order {{1}} for {{2}}"}
    params = with_component(utility_template(), 0, header)
    expected = [("InvalidParameter.HeaderMoreVarable", "Components[0].Text")]
    assert check(params) == expected


def test_it_refuses_variables_in_a_footer() -> None:
    params = with_component(utility_template(), 2, {"Type": "FOOTER", "Text": "Ref {{1}}"})
    assert check(params) == [("InvalidParameter.FooterHaveVariable", "Components[2].Text")]


def test_it_refuses_variables_in_button_text() -> None:
    params = with_component(utility_template(), 3, buttons(quick_reply("Yes {{1}}")))
    expected = [("InvalidParameter.ButtonTextHaveVariable", "Components[3].Buttons[0].Text")]
    assert check(params) == expected


@pytest.mark.parametrize(
    ("url", "url_type", "expected"),
    [
        ("https://example.com/{{1}}", "dynamic", None),
        ("https://example.com/{{1}}/{{2}}", "dynamic", "InvalidParameter.UrlMoreVarable"),
        ("https://example.com/{{1}}", "static", CREATE_ERROR),
        ("https://example.com/track", "dynamic", CREATE_ERROR),
        ("https://example.com/{{1}}/detail", "dynamic", CREATE_ERROR),
        ("example.com/track", "static", CREATE_ERROR),
        ("javascript:alert(1)", "static", CREATE_ERROR),
    ],
)
def test_it_checks_url_buttons(url: str, url_type: str, expected: str | None) -> None:
    button = {"Type": "URL", "Text": "Open", "Url": url, "UrlType": url_type}
    params = with_component(utility_template(), 3, buttons(button))
    assert check(params) == ([(expected, "Components[3].Buttons[0].Url")] if expected else [])


def test_it_refuses_an_unknown_url_type() -> None:
    button = url_button("https://example.com/a", UrlType="STATIC")
    params = with_component(utility_template(), 3, buttons(button))
    assert check(params) == [(CREATE_ERROR, "Components[3].Buttons[0].UrlType")]


def test_it_needs_samples_for_header_and_body_variables() -> None:
    params = utility_template()
    del params["Example"]
    assert check(params) == [(CREATE_ERROR, "Example")]
    assert check({**params, "Example": {"1": "ORD-42"}}) == [(CREATE_ERROR, "Example.2")]
    assert check({**params, "Example": json.dumps(SAMPLES)}) == []


def test_it_needs_no_samples_without_variables() -> None:
    params = with_component(utility_template(), 1, body("Your order is ready."))
    params["Components"][0] = {"Type": "HEADER", "Format": "TEXT", "Text": "Order update"}
    del params["Example"]
    assert check(params) == []


# Components and HEADER formats.


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            {"Format": "GIF", "Url": "https://example.com/a.gif"},
            (HEADER_TYPE_NOT_SUPPORT, "Format"),
        ),
        (
            {"Format": "image", "Url": "https://example.com/a.png"},
            (HEADER_TYPE_NOT_SUPPORT, "Format"),
        ),
        ({"Url": "https://example.com/a.png"}, (CREATE_ERROR, "Format")),
        ({"Format": "TEXT"}, (CREATE_ERROR, "Text")),
        (
            {"Format": "TEXT", "Text": "Hi", "Url": "https://example.com/a.png"},
            (CREATE_ERROR, "Url"),
        ),
        ({"Format": "IMAGE"}, (CREATE_ERROR, "Url")),
        (
            {"Format": "IMAGE", "Url": "https://e.com/a.png", "FileName": "a"},
            (CREATE_ERROR, "FileName"),
        ),
        ({"Format": "IMAGE", "Url": "https://e.com/a.png", "Text": "Hi"}, (CREATE_ERROR, "Text")),
        ({"Format": "VIDEO", "Url": "ftp://example.com/a.mp4"}, (CREATE_ERROR, "Url")),
        ({"Format": "LOCATION", "Url": "https://e.com/a.png"}, (CREATE_ERROR, "Url")),
        (
            {"Format": "DOCUMENT", "Url": "https://e.com/a.pdf", "ThumbUrl": "https://e.com/a.png"},
            (CREATE_ERROR, "ThumbUrl"),
        ),
    ],
)
def test_it_allows_each_header_format_its_own_fields(
    header: Params, expected: tuple[str, str]
) -> None:
    params = with_component(utility_template(), 0, {"Type": "HEADER", **header})
    params["Example"] = SAMPLES
    code, name = expected
    assert check(params) == [(code, f"Components[0].{name}")]


@pytest.mark.parametrize(
    ("index", "component", "field"),
    [
        (1, {"Type": "BODY"}, "Components[1].Text"),
        (1, {**body(), "Url": "https://example.com"}, "Components[1].Url"),
        (1, {**body(), "AddSecretRecommendation": True}, "Components[1].AddSecretRecommendation"),
        (
            2,
            {"Type": "FOOTER", "Text": "Bye", "CodeExpirationMinutes": 5},
            "Components[2].CodeExpirationMinutes",
        ),
        (3, {"Type": "BUTTONS", "Buttons": []}, "Components[3].Buttons"),
        (3, {"Type": "BUTTONS", "Buttons": "yes"}, "Components[3].Buttons"),
        (2, {"Type": "HEADLINE", "Text": "Hi"}, "Components[2].Type"),
        (2, {"Text": "Hi"}, "Components[2].Type"),
        (2, {"Type": "HEADER", "Format": "TEXT", "Text": "Again"}, "Components[2].Type"),
        (2, "FOOTER", "Components[2]"),
    ],
)
def test_it_refuses_malformed_components(index: int, component: Any, field: str) -> None:
    params = with_component(marketing_template(), index, component)
    assert check(params) == [(CREATE_ERROR, field)]


def test_it_needs_a_body_in_a_whatsapp_template() -> None:
    params = marketing_template()
    params["Components"].pop(1)
    assert check(params) == [(CREATE_ERROR, "Components")]


# Buttons.


@pytest.mark.parametrize(("count", "ok"), [(10, True), (11, False)])
def test_it_allows_ten_buttons(count: int, ok: bool) -> None:
    params = with_component(
        utility_template(), 3, buttons(*[quick_reply(f"R{n}") for n in range(count)])
    )
    assert check(params) == ([] if ok else [(CREATE_ERROR, "Components[3].Buttons")])
    assert rules.BUTTONS_MAX == 10


@pytest.mark.parametrize(
    ("items", "ok"),
    [
        ([phone_button()], True),
        ([phone_button(), phone_button("+6560000001")], False),
        ([url_button(), url_button("https://example.com/b")], True),
        (
            [
                url_button(),
                url_button("https://example.com/b"),
                url_button("https://example.com/c"),
            ],
            False,
        ),
    ],
)
def test_it_limits_phone_and_url_buttons(items: list[Params], ok: bool) -> None:
    params = with_component(utility_template(), 3, buttons(*items))
    assert check(params) == ([] if ok else [(CREATE_ERROR, "Components[3].Buttons")])


@pytest.mark.parametrize(
    ("kinds", "ok"),
    [
        ("QQUP", True),
        ("UPQQ", True),
        ("QUPQ", False),
        ("UQP", False),
        ("QQQ", True),
    ],
)
def test_it_keeps_quick_replies_grouped(kinds: str, ok: bool) -> None:
    make = {
        "Q": lambda n: quick_reply(f"R{n}"),
        "U": lambda n: url_button(),
        "P": lambda n: phone_button(),
    }
    items = [make[kind](n) for n, kind in enumerate(kinds)]
    params = with_component(utility_template(), 3, buttons(*items))
    assert check(params) == ([] if ok else [(CREATE_ERROR, "Components[3].Buttons")])


@pytest.mark.parametrize(
    ("button", "field", "code"),
    [
        ({"Type": "PHONE_NUMBER", "Text": "Call"}, "PhoneNumber", CREATE_ERROR),
        (
            {"Type": "PHONE_NUMBER", "Text": "Call", "PhoneNumber": "call us"},
            "PhoneNumber",
            "InvalidParameter.PhoneNumberError",
        ),
        (
            {"Type": "PHONE_NUMBER", "Text": "Call", "PhoneNumber": "+12"},
            "PhoneNumber",
            "InvalidParameter.PhoneNumberError",
        ),
        ({"Type": "URL", "Text": "Open"}, "Url", CREATE_ERROR),
        ({"Type": "QUICK_REPLY"}, "Text", CREATE_ERROR),
        ({"Type": "QUICK_REPLY", "Text": "Hi", "Url": "https://example.com"}, "Url", CREATE_ERROR),
        (
            {
                "Type": "PHONE_NUMBER",
                "Text": "Call",
                "PhoneNumber": "+6560000000",
                "IsOptOut": True,
            },
            "IsOptOut",
            CREATE_ERROR,
        ),
        ({"Type": "QUICK_REPLY", "Text": "Stop", "IsOptOut": "maybe"}, "IsOptOut", CREATE_ERROR),
        ({"Type": "COPY_CODE"}, "CouponCode", CREATE_ERROR),
        ({"Type": "COPY_CODE", "CouponCode": "SAVE-25"}, "CouponCode", CREATE_ERROR),
        ({"Type": "FLOW", "Text": "Book"}, "FlowId", CREATE_ERROR),
        (
            {"Type": "FLOW", "Text": "Book", "FlowId": "1", "FlowAction": "NAVIGATE"},
            "NavigateScreen",
            CREATE_ERROR,
        ),
        (
            {"Type": "FLOW", "Text": "Book", "FlowId": "1", "FlowAction": "OPEN"},
            "FlowAction",
            CREATE_ERROR,
        ),
        ({"Type": "MPM"}, "Text", CREATE_ERROR),
        (
            {"Type": "CATALOG", "Text": "View", "PhoneNumber": "+6560000000"},
            "PhoneNumber",
            CREATE_ERROR,
        ),
        ({"Type": "ONE_TAP", "Text": "Copy", "AutofillText": "Fill"}, "Type", CREATE_ERROR),
        ({"Type": "ZERO_TAP", "Text": "Copy", "AutofillText": "Fill"}, "Type", CREATE_ERROR),
        ({"Type": "CALL"}, "Type", CREATE_ERROR),
        ({"Text": "Hi"}, "Type", CREATE_ERROR),
    ],
)
def test_it_checks_each_button_type_for_its_fields(button: Params, field: str, code: str) -> None:
    params = with_component(marketing_template(), 3, buttons(button))
    assert check(params) == [(code, f"Components[3].Buttons[0].{field}")]


@pytest.mark.parametrize(
    "button",
    [
        {"Type": "COPY_CODE", "CouponCode": "SAVE25"},
        {"Type": "COPY_CODE", "CouponCode": "$(couponCode)", "Text": "Copy offer code"},
        {"Type": "FLOW", "Text": "Sign up", "FlowId": "1", "FlowAction": "DATA_EXCHANGE"},
        {"Type": "FLOW", "Text": "Sign up", "FlowId": "1"},
        {"Type": "PHONE_NUMBER", "Text": "Call", "PhoneNumber": "6560000000"},
    ],
)
def test_it_accepts_each_button_type_with_its_fields(button: Params) -> None:
    assert check(with_component(marketing_template(), 3, buttons(button))) == []


def test_it_allows_the_marketing_opt_out_on_marketing_templates_only() -> None:
    params = with_component(utility_template(), 3, buttons(quick_reply("Stop", IsOptOut=True)))
    assert check(params) == [(CREATE_ERROR, "Components[3].Buttons[0].IsOptOut")]
    params["Category"] = "MARKETING"
    assert check(params) == []


# AUTHENTICATION.


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda p: p["Components"].insert(
                0, {"Type": "HEADER", "Format": "TEXT", "Text": "Code"}
            ),
            "Components[0].Type",
        ),
        (lambda p: p["Components"][0].update(Text="Your code is {{1}}."), "Components[0].Text"),
        (lambda p: p["Components"][1].update(Text="Expires soon."), "Components[1].Text"),
        (lambda p: p["Components"].pop(2), "Components"),
        (
            lambda p: p["Components"][2]["Buttons"].append({"Type": "COPY_CODE", "Text": "Again"}),
            "Components[2].Buttons",
        ),
        (
            lambda p: p["Components"][2].update(Buttons=[quick_reply()]),
            "Components[2].Buttons[0].Type",
        ),
        (
            lambda p: p["Components"][2].update(Buttons=[url_button()]),
            "Components[2].Buttons[0].Type",
        ),
        (
            lambda p: p["Components"][2].update(Buttons=[{"Type": "COPY_CODE"}]),
            "Components[2].Buttons[0].Text",
        ),
        (
            lambda p: p["Components"][2]["Buttons"][0].update(CouponCode="SAVE25"),
            "Components[2].Buttons[0].CouponCode",
        ),
        (
            lambda p: p["Components"][1].update(CodeExpirationMinutes=91),
            "Components[1].CodeExpirationMinutes",
        ),
        (
            lambda p: p["Components"][1].update(CodeExpirationMinutes=0),
            "Components[1].CodeExpirationMinutes",
        ),
        (
            lambda p: p["Components"][0].update(AddSecretRecommendation="sure"),
            "Components[0].AddSecretRecommendation",
        ),
        (lambda p: p["Components"].append({"Type": "LIMITED_TIME_OFFER"}), "Components[3].Type"),
    ],
)
def test_it_applies_the_authentication_rules(
    change: Callable[[Params], Any], expected: str
) -> None:
    params = authentication_template()
    change(params)
    assert check(params) == [(CREATE_ERROR, expected)]


@pytest.mark.parametrize("minutes", [1, 90, "10"])
def test_it_accepts_code_expiration_from_1_to_90_minutes(minutes: Any) -> None:
    params = authentication_template()
    params["Components"][1]["CodeExpirationMinutes"] = minutes
    assert check(params) == []


@pytest.mark.parametrize(
    ("button", "field"),
    [
        ({"Type": "ONE_TAP", "Text": "Copy", "AutofillText": "Fill"}, "SupportedApps"),
        (
            {"Type": "ONE_TAP", "Text": "Copy", "AutofillText": "Fill", "PackageName": "com.a"},
            "SignatureHash",
        ),
        ({"Type": "ONE_TAP", "Text": "Copy", "SupportedApps": [APP]}, "AutofillText"),
        (
            {
                "Type": "ZERO_TAP",
                "Text": "Copy",
                "AutofillText": "Fill",
                "SupportedApps": [{"PackageName": "com.a"}],
            },
            "SupportedApps[0].SignatureHash",
        ),
        (
            {"Type": "ZERO_TAP", "Text": "Copy", "AutofillText": "Fill", "SupportedApps": "com.a"},
            "SupportedApps",
        ),
    ],
)
def test_it_needs_the_app_for_autofill_buttons(button: Params, field: str) -> None:
    params = authentication_template(button)
    assert check(params) == [(CREATE_ERROR, f"Components[2].Buttons[0].{field}")]


# Carousel.


@pytest.mark.parametrize(("cards", "ok"), [(1, True), (10, True), (11, False)])
def test_it_limits_the_number_of_cards(cards: int, ok: bool) -> None:
    assert check(carousel_template(cards)) == (
        [] if ok else [(CREATE_ERROR, "Components[1].Cards")]
    )


def test_it_refuses_a_carousel_without_cards() -> None:
    params = carousel_template()
    params["Components"][1]["Cards"] = []
    assert check(params) == [(CREATE_ERROR, "Components[1].Cards")]


CARD = "Components[1].Cards[1]"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda c: c[0].update(Format="VIDEO", Url="https://example.com/a.mp4"),
            (CREATE_ERROR, CARD),
        ),
        (
            lambda c: c[0].update(Format="DOCUMENT"),
            (HEADER_TYPE_NOT_SUPPORT, f"{CARD}.CardComponents[0].Format"),
        ),
        (lambda c: c.pop(0), (CREATE_ERROR, CARD)),
        (lambda c: c[0].pop("Url"), (CREATE_ERROR, f"{CARD}.CardComponents[0].Url")),
        (lambda c: c[1].update(Text="Hi {{2}}"), (CREATE_ERROR, f"{CARD}.CardComponents[1].Text")),
        (
            lambda c: c[2]["Buttons"].append(quick_reply("More")),
            (CREATE_ERROR, f"{CARD}.CardComponents[2].Buttons"),
        ),
        (lambda c: c[2]["Buttons"].reverse(), (CREATE_ERROR, CARD)),
        (
            lambda c: c[2].update(
                Buttons=[quick_reply(), {"Type": "COPY_CODE", "CouponCode": "A1"}]
            ),
            (CREATE_ERROR, f"{CARD}.CardComponents[2].Buttons[1].Type"),
        ),
        (
            lambda c: c.append({"Type": "FOOTER", "Text": "Hi"}),
            (CREATE_ERROR, f"{CARD}.CardComponents[3].Type"),
        ),
        (
            lambda c: c.append({"Type": "BODY", "Text": "Again"}),
            (CREATE_ERROR, f"{CARD}.CardComponents[3].Type"),
        ),
    ],
)
def test_it_checks_cards_and_their_consistency(
    change: Callable[[list[Params]], Any], expected: tuple[str, str]
) -> None:
    params = carousel_template()
    change(params["Components"][1]["Cards"][1]["CardComponents"])
    assert expected in check(params)
    assert all(field.startswith(CARD) for _, field in check(params))


def test_it_allows_two_buttons_per_card() -> None:
    assert rules.CARD_BUTTONS_MAX == 2
    params = carousel_template()
    for each in params["Components"][1]["Cards"]:
        each["CardComponents"][2]["Buttons"] = [phone_button(), url_button()]
    assert check(params) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.update(Category="UTILITY"), "Components[1].Type"),
        (lambda p: p["Components"].append({"Type": "FOOTER", "Text": "Bye"}), "Components[2].Type"),
        (lambda p: p.update(TemplateType="VIBER"), "Components[1].Type"),
    ],
)
def test_it_keeps_carousels_to_marketing_templates_with_a_body(
    change: Callable[[Params], Any], field: str
) -> None:
    params = carousel_template()
    change(params)
    assert (CREATE_ERROR, field) in check(params)


# Limited-time offer.


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.update(Category="UTILITY"), "Components[1].Type"),
        (
            lambda p: p["Components"][1].update(HasExpiration="sometimes"),
            "Components[1].HasExpiration",
        ),
        (lambda p: p["Components"][1].update(Url="https://example.com"), "Components[1].Url"),
    ],
)
def test_it_checks_limited_time_offers(change: Callable[[Params], Any], field: str) -> None:
    params = limited_time_offer_template()
    change(params)
    assert check(params) == [(CREATE_ERROR, field)]


# Viber templates.


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda p: p["Components"].append({"Type": "FOOTER", "Text": "Bye"}),
            (CREATE_ERROR, "Components[3].Type"),
        ),
        (
            lambda p: p["Components"].append({"Type": "LIMITED_TIME_OFFER"}),
            (CREATE_ERROR, "Components[3].Type"),
        ),
        (
            lambda p: p["Components"][2]["Buttons"].append(
                {"Type": "URL", "Text": "B", "Url": "https://e.com"}
            ),
            (CREATE_ERROR, "Components[2].Buttons"),
        ),
        (
            lambda p: p["Components"][2].update(Buttons=[quick_reply()]),
            (CREATE_ERROR, "Components[2].Buttons[0].Type"),
        ),
        (
            lambda p: p["Components"][0].update(Format="TEXT", Text="Hi"),
            (HEADER_TYPE_NOT_SUPPORT, "Components[0].Format"),
        ),
        (
            lambda p: p["Components"][0].update(Format="LOCATION"),
            (HEADER_TYPE_NOT_SUPPORT, "Components[0].Format"),
        ),
        (
            lambda p: p["Components"][0].update(Caption="Hi"),
            (CREATE_ERROR, "Components[0].Caption"),
        ),
    ],
)
def test_it_applies_the_viber_template_rules(
    change: Callable[[Params], Any], expected: tuple[str, str]
) -> None:
    params = viber_template()
    change(params)
    assert check(params) == [expected]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda p: p["Components"][2]["Buttons"][0].update(Url="https://example.com"),
            "Components[2].Buttons[0].Url",
        ),
        (lambda p: p["Components"][0].pop("ThumbUrl"), "Components[0].ThumbUrl"),
        (lambda p: p["Components"][0].update(Duration=601), "Components[0].Duration"),
        (lambda p: p["Components"][0].update(Duration=-1), "Components[0].Duration"),
        (lambda p: p["Components"][0].update(Duration="half a minute"), "Components[0].Duration"),
    ],
)
def test_it_applies_the_viber_video_rules(change: Callable[[Params], Any], field: str) -> None:
    params = viber_video_template()
    change(params)
    assert check(params) == [(CREATE_ERROR, field)]


@pytest.mark.parametrize("seconds", [0, 600])
def test_it_accepts_viber_video_durations_at_the_edges(seconds: int) -> None:
    params = viber_video_template()
    params["Components"][0]["Duration"] = seconds
    assert check(params) == []


def test_it_allows_one_viber_button_without_a_body() -> None:
    params = viber_template()
    params["Components"].pop(1)
    assert check(params) == []


# Modify.


def test_it_skips_category_rules_when_a_modify_leaves_the_category_out() -> None:
    params = modify_params()  # with a marketing opt-out button
    assert pairs(rules.check_template({**params, "Category": "UTILITY"}, modify=True)) == [
        (CREATE_ERROR, "Components[3].Buttons[0].IsOptOut")
    ]
    del params["Category"]
    assert rules.check_template(params, modify=True) == []
