"""Who sends and who receives: the channel types and the From / To formats.

Every id CAMS takes in From and To is a decimal number written with digits only
(``InvalidParameter.FromOnlyNumeric`` / ``ToOnlyNumeric``):

- Phone numbers (WhatsApp From and To, Viber To) are E.164 without the ``+``, e.g. ``6591234567``
  (reference §4.3). Beyond digits we ask only that the number is *possible* for its country code
  (right length), not that it is assigned: test and new ranges must pass.
- Facebook page ids, Instagram professional account ids, PSIDs and IGSIDs are Graph API ids, and
  Viber service ids are integers in Viber's API; all of them fit in 64 bits, so at most 20 digits.
"""

from typing import Final

import phonenumbers

from camsconsole.cams.rules.codes import (
    CHANNEL_TYPE_NOT_SUPPORT,
    FROM_ONLY_NUMERIC,
    PHONE_NUMBER_ERROR,
    TO_ONLY_NUMERIC,
    RuleError,
    invalid,
    missing,
)
from camsconsole.cams.rules.params import is_blank

# The Mar 2026 page lists these four; telegram and line appear only in the SDK (reference §8.2).
CHANNEL_TYPES: Final = frozenset({"whatsapp", "viber", "messenger", "instagram"})

# Enough digits for any unsigned 64-bit id.
PLATFORM_ID_MAX_DIGITS: Final = 20

_PHONE: Final = "phone number"

# What From and To hold, per channel (reference §3.2).
SENDER_ID_KINDS: Final[dict[str, str]] = {
    "whatsapp": _PHONE,
    "viber": "Viber service id",
    "messenger": "Facebook page id",
    "instagram": "Instagram professional account id",
}
RECIPIENT_ID_KINDS: Final[dict[str, str]] = {
    "whatsapp": _PHONE,
    "viber": _PHONE,
    "messenger": "page-scoped user id (PSID)",
    "instagram": "Instagram-scoped user id (IGSID)",
}


def check_channel_type(value: str, field: str = "ChannelType") -> RuleError | None:
    if value in CHANNEL_TYPES:
        return None
    known = ", ".join(sorted(CHANNEL_TYPES))
    return RuleError(CHANNEL_TYPE_NOT_SUPPORT, f"Channel type must be one of: {known}.", field)


def check_sender_id(channel_type: str, value: str) -> RuleError | None:
    """Check the From of a send: see the module docstring for the formats."""
    return _check_id(channel_type, value, "From", FROM_ONLY_NUMERIC, SENDER_ID_KINDS)


def check_recipient_id(channel_type: str, value: str) -> RuleError | None:
    """Check the To of a send (an individual; group ids and WhatsApp BSUIDs are not checked)."""
    return _check_id(channel_type, value, "To", TO_ONLY_NUMERIC, RECIPIENT_ID_KINDS)


def _check_id(
    channel_type: str, value: str, param: str, numeric_code: str, kinds: dict[str, str]
) -> RuleError | None:
    if channel_type not in kinds:
        return check_channel_type(channel_type)
    if is_blank(value):
        return missing(param)
    kind = kinds[channel_type]
    if not (value.isascii() and value.isdigit()):
        hint = " Leave out the + and any spaces or dashes." if kind == _PHONE else ""
        return RuleError(numeric_code, f"{param} must be a {kind} in digits only.{hint}", param)
    if kind == _PHONE:
        if not is_possible_phone_number(value):
            message = f"{param} {value} is not a possible phone number with its country code."
            return RuleError(PHONE_NUMBER_ERROR, message, param)
    elif len(value) > PLATFORM_ID_MAX_DIGITS:
        message = f"{param} is too long for a {kind} (at most {PLATFORM_ID_MAX_DIGITS} digits)."
        return invalid(param, message)
    return None


def is_possible_phone_number(digits: str) -> bool:
    try:
        number = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number(number)
