import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from camsconsole.cams import signing

FIXTURE = Path(__file__).parent / "fixtures" / "signature-vectors.json"
# The reference copy, beside the repository in a full checkout; the fixture must not drift from it.
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "signature-vectors.json"

VECTORS: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
CASES = [pytest.param(case, id=case["id"]) for case in VECTORS["cases"]]
# Each case is checked twice: as the SDK signs it (every header) and as our client does.
VARIANTS = ["expected", "expected_minimal_signed_headers"]


def _signed_names(case: dict[str, Any], variant: str) -> list[str]:
    return case[variant]["signed_headers"].split(";")


def _body(case: dict[str, Any]) -> bytes:
    body = case["inputs"]["body"]
    return b"" if body is None else body.encode("utf-8")


def test_it_keeps_the_fixture_identical_to_the_reference_vectors() -> None:
    if not REFERENCE.exists():
        pytest.skip("the shared reference folder is not beside this checkout")
    assert json.loads(REFERENCE.read_text(encoding="utf-8")) == VECTORS


def test_it_has_vectors_to_check() -> None:
    assert len(CASES) >= 5


def test_it_signs_the_minimal_set_our_client_uses() -> None:
    for case in VECTORS["cases"]:
        minimal = _signed_names(case, "expected_minimal_signed_headers")
        assert tuple(minimal) == signing.MINIMAL_SIGNED_HEADERS


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("case", CASES)
def test_it_reproduces_every_step_of_the_vector(case: dict[str, Any], variant: str) -> None:
    inputs, expected = case["inputs"], case[variant]
    headers = inputs["headers_signed_by_sdk"]
    names = _signed_names(case, variant)

    payload_hash = signing.hashed_payload(_body(case))
    assert payload_hash == expected["hashed_request_payload"]
    assert signing.canonical_query_string(inputs["query"]) == expected["canonical_query_string"]

    creq = signing.canonical_request(
        inputs["method"], inputs["path"], inputs["query"], headers, names, payload_hash
    )
    assert creq == expected["canonical_request"]
    assert signing.string_to_sign(creq) == expected["string_to_sign"]
    assert signing.signature(inputs["access_key_secret"], creq) == expected["signature"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("case", CASES)
def test_it_builds_the_authorization_header_of_the_vector(
    case: dict[str, Any], variant: str
) -> None:
    inputs = case["inputs"]
    # Header order and name case must not matter: both are canonicalised.
    shuffled = {k.upper(): v for k, v in reversed(inputs["headers_signed_by_sdk"].items())}
    names = list(reversed(_signed_names(case, variant)))

    header = signing.authorization_header(
        inputs["access_key_id"],
        inputs["access_key_secret"],
        inputs["method"],
        inputs["path"],
        inputs["query"],
        shuffled,
        names,
        signing.hashed_payload(_body(case)),
    )

    assert header == case[variant]["authorization"]


@pytest.mark.parametrize("case", CASES)
def test_it_signs_headers_like_a_hand_written_client(case: dict[str, Any]) -> None:
    inputs = case["inputs"]
    now = dt.datetime.strptime(inputs["x_acs_date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)

    headers = signing.sign_headers(
        access_key_id=inputs["access_key_id"],
        access_key_secret=inputs["access_key_secret"],
        host=inputs["host"],
        action=inputs["action"],
        version=inputs["version"],
        query=inputs["query"],
        now=now,
        nonce=inputs["x_acs_signature_nonce"],
    )

    assert headers.pop("Authorization") == case["expected_minimal_signed_headers"]["authorization"]
    assert headers == {
        name: inputs["headers_signed_by_sdk"][name] for name in signing.MINIMAL_SIGNED_HEADERS
    }


@pytest.mark.parametrize("case", CASES)
def test_it_verifies_a_vector_by_parsing_its_authorization(case: dict[str, Any]) -> None:
    inputs, expected = case["inputs"], case["expected"]

    algorithm, key_id, names, sig = signing.parse_authorization(expected["authorization"])
    creq = signing.canonical_request(
        "POST",
        "/",
        inputs["query"],
        inputs["headers_signed_by_sdk"],
        names,
        inputs["headers_signed_by_sdk"]["x-acs-content-sha256"],
    )

    assert (algorithm, key_id) == (signing.ALGORITHM, inputs["access_key_id"])
    assert names == _signed_names(case, "expected")
    assert signing.signature(inputs["access_key_secret"], creq) == sig


def test_it_changes_the_signature_when_a_parameter_changes() -> None:
    case = VECTORS["cases"][0]
    inputs = case["inputs"]
    tampered = {**inputs["query"], "To": "6590009999"}
    creq = signing.canonical_request(
        "POST",
        "/",
        tampered,
        inputs["headers_signed_by_sdk"],
        _signed_names(case, "expected"),
        signing.EMPTY_PAYLOAD_HASH,
    )

    assert signing.signature(inputs["access_key_secret"], creq) != case["expected"]["signature"]


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("a b", "a%20b"),
        ("*", "%2A"),
        ("~-_.", "~-_."),
        ("/+=&", "%2F%2B%3D%26"),
        ("Zoë", "Zo%C3%AB"),
        ("", ""),
    ],
)
def test_it_percent_encodes_like_rfc_3986(raw: str, encoded: str) -> None:
    assert signing.percent_encode(raw) == encoded


def test_it_keeps_empty_query_values() -> None:
    assert signing.canonical_query_string({"b": "", "a": "1"}) == "a=1&b="


def test_it_refuses_to_sign_a_header_that_is_not_there() -> None:
    with pytest.raises(ValueError, match="x-acs-date"):
        signing.canonical_request("POST", "/", {}, {"host": "h"}, ["host", "x-acs-date"], "")


def test_it_refuses_a_naive_date() -> None:
    with pytest.raises(ValueError, match="aware"):
        signing.format_date(dt.datetime(2025, 1, 15, 8, 30))


def test_it_writes_the_date_in_utc() -> None:
    singapore = dt.timezone(dt.timedelta(hours=8))
    moment = dt.datetime(2025, 1, 15, 16, 30, 0, 999, tzinfo=singapore)

    assert signing.format_date(moment) == "2025-01-15T08:30:00Z"


def test_it_uses_a_fresh_nonce_for_every_request() -> None:
    def sign() -> dict[str, str]:
        return signing.sign_headers(
            access_key_id="id", access_key_secret="s", host="h", action="A", version="v", query={}
        )

    first, second = sign(), sign()

    assert first["x-acs-signature-nonce"] != second["x-acs-signature-nonce"]
    assert first["Authorization"] != second["Authorization"]


def test_it_signs_the_content_type_of_a_form_body() -> None:
    body = b"PhoneNumber=6590000001&VerifyCode=123456"
    headers = signing.sign_headers(
        access_key_id="id",
        access_key_secret="s",
        host="h",
        action="GetPreValidatePhoneId",
        version="2020-06-06",
        query={},
        body=body,
        content_type="application/x-www-form-urlencoded",
    )

    _, _, names, _ = signing.parse_authorization(headers["Authorization"])
    assert "content-type" in names
    assert headers["x-acs-content-sha256"] == signing.hashed_payload(body)
    assert headers["x-acs-content-sha256"] != signing.EMPTY_PAYLOAD_HASH


@pytest.mark.parametrize(
    "value",
    [
        "",
        "ACS3-HMAC-SHA256",
        "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host",
        "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host,Signature=ab,Extra=1",
        "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host,Signature",
        "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=ab",
        "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host;;x-acs-date,Signature=ab",
        "ACS3-HMAC-SHA256 Credential=id,Credential=id,SignedHeaders=host,Signature=ab",
    ],
)
def test_it_rejects_a_malformed_authorization(value: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - any ValueError is the contract
        signing.parse_authorization(value)


def test_it_parses_a_well_formed_authorization() -> None:
    parsed = signing.parse_authorization(
        "ACS3-HMAC-SHA256 Credential=LTAIid,SignedHeaders=host;x-acs-date,Signature=abc123"
    )

    assert parsed == ("ACS3-HMAC-SHA256", "LTAIid", ["host", "x-acs-date"], "abc123")
