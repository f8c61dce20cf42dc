"""The sandbox verifies ACS3-HMAC-SHA256 like the gateway and answers the gateway's codes."""

from __future__ import annotations

import datetime as dt
import hashlib
import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from camsconsole.cams import signing
from camsconsole.cams.client import encode_params
from camsconsole.cams.sandbox.auth import NonceCache, parse_query
from tests.cams.conftest import RawCall

LIST = "ListChatappTemplate"
PAGE = {"Page": {"Index": 1, "Size": 10}}


def test_it_accepts_a_correctly_signed_call(raw_call: RawCall) -> None:
    response = raw_call(LIST, PAGE)
    assert response.status_code == 200
    assert response.json()["Code"] == "OK"


def test_it_accepts_the_canonical_query_sent_as_is(raw_call: RawCall) -> None:
    params = {"Name": "a b~c*d+e&f=g/é", **PAGE}
    canonical = signing.canonical_query_string(encode_params(params))
    assert raw_call(LIST, params, wire=canonical).status_code == 200


def test_it_accepts_parameters_in_any_order_on_the_wire(raw_call: RawCall) -> None:
    params = {"Name": "x y", "Language": "en", **PAGE}
    wire = urllib.parse.urlencode(sorted(encode_params(params).items(), reverse=True))
    assert raw_call(LIST, params, wire=wire).status_code == 200


def test_it_refuses_a_wrong_secret(raw_call: RawCall) -> None:
    response = raw_call(LIST, PAGE, secret="not-the-secret")
    assert response.status_code == 400
    body = response.json()
    assert body["Code"] == "SignatureDoesNotMatch"
    assert "ACS3-HMAC-SHA256\n" in body["Message"]


def test_it_refuses_a_query_changed_after_signing(raw_call: RawCall) -> None:
    response = raw_call(LIST, PAGE, wire="Page=%7B%22Index%22%3A2%2C%22Size%22%3A10%7D")
    assert response.json()["Code"] == "SignatureDoesNotMatch"


def test_it_refuses_an_unknown_access_key(raw_call: RawCall) -> None:
    response = raw_call(LIST, PAGE, access_key_id="LTAI5tNoSuchKey")
    assert response.status_code == 404
    assert response.json()["Code"] == "InvalidAccessKeyId.NotFound"


@pytest.mark.parametrize("minutes", [-16, 16])
def test_it_refuses_a_date_more_than_15_minutes_off(raw_call: RawCall, minutes: int) -> None:
    now = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    response = raw_call(LIST, PAGE, now=now)
    assert response.status_code == 400
    assert response.json()["Code"] == "InvalidTimeStamp.Expired"


def test_it_accepts_a_date_14_minutes_off(raw_call: RawCall) -> None:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=14)
    assert raw_call(LIST, PAGE, now=now).status_code == 200


def test_it_refuses_a_malformed_date(raw_call: RawCall) -> None:
    response = raw_call(LIST, PAGE, headers={"x-acs-date": "2025-01-15 08:30:00"})
    assert response.json()["Code"] == "InvalidTimeStamp.Format"


def test_it_refuses_a_reused_nonce(raw_call: RawCall) -> None:
    assert raw_call(LIST, PAGE, nonce="nonce-0001").status_code == 200
    response = raw_call(LIST, PAGE, nonce="nonce-0001")
    assert response.status_code == 400
    assert response.json()["Code"] == "SignatureNonceUsed"


def test_it_does_not_burn_a_nonce_on_a_bad_signature(raw_call: RawCall) -> None:
    assert raw_call(LIST, PAGE, nonce="nonce-0002", secret="wrong").status_code == 400
    assert raw_call(LIST, PAGE, nonce="nonce-0002").status_code == 200


def test_it_refuses_a_content_hash_that_is_not_the_bodys(raw_call: RawCall) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    response = raw_call(LIST, PAGE, headers={"x-acs-content-sha256": wrong})
    assert response.status_code == 400
    body = response.json()
    assert body["Code"] == "SignatureDoesNotMatch"
    assert "x-acs-content-sha256" in body["Message"]


