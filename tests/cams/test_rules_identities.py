"""From / To formats, channel types, language codes and template variables."""

import pytest

from camsconsole.cams import rules

FROM_ONLY_NUMERIC = "InvalidParameter.FromOnlyNumeric"
TO_ONLY_NUMERIC = "InvalidParameter.ToOnlyNumeric"
PHONE_NUMBER_ERROR = "InvalidParameter.PhoneNumberError"

FULL_WIDTH_DIGITS = "\uff16\uff15\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17"  # "6591234567"

# Realistic ids: E.164 numbers without +, a Viber service id, a Facebook page id, an Instagram
# professional account id, a PSID and an IGSID.
VALID_SENDERS = [
    ("whatsapp", "6591234567"),
    ("whatsapp", "8613912345678"),
    ("whatsapp", "15551234567"),
    ("viber", "2819"),
    ("messenger", "104512345678901"),
    ("instagram", "17841400000000000"),
]
VALID_RECIPIENTS = [
    ("whatsapp", "6590002222"),
    ("whatsapp", "447700900123"),
    ("viber", "380501234567"),
    ("messenger", "6254712345678901"),
    ("instagram", "1789012345678901"),
]


def test_it_lists_the_four_documented_channels() -> None:
    assert frozenset({"whatsapp", "viber", "messenger", "instagram"}) == rules.CHANNEL_TYPES


@pytest.mark.parametrize(("channel", "value"), VALID_SENDERS)
def test_it_accepts_valid_senders(channel: str, value: str) -> None:
    assert rules.check_sender_id(channel, value) is None


@pytest.mark.parametrize(("channel", "value"), VALID_RECIPIENTS)
def test_it_accepts_valid_recipients(channel: str, value: str) -> None:
    assert rules.check_recipient_id(channel, value) is None


@pytest.mark.parametrize(
    ("channel", "value", "code"),
    [
        ("whatsapp", "+6591234567", FROM_ONLY_NUMERIC),
        ("whatsapp", "65 9123 4567", FROM_ONLY_NUMERIC),
        ("whatsapp", "65-91234567", FROM_ONLY_NUMERIC),
        (
            "whatsapp",
            "\uff16\uff15\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17",
            FROM_ONLY_NUMERIC,
        ),
        ("whatsapp", "123", PHONE_NUMBER_ERROR),
        ("whatsapp", "6591234567891234", PHONE_NUMBER_ERROR),  # 16 digits: longer than E.164
        ("whatsapp", "9991234567", PHONE_NUMBER_ERROR),  # no such country code
        ("viber", "my-service", FROM_ONLY_NUMERIC),
        ("messenger", "acme.page", FROM_ONLY_NUMERIC),
        ("instagram", "@acme", FROM_ONLY_NUMERIC),
        ("messenger", "1" * 21, "InvalidFrom"),
        ("viber", "", "MissingFrom"),
    ],
)
def test_it_refuses_malformed_senders(channel: str, value: str, code: str) -> None:
    error = rules.check_sender_id(channel, value)
    assert error is not None
    assert (error.code, error.field) == (code, "From")
    assert error.message


@pytest.mark.parametrize(
    ("channel", "value", "code"),
    [
        ("whatsapp", "+6590002222", TO_ONLY_NUMERIC),
        ("viber", "0501234567x", TO_ONLY_NUMERIC),
        ("viber", "12", PHONE_NUMBER_ERROR),
        ("messenger", "psid-1", TO_ONLY_NUMERIC),
        ("instagram", "1" * 21, "InvalidTo"),
    ],
)
def test_it_refuses_malformed_recipients(channel: str, value: str, code: str) -> None:
    error = rules.check_recipient_id(channel, value)
    assert error is not None
    assert (error.code, error.field) == (code, "To")


def test_it_accepts_platform_ids_up_to_the_digit_limit() -> None:
    edge = "1" * rules.PLATFORM_ID_MAX_DIGITS
    assert rules.check_sender_id("messenger", edge) is None
    assert rules.check_sender_id("messenger", edge + "1") is not None


@pytest.mark.parametrize("channel", ["telegram", "line", "WhatsApp", "sms"])
def test_it_refuses_channels_cams_does_not_list(channel: str) -> None:
    expected = ("InvalidParameter.ChannelTypeNotSupport", "ChannelType")
    for error in (
        rules.check_sender_id(channel, "6591234567"),
        rules.check_recipient_id(channel, "6591234567"),
        rules.check_channel_type(channel),
    ):
        assert error is not None
        assert (error.code, error.field) == expected


def test_it_hints_at_the_plus_sign_for_phone_numbers() -> None:
    error = rules.check_sender_id("whatsapp", "+6591234567")
    assert error is not None
    assert "+" in error.message


def test_it_lists_the_68_cams_language_codes() -> None:
    assert len(rules.LANGUAGE_CODES) == 68
    assert rules.LANGUAGE_CODES["en_US"] == "English (US)"
    assert rules.LANGUAGE_CODES["fil"] == "Filipino"
    assert rules.LANGUAGE_CODES["zh_HK"] == "Chinese (traditional, Hong Kong)"
    assert "ar_EG" not in rules.LANGUAGE_CODES  # Meta has it, CAMS does not


@pytest.mark.parametrize("code", ["en", "en_GB", "pt_BR", "es_MX", "zh_TW", "zu"])
def test_it_accepts_listed_language_codes(code: str) -> None:
    assert rules.check_language(code) is None


@pytest.mark.parametrize(
    ("code", "hint"), [("en-US", "en_US"), ("EN_us", "en_US"), ("pt_br", "pt_BR"), ("xx", None)]
)
def test_it_refuses_unlisted_language_codes_with_a_hint(code: str, hint: str | None) -> None:
    error = rules.check_language(code)
    assert error is not None
    assert (error.code, error.field) == ("InvalidParameter.LanguageNotSupport", "Language")
    assert (repr(hint) in error.message) if hint else ("Write it" not in error.message)


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("Hi {{1}}, order {{2}} ships {{1}}.", [1, 2, 1]),
        ("No variables here", []),
        ("{{10}} and {{3}}", [10, 3]),
        ("{{ 1 }} {{name}} {1} {{1}", []),  # not placeholders
        ("https://example.com/track/{{1}}", [1]),
    ],
)
def test_it_finds_template_variables_in_order(text: str, numbers: list[int]) -> None:
    assert rules.template_variables(text) == numbers


def test_it_describes_ranges_with_both_edges_included() -> None:
    assert 30 in rules.VIBER_TTL
    assert 1_209_600 in rules.VIBER_TTL
    assert 29 not in rules.VIBER_TTL
    assert 1_209_601 not in rules.VIBER_TTL
    text: object = "30"
    assert text not in rules.VIBER_TTL  # callers convert wire text with as_int first
    assert str(rules.FALLBACK_DURATION) == "60 to 43,200"
