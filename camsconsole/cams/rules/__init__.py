"""The documented CAMS validation rules, as pure functions.

One source of truth for two users that must never disagree: the console's forms, which show each
error next to ``RuleError.field``, and the local CAMS sandbox, which answers the first error's
``code`` as CAMS would (HTTP 400, ``{Code, Message, RequestId}``). The checks take the API's own
parameter names; nested parameters may be Python objects or JSON text, and scalars may be text,
as they arrive over the wire. ``codes`` explains which error codes are CAMS's and which are ours.

- ``identities``: channel types, From and To.
- ``messages``: SendChatappMessage and SendChatappMassMessage.
- ``templates``: CreateChatappTemplate and ModifyChatappTemplate, with ``buttons``,
  ``carousel`` and the shared ``fields`` machinery.
- ``languages``: the 68 template language codes.
"""

from camsconsole.cams.limits import MASS_SEND_MAX_RECIPIENTS
from camsconsole.cams.rules.buttons import (
    AUTHENTICATION_BUTTON_TYPES,
    AUTHENTICATION_BUTTONS,
    BUTTON_FIELDS,
    BUTTON_TYPE_MAX,
    BUTTON_TYPES,
    BUTTONS_MAX,
    CARD_BUTTON_TYPES,
    CARD_BUTTONS_MAX,
    FLOW_ACTIONS,
    URL_MAX_VARIABLES,
    URL_TYPES,
    VIBER_BUTTONS_MAX,
)
from camsconsole.cams.rules.carousel import CARD_HEADER_FORMATS, CAROUSEL_CARDS
from camsconsole.cams.rules.codes import Range, RuleError
from camsconsole.cams.rules.fields import Fields, template_variables
from camsconsole.cams.rules.identities import (
    CHANNEL_TYPES,
    PLATFORM_ID_MAX_DIGITS,
    RECIPIENT_ID_KINDS,
    SENDER_ID_KINDS,
    check_channel_type,
    check_recipient_id,
    check_sender_id,
    is_possible_phone_number,
)
from camsconsole.cams.rules.languages import LANGUAGE_CODES, check_language
from camsconsole.cams.rules.messages import (
    CONTENT_RULES,
    FALLBACK_DURATION,
    FALLBACK_RULES,
    GROUP_ONLY_MESSAGE_TYPES,
    MESSAGE_TYPES,
    PRODUCT_ITEMS_MAX,
    PRODUCT_SECTIONS_MAX,
    RECIPIENT_TYPES,
    SEND_TYPES,
    VIBER_LABELS,
    VIBER_TTL,
    ContentRule,
    check_mass_send,
    check_send_message,
)
from camsconsole.cams.rules.templates import (
    BODY_MAX_LENGTH,
    CATEGORIES,
    CODE_EXPIRATION_MINUTES,
    COMPONENT_TYPES,
    FOOTER_MAX_LENGTH,
    HEADER_FIELDS,
    HEADER_FORMATS,
    HEADER_MAX_VARIABLES,
    HEADER_TEXT_MAX_LENGTH,
    MESSAGE_SEND_TTL_SECONDS,
    MODIFIABLE_TEMPLATE_TYPES,
    TEMPLATE_NAME_MAX_LENGTH,
    TEMPLATE_NAME_PATTERN,
    TEMPLATE_TYPES,
    VIBER_VIDEO_DURATION,
    check_template,
)

__all__ = [
    "AUTHENTICATION_BUTTONS",
    "AUTHENTICATION_BUTTON_TYPES",
    "BODY_MAX_LENGTH",
    "BUTTONS_MAX",
    "BUTTON_FIELDS",
    "BUTTON_TYPES",
    "BUTTON_TYPE_MAX",
    "CARD_BUTTONS_MAX",
    "CARD_BUTTON_TYPES",
    "CARD_HEADER_FORMATS",
    "CAROUSEL_CARDS",
    "CATEGORIES",
    "CHANNEL_TYPES",
    "CODE_EXPIRATION_MINUTES",
    "COMPONENT_TYPES",
    "CONTENT_RULES",
    "FALLBACK_DURATION",
    "FALLBACK_RULES",
    "FLOW_ACTIONS",
    "FOOTER_MAX_LENGTH",
    "GROUP_ONLY_MESSAGE_TYPES",
    "HEADER_FIELDS",
    "HEADER_FORMATS",
    "HEADER_MAX_VARIABLES",
    "HEADER_TEXT_MAX_LENGTH",
    "LANGUAGE_CODES",
    "MASS_SEND_MAX_RECIPIENTS",
    "MESSAGE_SEND_TTL_SECONDS",
    "MESSAGE_TYPES",
    "MODIFIABLE_TEMPLATE_TYPES",
    "PLATFORM_ID_MAX_DIGITS",
    "PRODUCT_ITEMS_MAX",
    "PRODUCT_SECTIONS_MAX",
    "RECIPIENT_ID_KINDS",
    "RECIPIENT_TYPES",
    "SENDER_ID_KINDS",
    "SEND_TYPES",
    "TEMPLATE_NAME_MAX_LENGTH",
    "TEMPLATE_NAME_PATTERN",
    "TEMPLATE_TYPES",
    "URL_MAX_VARIABLES",
    "URL_TYPES",
    "VIBER_BUTTONS_MAX",
    "VIBER_LABELS",
    "VIBER_TTL",
    "VIBER_VIDEO_DURATION",
    "ContentRule",
    "Fields",
    "Range",
    "RuleError",
    "check_channel_type",
    "check_language",
    "check_mass_send",
    "check_recipient_id",
    "check_send_message",
    "check_sender_id",
    "check_template",
    "is_possible_phone_number",
    "template_variables",
]
