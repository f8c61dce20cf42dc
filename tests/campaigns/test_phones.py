"""The fast path of phones.Normaliser must answer exactly as phonenumbers does, only faster."""

import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat

from messaging.phones import BatchPool, Normaliser, check_platform_id, region_of

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)


def reference(value: str, region: str | None) -> str | None:
    """phonenumbers' own answer under our reading rules (bare digits without a default country
    are international)."""
    text = value.strip()
    if region is None and not text.startswith("+"):
        digits = "".join(ch for ch in text if ch.isdigit())
        text = "+" + (digits[2:] if digits.startswith("00") else digits)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if number.extension or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)[1:]


def examples(region: str) -> list[phonenumbers.PhoneNumber]:
    kinds = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
    found = [phonenumbers.example_number_for_type(region, kind) for kind in kinds]
    return [number for number in found if number is not None]


def spellings(number: phonenumbers.PhoneNumber, nsn: str, region: str) -> list[str]:
    """Ways people write a number: E.164, international, national, bare digits, trunk prefix."""
    code = str(number.country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    trunk = metadata.national_prefix or ""
    idd = metadata.preferred_international_prefix or metadata.international_prefix or "00"
    idd = idd if idd.isdigit() else "00"
    return [
        f"+{code}{nsn}",
        f"+{code} {nsn}",
        f"{code}{nsn}",
        nsn,
        trunk + nsn,
        f"0{nsn}",
        f"{idd}{code}{nsn}",
        f"{idd}0{nsn}",
    ]


def mutated(nsn: str, rng: random.Random) -> str:
    digits = list(nsn)
    for _ in range(rng.randint(0, 3)):
        digits[rng.randrange(len(digits))] = str(rng.randrange(10))
    if rng.random() < 0.2:
        digits.append(str(rng.randrange(10)))
    if rng.random() < 0.2 and len(digits) > 3:
        digits.pop()
    return "".join(digits)


def test_it_agrees_with_phonenumbers_in_every_region() -> None:
    rng = random.Random(20260606)
    international = Normaliser(None)
    checked = 0
    for region in REGIONS:
        national = Normaliser(region)
        for number in examples(region):
            base = phonenumbers.national_significant_number(number)
            for _ in range(6):
                nsn = mutated(base, rng)
                for value in spellings(number, nsn, region):
                    for normaliser in (national, international):
                        got = normaliser.normalise(value).number
                        assert got == reference(value, normaliser.default_region), (
                            value,
                            normaliser.default_region,
                        )
                        checked += 1
    assert checked > 10_000


@settings(max_examples=300, deadline=None)
@given(
    region=st.sampled_from([None, "SG", "GB", "DE", "US", "IN", "BR", "IT", "RU", "AR", "MX"]),
    value=st.text(alphabet="0123456789 +-()", min_size=1, max_size=18),
)
def test_it_agrees_with_phonenumbers_on_arbitrary_input(region: str | None, value: str) -> None:
    assert Normaliser(region).normalise(value).number == reference(value, region)


@pytest.mark.parametrize(
    ("value", "region", "expected"),
    [
        ("+65 9123 4567", None, "6591234567"),
        ("6591234567", None, "6591234567"),
        ("0065 9123 4567", None, "6591234567"),
        ("+44 (0) 7911 123456", None, "447911123456"),
        ("07911 123456", "GB", "447911123456"),
        ("(415) 555-2671", "US", "14155552671"),
        ("+1 415-555-2671", "DE", "14155552671"),
        ("0151 23456789", "DE", "4915123456789"),
        ("+39 06 1234 5678", None, "390612345678"),
    ],
)
def test_it_normalises_what_spreadsheets_hold(
    value: str, region: str | None, expected: str
) -> None:
    assert Normaliser(region).normalise(value).number == expected


@pytest.mark.parametrize(
    ("value", "region", "reason"),
    [
        ("", None, "no phone number"),
        ("   ", "SG", "no phone number"),
        ("hello", "SG", "not a phone number"),
        ("91234567", None, "not a valid number"),
        ("6.59123E+09", None, "scientific notation"),
        ("+65 1234", None, "not a valid number for SG"),
        ("+65 9123 4567 ext. 12", None, "extension"),
    ],
)
def test_it_says_why_a_value_is_refused(value: str, region: str | None, reason: str) -> None:
    result = Normaliser(region).normalise(value)
    assert result.number is None
    assert reason in result.reason


def test_it_refuses_an_unknown_default_country() -> None:
    with pytest.raises(ValueError, match="unknown region"):
        Normaliser("XX")


def test_it_checks_platform_ids() -> None:
    assert check_platform_id(" 2749012345678901 ", 20).number == "2749012345678901"
    assert "digits only" in check_platform_id("abc", 20).reason
    assert "longer than 20" in check_platform_id("1" * 21, 20).reason


def test_it_names_the_region_of_a_number() -> None:
    assert region_of("6591234567") == "SG"
    assert region_of("14155552671") == "US"
    assert region_of("16135550123") == "CA"


def square(batch: list[int]) -> list[int]:
    return [value * value for value in batch]


@pytest.mark.parametrize("processes", [1, 2])
def test_it_maps_batches_in_order_with_bounded_lookahead(processes: int) -> None:
    consumed = []

    def batches():
        for start in range(0, 50, 5):
            consumed.append(start)
            yield list(range(start, start + 5))

    with BatchPool(processes, ahead=3) as pool:
        results = pool.map(square, batches())
        first = next(results)
        # The pool never reads more than `ahead` batches beyond the one handed out.
        assert len(consumed) <= 4
        rest = list(results)
    assert [first, *rest] == [square(list(range(s, s + 5))) for s in range(0, 50, 5)]


def test_it_reads_a_stray_plus_without_a_default_country_as_phonenumbers_does() -> None:
    # Found by the property test above.
    assert Normaliser(None).normalise("98111000+").number == reference("98111000+", None)
