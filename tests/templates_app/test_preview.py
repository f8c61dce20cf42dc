"""The preview: WhatsApp markup after escaping, variables, buttons, cards, generated text."""

import pytest
from django.test import Client

from camsconsole.models import Channel
from templates_app import preview
from templates_app.preview import Run
from tests.templates_app.conftest import detail_url, make_variant, marketing, page


def styles(text: str) -> list[tuple[str, str]]:
    flags = ("bold", "italic", "strike", "mono")
    return [
        (run.text, "+".join(flag for flag in flags if getattr(run, flag)) or "plain")
        for run in preview.runs(text)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*bold*", [("bold", "bold")]),
        ("_italic_ and ~gone~", [("italic", "italic"), (" and ", "plain"), ("gone", "strike")]),
        ("```*not bold*```", [("*not bold*", "mono")]),
        ("*bold _both_*", [("bold ", "bold"), ("both", "bold+italic")]),
        ("snake_case_name", [("snake_case_name", "plain")]),
        ("2 * 3 * 4", [("2 * 3 * 4", "plain")]),
        ("* not bold *", [("* not bold *", "plain")]),
        ("*across\nlines*", [("*across\nlines*", "plain")]),
        ("a*b*c", [("a*b*c", "plain")]),
    ],
)
def test_it_reads_whatsapp_markup(text: str, expected: list[tuple[str, str]]) -> None:
    assert styles(text) == expected


def test_it_fills_in_samples_and_leaves_the_rest() -> None:
    assert preview.fill("Hi {{1}}, {{2}}!", {"1": "Alice"}) == "Hi Alice, {{2}}!"


def test_it_renders_a_script_in_the_body_as_text(viewer_client: Client, channel: Channel) -> None:
    attack = '<script>alert("x")</script> *<img src=x onerror=alert(1)>*'
    variant = make_variant(
        channel,
        components=marketing(BODY={"Type": "BODY", "Text": f"Hi {{{{1}}}} {attack} {{{{2}}}} ok"}),
        example={"1": "<b>Al</b>", "2": "x"},
    )
    html = page(viewer_client, detail_url(variant))
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "<b>Al</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<strong>&lt;img src=x onerror=alert(1)&gt;</strong>" in html
    assert "Hi &lt;b&gt;Al&lt;/b&gt;" in html


def test_it_shows_header_footer_buttons_and_cards() -> None:
    components = [
        *marketing(),
        {"Type": "LIMITED_TIME_OFFER", "Text": "Spring deal", "HasExpiration": True},
    ]
    shown = preview.build("WHATSAPP", "MARKETING", components, {"1": "Al", "2": "S20"})
    assert shown.kind == "whatsapp"
    assert shown.header is not None
    assert (shown.header.format, shown.header.url) == ("IMAGE", "https://example.com/shoes.png")
    assert Run("S20", bold=True) in shown.body
    assert shown.footer == "Reply STOP to opt out"
    assert [(b.type, b.text, b.icon) for b in shown.buttons] == [
        ("URL", "Shop", "↗"),
        ("QUICK_REPLY", "Yes please", "↩"),
        ("QUICK_REPLY", "Not now", "↩"),
    ]
    assert (shown.offer, shown.offer_expires) == ("Spring deal", True)
    card = {
        "CardComponents": [
            {"Type": "HEADER", "Format": "VIDEO", "Url": "https://example.com/v.mp4"},
            {"Type": "BODY", "Text": "Card for {{1}}"},
            {"Type": "BUTTONS", "Buttons": [{"Type": "PHONE_NUMBER", "Text": "Call"}]},
        ]
    }
    carousel = preview.build(
        "WHATSAPP", "MARKETING", [{"Type": "CAROUSEL", "Cards": [card, card]}], {"1": "Al"}
    )
    assert [(c.header_format, c.body, [b.text for b in c.buttons]) for c in carousel.cards] == [
        ("VIDEO", [Run("Card for Al")], ["Call"])
    ] * 2


def test_it_writes_the_text_of_authentication_templates() -> None:
    components = [
        {"Type": "BODY", "AddSecretRecommendation": True},
        {"Type": "FOOTER", "CodeExpirationMinutes": 5},
        {"Type": "BUTTONS", "Buttons": [{"Type": "COPY_CODE", "Text": "Copy code"}]},
    ]
    shown = preview.build("WHATSAPP", "AUTHENTICATION", components, {})
    assert "".join(run.text for run in shown.body) == (
        "123456 is your verification code. For your security, do not share this code."
    )
    assert shown.footer == "This code expires in 5 minutes."
    assert [b.text for b in shown.buttons] == ["Copy code"]


def test_it_draws_viber_templates_in_viber_style(viewer_client: Client, channel: Channel) -> None:
    channel.channel_type = "viber"
    channel.save()
    variant = make_variant(channel, components=marketing(FOOTER=None, BUTTONS=None))
    assert 'class="tp-phone tp-viber"' in page(viewer_client, detail_url(variant))
