"""The error a rule reports, and the codes it may carry.

Code policy, so that the console's forms and the sandbox answer alike:

1. A CAMS business code from the reference's §5.1 wherever one fits the fault.
2. A required top-level parameter that is absent: the gateway's documented ``Missing{Name}``
   pattern (reference §5.2). The gateway checks the SDK's required parameters before CAMS sees
   the request, which is why a missing ``Language`` of a template operation is ``MissingLanguage``
   while the conditionally required ``Language`` of a template send is CAMS's own
   ``LanguageNotEmpty``.
3. A send parameter with a bad value and no CAMS code (Ttl, Label, fallback, nested JSON): the
   gateway's documented ``Invalid{Name}`` pattern. These codes are ours, not observed from CAMS.
4. Template input with no specific code: ``InvalidParameter.CreateError``, CAMS's documented
   catch-all ("template creation failed; check the input"), for ModifyChatappTemplate too. The
   message and the field say what is wrong.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, NamedTuple


@dataclass(frozen=True)
class RuleError:
    """One broken rule: a CAMS error code, words for an operator, and the parameter at fault.

    ``field`` is the API parameter path, e.g. ``From``, ``Content.text``,
    ``Components[1].Buttons[0].Url`` or ``SenderList[3].To``.
    """

    code: str
    message: str
    field: str


class Range(NamedTuple):
    """An inclusive range of integers, as the documentation states its limits."""

    low: int
    high: int

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.low:,} to {self.high:,}"


# Documented CAMS business codes (reference §5.1).
CHANNEL_TYPE_NOT_SUPPORT: Final = "InvalidParameter.ChannelTypeNotSupport"
MESSAGE_TYPE_NOT_SUPPORT: Final = "InvalidParameter.MessageTypeNotSupport"
LANGUAGE_NOT_SUPPORT: Final = "InvalidParameter.LanguageNotSupport"
TEMPLATE_TYPE_NOT_SUPPORT: Final = "InvalidParameter.TemplateTypeNotSupport"
MESSAGE_TYPE_NOT_EMPTY: Final = "InvalidParameter.MessageTypeNotEmpty"
CONTENT_NOT_EMPTY: Final = "InvalidParameter.ContentNotEmpty"
TEXT_NOT_EMPTY: Final = "InvalidParameter.TextNotEmpty"
LINK_NOT_EMPTY: Final = "InvalidParameter.LinkNotEmpty"
TEMPLATE_CODE_NOT_EMPTY: Final = "InvalidParameter.TemplateCodeNotEmpty"
LANGUAGE_NOT_EMPTY: Final = "InvalidParameter.LanguageNotEmpty"
CONTENT_ERROR: Final = "InvalidParameter.ContentError"
MESSAGE_INVALID: Final = "InvalidParameter.MessageInvalid"
PHONE_NUMBER_ERROR: Final = "InvalidParameter.PhoneNumberError"
FROM_ONLY_NUMERIC: Final = "InvalidParameter.FromOnlyNumeric"
# The source list is cut off after "InvalidParameter.ToOnl"; this is the evident completion,
# the twin of FromOnlyNumeric. Unconfirmed.
TO_ONLY_NUMERIC: Final = "InvalidParameter.ToOnlyNumeric"
CREATE_ERROR: Final = "InvalidParameter.CreateError"
HEADER_TYPE_NOT_SUPPORT: Final = "InvalidParameter.HeaderTypeNotSupport"
# "Varable" is how the current CAMS list spells these two; an older list wrote "Variable".
HEADER_MORE_VARIABLE: Final = "InvalidParameter.HeaderMoreVarable"
URL_MORE_VARIABLE: Final = "InvalidParameter.UrlMoreVarable"
FOOTER_HAVE_VARIABLE: Final = "InvalidParameter.FooterHaveVariable"
BUTTON_TEXT_HAVE_VARIABLE: Final = "InvalidParameter.ButtonTextHaveVariable"


def maybe(error: RuleError | None) -> Iterator[RuleError]:
    """The error, if any, as the error stream the checks are written in."""
    if error is not None:
        yield error


def missing(name: str, field: str | None = None) -> RuleError:
    """The gateway's answer for an absent required parameter (code pattern ``Missing{Name}``)."""
    return RuleError(f"Missing{name}", f"{name} is mandatory for this action.", field or name)


def invalid(name: str, message: str, field: str | None = None) -> RuleError:
    """A bad value with no CAMS code: the gateway's ``Invalid{Name}`` pattern (not from CAMS)."""
    return RuleError(f"Invalid{name}", message, field or name)
