"""Refusals the sandbox answers with, shaped like the Alibaba Cloud gateway's and CAMS's.

Every error body carries RequestId, HostId, Code, Message and Recommend, as the gateway's JSON
errors do (reference §2.6; e.g. `{"Recommend": "...", "Message": "...", "RequestId": "...",
"HostId": "alidns.aliyuncs.com", "Code": "SignatureDoesNotMatch"}` as seen in the wild).
HTTP statuses follow the documented tables: 400 for client errors and flow control, 404 for an
unknown API or AccessKey ID, 500/503 for server faults.
"""

from __future__ import annotations

# The host CAMS answers from; the gateway reports it as HostId.
HOST_ID = "cams.ap-southeast-1.aliyuncs.com"


class ApiError(Exception):
    """An answer other than OK: HTTP status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code, message)
        self.status = status
        self.code = code
        self.message = message


def recommend_url(code: str, request_id: str) -> str:
    return f"https://api.aliyun.com/troubleshoot?q={code}&product=Cams&requestId={request_id}"


def body(error: ApiError, request_id: str) -> dict[str, str]:
    return {
        "RequestId": request_id,
        "HostId": HOST_ID,
        "Code": error.code,
        "Message": error.message,
        "Recommend": recommend_url(error.code, request_id),
    }


# Gateway errors (reference §5.2; messages as the generic OpenAPI error table words them).


def incomplete_signature(detail: str) -> ApiError:
    return ApiError(
        400,
        "IncompleteSignature",
        f"The request signature does not conform to Aliyun standards. {detail}",
    )


def invalid_signature_method(algorithm: str) -> ApiError:
    return ApiError(
        400, "InvalidSignatureMethod", f"Specified signature method is not valid: {algorithm}."
    )


def access_key_not_found() -> ApiError:
    return ApiError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")


def timestamp_format() -> ApiError:
    return ApiError(
        400,
        "InvalidTimeStamp.Format",
        "Specified time stamp or date value is not well formatted.",
    )


def timestamp_expired() -> ApiError:
    return ApiError(
        400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."
    )


def nonce_used() -> ApiError:
    return ApiError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")


def signature_mismatch(string_to_sign: str) -> ApiError:
    return ApiError(
        400,
        "SignatureDoesNotMatch",
        "Specified signature is not matched with our calculation. "
        f"server string to sign is:{string_to_sign}",
    )


def content_hash_mismatch() -> ApiError:
    # The gateway hashes the body itself, so a wrong x-acs-content-sha256 surfaces as a signature
    # mismatch; the message says which part differed.
    return ApiError(
        400,
        "SignatureDoesNotMatch",
        "Specified signature is not matched with our calculation. "
        "x-acs-content-sha256 does not match the SHA-256 of the request body.",
    )


def missing(name: str) -> ApiError:
    return ApiError(400, f"Missing{name}", f"{name} is mandatory for this action.")


def invalid(name: str, detail: str = "") -> ApiError:
    suffix = f" {detail}" if detail else ""
    return ApiError(400, f"Invalid{name}", f"Specified parameter {name} is not valid.{suffix}")


def api_not_found(action: str) -> ApiError:
    return ApiError(
        404,
        "InvalidApi.NotFound",
        f"Specified api is not found, please check your url and method: {action}.",
    )


def method_not_allowed(method: str) -> ApiError:
    return ApiError(
        400, "UnsupportedHTTPMethod", f"Specified HTTP method {method} is not supported."
    )


def limit_control() -> ApiError:
    return ApiError(400, "System.LimitControl", "The system is under flow control.")


def internal_error() -> ApiError:
    return ApiError(
        500,
        "InternalError",
        "The request processing has failed due to some unknown error, exception or failure.",
    )


def service_unavailable() -> ApiError:
    return ApiError(
        503,
        "ServiceUnavailable",
        "The request has failed due to a temporary failure of the server.",
    )


# CAMS business errors (reference §5.1). The sandbox answers them with HTTP 400, as the
# documented ones are.


def business(code: str, message: str) -> ApiError:
    return ApiError(400, code, message)


def template_not_found(prefix: str = "DetailError") -> ApiError:
    return ApiError(
        400,
        f"{prefix}.TemplateNotExist",
        "The template does not exist. Check the template code.",
    )


def template_not_approved(status: str) -> ApiError:
    # Undocumented: CAMS has no published code for sending with a template that is not approved.
    # This name follows the InvalidParameter.* family; the console treats it as permanent.
    return ApiError(
        400,
        "InvalidParameter.TemplateNotApproved",
        f"The template cannot be used to send messages: its review status is {status}.",
    )


def template_name_exists() -> ApiError:
    return ApiError(
        400,
        "InvalidParameter.TemplateNameExist",
        "A template with the same name and language already exists.",
    )


def page_invalid(detail: str = "") -> ApiError:
    return ApiError(
        400, "InvalidParameter.PageInvalid", f"The Page parameter format is invalid. {detail}"
    )


def audit_status_not_supported(value: str) -> ApiError:
    return ApiError(
        400, "InvalidParameter.AuditStatusNotSupport", f"The audit status {value} is not supported."
    )
