"""What went wrong talking to CAMS, and what the caller may do about it.

Every failure is a `CamsError` carrying two decisions:

- `retryable`: CAMS certainly did not act on the request, and trying again later is the right
  move (throttling, or the connection could not even be opened).
- `ambiguous`: the request may have reached CAMS and been acted on (timeouts, 5xx, connections
  broken after sending). A send that fails this way must be reconciled, never blindly resent,
  because the send APIs have no idempotency key (reference §5.2).

Anything else is permanent: CAMS looked at the request and refused it.
"""

from __future__ import annotations

# Codes we make up for failures that never produced a CAMS answer. The "Client." prefix keeps
# them apart from every documented CAMS and gateway code.
UNREACHABLE = "Client.Unreachable"
TIMEOUT = "Client.Timeout"
CONNECTION_BROKEN = "Client.ConnectionBroken"
BAD_RESPONSE = "Client.BadResponse"
HTTP_ERROR = "Client.HttpError"


class CamsError(Exception):
    retryable = False
    ambiguous = False

    def __init__(
        self,
        code: str,
        message: str = "",
        *,
        request_id: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.request_id = request_id
        self.http_status = http_status

    @property
    def plain(self) -> str:
        """The error in words an operator understands."""
        return describe(self.code)

    def __str__(self) -> str:
        text = f"{self.code}: {self.message}" if self.message else self.code
        if self.http_status is not None:
            text += f" (HTTP {self.http_status})"
        if self.request_id:
            text += f" [RequestId {self.request_id}]"
        return text


class CamsApiError(CamsError):
    """CAMS answered and refused the request (4xx, or a 200 whose Code is not OK)."""


class CamsThrottled(CamsApiError):
    """Rate limited: nothing was done, so trying again after a pause is safe."""

    retryable = True

    def __init__(
        self,
        code: str,
        message: str = "",
        *,
        request_id: str | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(code, message, request_id=request_id, http_status=http_status)
        self.retry_after = retry_after  # seconds, from x-acs-retry-after when the gateway sent it


class CamsUnreachable(CamsError):
    """No connection could be opened, so the request never left this machine."""

    retryable = True


class CamsAmbiguous(CamsError):
    """The request may have been acted on: a timeout, a 5xx or a connection broken mid-way."""

    ambiguous = True


def is_throttling(code: str) -> bool:
    return code == "System.LimitControl" or code.startswith("Throttling")


# Reference §5.1 (CAMS) and §5.2 (gateway). Paraphrased for operators, not copied from Alibaba.
_PLAIN: dict[str, str] = {
    "OK": "Success.",
    "Product.Unsubscript": "This Alibaba Cloud account has not activated Chat App Message Service.",
    "Ram.PermissionDeny": "The AccessKey's RAM user is not allowed to call this operation.",
    "Authentication.NoAuth": "This account is not allowed to perform the operation.",
    "Unknown.ResourceOwnerId": "The resource belongs to a different Alibaba Cloud account.",
    "System.LimitControl": "CAMS is rate limiting this account; the request will be retried.",
    "InvalidParameter.MessageInvalid": (
        "The message is invalid: a missing template type, unsupported characters, "
        "or a {{n}} placeholder in the body."
    ),
    "InvalidParameter.FooterHaveVariable": "A template footer cannot contain variables.",
    "InvalidParameter.HeaderMoreVarable": "The template header has too many variables.",
    "InvalidParameter.HeaderMoreVariable": "The template header has too many variables.",
    "InvalidParameter.HeaderTypeNotSupport": "This template header type is not supported.",
    "InvalidParameter.ButtonTextHaveVariable": "Button text cannot contain variables.",
    "InvalidParameter.UrlMoreVarable": "A button URL has too many variables.",
    "InvalidParameter.UrlMoreVariable": "A button URL has too many variables.",
    "InvalidParameter.PhoneNumberError": "The phone number is not valid.",
    "InvalidParameter.TemplateNameExist": "A template with this name already exists.",
    "InvalidParameter.CreateError": "CAMS could not create the template; check its contents.",
    "DelError.TemplateNotExist": "There is no template with this code.",
    "DetailError.TemplateNotExist": "There is no template with this code.",
    "InvalidParameter.PageInvalid": "The page number or page size is not valid.",
    "TemplateListError.QueryError": "CAMS could not list the templates; check the filters.",
    "InvalidParameter.LanguageNotSupport": "This template language is not supported.",
    "InvalidParameter.AuditStatusNotSupport": "This review status is not a valid filter.",
    "InvalidParameter.TemplateTypeNotSupport": "This template type is not supported.",
    "InvalidParameter.ChannelTypeNotSupport": "This channel is not supported.",
    "InvalidParameter.MessageTypeNotSupport": "This message type is not supported on the channel.",
    "InvalidParameter.MessageTypeNotEmpty": "A free-form message needs a message type.",
    "InvalidParameter.ContentNotEmpty": "A free-form message needs content.",
    "InvalidParameter.TextNotEmpty": "The message text is empty.",
    "InvalidParameter.LinkNotEmpty": "The media link is empty.",
    "InvalidParameter.TemplateCodeNotEmpty": "A template message needs a template code.",
    "InvalidParameter.LanguageNotEmpty": "A template message needs a language.",
    "InvalidParameter.ContentError": "The message content does not match its message type.",
    "InvalidParameter.SendSmsNotSupport": "SMS fallback is not available for this account.",
    "InvalidParameter.FromOnlyNumeric": "The sender number must contain digits only.",
    "InvalidParameter.ToOnlyNumeric": "The recipient number must contain digits only.",
    "Throttling": "Alibaba Cloud is rate limiting this account; the request will be retried.",
    "SignatureDoesNotMatch": "Alibaba Cloud rejected the request signature; check the secret.",
    "IncompleteSignature": "The request signature is incomplete.",
    "InvalidAccessKeyId.NotFound": "The AccessKey ID does not exist.",
    "InvalidAccessKeyId.Inactive": "The AccessKey is disabled.",
    "InvalidTimeStamp.Expired": "This server's clock is more than 15 minutes off.",
    "InvalidTimeStamp.Format": "The request timestamp is malformed.",
    "SignatureNonceUsed": "The request was refused as a replay of an earlier one.",
    "InvalidApi.NotFound": "Alibaba Cloud does not know this operation.",
    "Forbidden.RAM": "The AccessKey's RAM user is not allowed to call this operation.",
    "InternalError": "CAMS had an internal error; the outcome is unknown.",
    "ServiceUnavailable": "CAMS is temporarily unavailable; the outcome is unknown.",
    UNREACHABLE: "Could not connect to CAMS; nothing was sent.",
    TIMEOUT: "CAMS did not answer in time; the request may or may not have been processed.",
    CONNECTION_BROKEN: "The connection to CAMS broke; the request may have been processed.",
    BAD_RESPONSE: "CAMS gave an answer that could not be read; the outcome is unknown.",
    HTTP_ERROR: "CAMS answered with an HTTP error and no error code.",
}


def describe(code: str) -> str:
    """Plain words for a CAMS, gateway or client code; a generic sentence for unknown ones."""
    if code in _PLAIN:
        return _PLAIN[code]
    if is_throttling(code):
        return _PLAIN["Throttling"]
    if code.startswith("Missing"):
        return "A required parameter is missing."
    if code.startswith("Invalid"):
        return "CAMS rejected a parameter as invalid."
    return f"CAMS answered with the error code {code}." if code else "CAMS reported an error."
