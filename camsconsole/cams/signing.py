"""ACS3-HMAC-SHA256, the request signature CAMS expects (reference §2.4).

The client signs with `sign_headers`; the sandbox verifies by parsing the Authorization header
with `parse_authorization` and recomputing `signature` over the headers the caller says it signed.
Every step is a separate function so that the test vectors can check each one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import urllib.parse
import uuid
from collections.abc import Mapping, Sequence

ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_PAYLOAD_HASH = hashlib.sha256(b"").hexdigest()

# What a hand-written client signs: host plus every x-acs-* header it sends (content-type joins
# them when there is a body). The SDK also signs accept and user-agent; both forms verify.
MINIMAL_SIGNED_HEADERS = (
    "host",
    "x-acs-action",
    "x-acs-content-sha256",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-version",
)


def percent_encode(value: str) -> str:
    """RFC 3986 encoding of UTF-8 text: only A-Z a-z 0-9 - _ . ~ stay literal."""
    return urllib.parse.quote(value, safe="-_.~")


def canonical_query_string(query: Mapping[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(query[k])}" for k in sorted(query))


def hashed_payload(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    signed_header_names: Sequence[str],
    payload_hash: str,
) -> str:
    """The text that gets hashed. Raises ValueError if a signed header is absent from `headers`."""
    present = {name.lower(): value for name, value in headers.items()}
    names = sorted(name.lower() for name in signed_header_names)
    missing = [name for name in names if name not in present]
    if missing:
        raise ValueError(f"signed headers not present: {', '.join(missing)}")
    canonical_headers = "".join(f"{name}:{present[name].strip()}\n" for name in names)
    return "\n".join(
        [
            method.upper(),
            path,
            canonical_query_string(query),
            canonical_headers,
            ";".join(names),
            payload_hash,
        ]
    )


def string_to_sign(canonical_request_str: str) -> str:
    digest = hashlib.sha256(canonical_request_str.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{digest}"


def signature(access_key_secret: str, canonical_request_str: str) -> str:
    """Lower-case hex HMAC-SHA256. Unlike V1, the secret is used as is (no trailing '&')."""
    return hmac.new(
        access_key_secret.encode("utf-8"),
        string_to_sign(canonical_request_str).encode("utf-8"),
        hashlib.sha256,
    ).hexdigest()


def authorization_header(
    access_key_id: str,
    access_key_secret: str,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    signed_header_names: Sequence[str],
    payload_hash: str,
) -> str:
    creq = canonical_request(method, path, query, headers, signed_header_names, payload_hash)
    signed = ";".join(sorted(name.lower() for name in signed_header_names))
    return (
        f"{ALGORITHM} Credential={access_key_id},SignedHeaders={signed},"
        f"Signature={signature(access_key_secret, creq)}"
    )


def format_date(moment: dt.datetime) -> str:
    """x-acs-date: UTC to the second with a literal Z. Naive datetimes are refused, not guessed."""
    if moment.tzinfo is None:
        raise ValueError("x-acs-date needs an aware datetime")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign_headers(
    *,
    access_key_id: str,
    access_key_secret: str,
    host: str,
    action: str,
    version: str,
    query: Mapping[str, str],
    body: bytes = b"",
    content_type: str | None = None,
    now: dt.datetime | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Every header a POST / to CAMS needs, Authorization included.

    `host` must be exactly what goes on the wire (with the port if it is not the default), and
    the returned headers must be sent unchanged. `content_type` is signed when given; CAMS only
    needs it for the one operation with a form body.
    """
    payload_hash = hashed_payload(body)
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": format_date(now or dt.datetime.now(dt.UTC)),
        # The gateway rejects a reused nonce (SignatureNonceUsed), so it must never repeat.
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "x-acs-content-sha256": payload_hash,
    }
    if content_type is not None:
        headers["content-type"] = content_type
    headers["Authorization"] = authorization_header(
        access_key_id,
        access_key_secret,
        "POST",
        "/",
        query,
        headers,
        list(headers),
        payload_hash,
    )
    return headers


def parse_authorization(value: str) -> tuple[str, str, list[str], str]:
    """Split an Authorization header into (algorithm, access key id, signed headers, signature).

    Only the shape is checked here; whether the algorithm is acceptable and the signature
    matches is the verifier's decision.
    """
    algorithm, sep, rest = value.strip().partition(" ")
    if not sep or not algorithm:
        raise ValueError("Authorization has no algorithm")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, eq, field_value = part.strip().partition("=")
        if not eq or key in fields:
            raise ValueError(f"malformed Authorization field: {part.strip()!r}")
        fields[key] = field_value
    if set(fields) != {"Credential", "SignedHeaders", "Signature"}:
        raise ValueError("Authorization needs exactly Credential, SignedHeaders and Signature")
    names = fields["SignedHeaders"].split(";")
    if not fields["Credential"] or not fields["Signature"] or not all(names):
        raise ValueError("Authorization has an empty field")
    return algorithm, fields["Credential"], names, fields["Signature"]