@pytest.mark.parametrize(
    "header", ["Authorization", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"]
)
def test_it_refuses_a_call_missing_a_signature_header(raw_call: RawCall, header: str) -> None:
    response = raw_call(LIST, PAGE, headers={header: None})
    assert response.status_code == 400
    assert response.json()["Code"] == "IncompleteSignature"


@pytest.mark.parametrize(
    ("header", "code", "status"),
    [("x-acs-action", "MissingAction", 400), ("x-acs-version", "MissingVersion", 400)],
)
def test_it_refuses_a_call_missing_its_routing_header(
    raw_call: RawCall, header: str, code: str, status: int
) -> None:
    response = raw_call(LIST, PAGE, headers={header: None})
    assert response.status_code == status
    assert response.json()["Code"] == code


def test_it_refuses_a_malformed_authorization(raw_call: RawCall) -> None:
    response = raw_call(LIST, PAGE, headers={"Authorization": "ACS3-HMAC-SHA256 Credential=x"})
    assert response.json()["Code"] == "IncompleteSignature"


def test_it_refuses_another_signature_algorithm(raw_call: RawCall) -> None:
    good = raw_call(LIST, PAGE).request.headers["Authorization"]
    forged = good.replace("ACS3-HMAC-SHA256", "ACS3-HMAC-SM3", 1)
    response = raw_call(LIST, PAGE, headers={"Authorization": forged})
    assert response.json()["Code"] == "InvalidSignatureMethod"


def test_it_refuses_an_acs_header_left_unsigned(raw_call: RawCall) -> None:
    response = raw_call(LIST, PAGE, headers={"x-acs-extra": "smuggled"})
    assert response.status_code == 400
    body = response.json()
    assert body["Code"] == "IncompleteSignature"
    assert "x-acs-extra" in body["Message"]


def test_it_answers_an_unknown_operation_with_invalid_api(raw_call: RawCall) -> None:
    response = raw_call("SendSmsPlease", {})
    assert response.status_code == 404
    assert response.json()["Code"] == "InvalidApi.NotFound"


def test_it_refuses_another_api_version(raw_call: RawCall) -> None:
    response = raw_call(LIST, PAGE, headers={"x-acs-version": "2017-05-25"})
    assert response.json()["Code"] == "InvalidVersion"


def test_it_shapes_errors_like_the_gateway(raw_call: RawCall) -> None:
    response = raw_call(LIST, PAGE, secret="wrong")
    body = response.json()
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert body["HostId"] == "cams.ap-southeast-1.aliyuncs.com"
    assert response.headers["x-acs-request-id"] == body["RequestId"]
    assert body["RequestId"] in body["Recommend"]
    assert response.headers["Content-Type"].startswith("application/json")


def test_it_verifies_a_form_encoded_body(raw_call: RawCall) -> None:
    form = urllib.parse.urlencode({"Name": "x y", "Page": '{"Index":1,"Size":5}'}).encode()
    response = raw_call(
        LIST,
        {},
        body=form,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    # content-type was added after signing, so it is unsigned but not an x-acs-* header: fine.
    assert response.status_code == 200, response.text


def test_it_remembers_nonces_for_fifteen_minutes_only() -> None:
    cache = NonceCache()
    assert cache.check_and_add("key", "n1", now=1_000_000.0)
    assert not cache.check_and_add("key", "n1", now=1_000_000.0 + 14 * 60)
    assert cache.check_and_add("key", "n1", now=1_000_000.0 + 17 * 60)


def test_it_keeps_nonces_per_access_key() -> None:
    cache = NonceCache()
    assert cache.check_and_add("key-a", "n1", now=0.0)
    assert cache.check_and_add("key-b", "n1", now=0.0)


def test_it_bounds_the_nonce_memory() -> None:
    cache = NonceCache(capacity=1000)
    for minute in range(10):
        for n in range(300):
            cache.check_and_add("key", f"{minute}-{n}", now=minute * 60.0)
    assert len(cache) <= 1000 + 300


@given(st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=40), max_size=6))
def test_it_decodes_queries_exactly_like_urllib(params: dict[str, str]) -> None:
    wire = urllib.parse.urlencode(params)
    assert parse_query(wire) == dict(urllib.parse.parse_qsl(wire, keep_blank_values=True))


@given(st.text(alphabet="%+&=aZ09~\\x", max_size=30))
def test_it_decodes_broken_escapes_like_urllib(wire: str) -> None:
    assert parse_query(wire) == dict(urllib.parse.parse_qsl(wire, keep_blank_values=True))
