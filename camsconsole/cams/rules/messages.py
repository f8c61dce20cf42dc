"""Sending: SendChatappMessage and SendChatappMassMessage (reference §3.2, §3.3, §4.1-4.4, §4.6).

Content keys are lower camelCase (``link``, ``fileName``): the seeds' WhatsApp notes capitalise
some of them, but both seed examples and the Viber notes use lower case, and the reference picks
lower case (§8.6). A required key given only in another case is refused with a hint; a forbidden
key is refused in any case, since the seeds forbid ``Caption`` and ``FileName`` by those names.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from camsconsole.cams.limits import MASS_SEND_MAX_RECIPIENTS
from camsconsole.cams.rules.codes import (
    CONTENT_ERROR,
    CONTENT_NOT_EMPTY,
    LANGUAGE_NOT_EMPTY,
    LINK_NOT_EMPTY,
    MESSAGE_INVALID,
    MESSAGE_TYPE_NOT_EMPTY,
    MESSAGE_TYPE_NOT_SUPPORT,
    TEMPLATE_CODE_NOT_EMPTY,
    TEXT_NOT_EMPTY,
    Range,
    RuleError,
    invalid,
    maybe,
    missing,
)
from camsconsole.cams.rules.fields import template_variables
from camsconsole.cams.rules.identities import (
    CHANNEL_TYPES,
    check_channel_type,
    check_recipient_id,
    check_sender_id,
)
from camsconsole.cams.rules.languages import check_language
from camsconsole.cams.rules.params import (
    as_array,
    as_int,
    as_object,
    is_absent,
    is_blank,
    is_scalar,
    is_set,
    join,
    missing_params,
    text_of,
)

SEND_TYPES: Final = frozenset({"template", "message"})

# Parameters the SDK marks required, so the gateway refuses their absence (reference §2.6).
SEND_REQUIRED: Final = ("ChannelType", "Type", "From", "To")
MASS_SEND_REQUIRED: Final = ("ChannelType", "From", "Language")

# The Nov 2024 page and the Jan 2025 Viber page mark Label required for viber; the Mar 2026 page
# calls it optional (International site only). The reference keeps it required for viber
# (§3.2, §8.3), and so do we. The SDK's "pormotion" is a typo: send "promotion".
VIBER_LABELS: Final = frozenset({"promotion", "transaction"})
VIBER_TTL: Final = Range(30, 1_209_600)  # seconds
FALLBACK_DURATION: Final = Range(60, 43_200)  # seconds
FALLBACK_RULES: Final = frozenset({"undelivered", "sentFailed"})

# "individual" and "group" on the Mar 2026 page; the SDK adds "userId" (a BSUID) for WhatsApp.
RECIPIENT_TYPES: Final[dict[str, frozenset[str]]] = {
    channel: frozenset({"individual", "group"} | ({"userId"} if channel == "whatsapp" else set()))
    for channel in CHANNEL_TYPES
}
# Group ids and BSUIDs have no documented format, so only individuals' To is checked.
_UNCHECKED_RECIPIENT_TYPES: Final = frozenset({"group", "userId"})

PRODUCT_SECTIONS_MAX: Final = 10
PRODUCT_ITEMS_MAX: Final = 30  # across all sections


@dataclass(frozen=True)
class ContentRule:
    """The Content keys one MessageType must have and must not have (reference §4.2)."""

    required: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()


_LINK: Final = ContentRule(required=("link",))
_NOTHING_DOCUMENTED: Final = ContentRule()
_META_MEDIA: Final = ("image", "video", "audio", "document")


def _meta_rules(link_types: tuple[str, ...]) -> dict[str, ContentRule]:
    # Messenger and Instagram share one MessageType list; only text and media have field rules.
    rules = dict.fromkeys(
        ("interactive", "couponTemplate", "regularTemplate", "quickReply", "buttonTemplate"),
        _NOTHING_DOCUMENTED,
    )
    rules |= {"text": ContentRule(required=("text",))}
    rules |= {kind: _LINK if kind in link_types else _NOTHING_DOCUMENTED for kind in _META_MEDIA}
    return rules


CONTENT_RULES: Final[dict[str, dict[str, ContentRule]]] = {
    "whatsapp": {
        "text": ContentRule(required=("text",), forbidden=("caption",)),
        "image": _LINK,
        "video": _LINK,
        "audio": ContentRule(required=("link",), forbidden=("caption",)),
        "document": ContentRule(required=("link", "fileName"), forbidden=("caption",)),
        "interactive": ContentRule(required=("type", "action")),
        "contacts": ContentRule(required=("name",)),
        "location": ContentRule(required=("longitude", "latitude")),
        "sticker": ContentRule(required=("link",), forbidden=("caption", "fileName")),
        "reaction": ContentRule(required=("messageId", "emoji")),
        # Listed (typing_indicator and pin by the Mar 2026 page, carousel by the SDK) without
        # field rules: any JSON object passes.
        "typing_indicator": _NOTHING_DOCUMENTED,
        "pin": _NOTHING_DOCUMENTED,
        "carousel": _NOTHING_DOCUMENTED,
    },
    "viber": {
        "text": ContentRule(required=("text",)),
        "image": _LINK,
        "video": ContentRule(required=("link", "thumbnail", "fileSize", "duration")),
        "document": ContentRule(required=("link", "fileName", "fileType")),
        "text_button": ContentRule(required=("text", "caption", "action")),
        "text_image_button": ContentRule(required=("text", "link", "caption", "action")),
        "text_video": ContentRule(required=("text", "link", "thumbnail", "fileSize", "duration")),
        # The seeds say action must not be given; the SDK's English says it "must not be empty".
        # The reference follows the seeds' clearer wording (§8.4).
        "text_video_button": ContentRule(
            required=("text", "link", "thumbnail", "fileSize", "duration", "caption"),
            forbidden=("action",),
        ),
        # Undocumented; the reference presumes text + link, as the name says.
        "text_image": ContentRule(required=("text", "link")),
    },
    "messenger": _meta_rules(link_types=_META_MEDIA),
    # The Instagram notes give no rule for document.
    "instagram": _meta_rules(link_types=("image", "video", "audio")),
}

MESSAGE_TYPES: Final[dict[str, frozenset[str]]] = {
    channel: frozenset(rules) for channel, rules in CONTENT_RULES.items()
}
GROUP_ONLY_MESSAGE_TYPES: Final = frozenset({"pin"})

# CAMS answers TextNotEmpty / LinkNotEmpty for these two; any other missing key is ContentError.
_MISSING_CONTENT_CODES: Final = {"text": TEXT_NOT_EMPTY, "link": LINK_NOT_EMPTY}
# Where a leftover {{n}} would reach the reader (MessageInvalid, reference §4.5).
_READABLE_CONTENT_KEYS: Final = ("text", "caption")


def check_send_message(params: Mapping[str, Any]) -> list[RuleError]:
    """Every broken rule of a SendChatappMessage request, most fundamental first."""
    return list(_send_errors(params))


def check_mass_send(params: Mapping[str, Any]) -> list[RuleError]:
    """Every broken rule of a SendChatappMassMessage request, most fundamental first."""
    return list(_mass_send_errors(params))


def _send_errors(p: Mapping[str, Any]) -> Iterator[RuleError]:
    yield from missing_params(p, SEND_REQUIRED)
    channel, kind = text_of(p.get("ChannelType")), text_of(p.get("Type"))
    if channel:
        yield from maybe(check_channel_type(channel))
    if kind and kind not in SEND_TYPES:
        yield invalid("Type", "Type must be template or message.")
    if channel in CHANNEL_TYPES:
        yield from _sender_errors(channel, p)
        yield from _recipient_errors(channel, p, prefix="")
    if kind == "template":
        yield from _template_reference_errors(p, missing_language_code=LANGUAGE_NOT_EMPTY)
    elif kind == "message" and channel in CHANNEL_TYPES:
        yield from _message_errors(channel, p)
    yield from _recipient_data_errors(p, prefix="")
    yield from _channel_option_errors(channel, p)


def _mass_send_errors(p: Mapping[str, Any]) -> Iterator[RuleError]:
    # Mass send is template-only: the SDK model has no Type, MessageType or Content (§3.3).
    yield from missing_params(p, MASS_SEND_REQUIRED)
    channel = text_of(p.get("ChannelType"))
    if channel:
        yield from maybe(check_channel_type(channel))
    if channel in CHANNEL_TYPES:
        yield from _sender_errors(channel, p)
    yield from _template_reference_errors(p, missing_language_code=None)
    yield from _sender_list_errors(channel, p.get("SenderList"))
    yield from _channel_option_errors(channel, p)


def _sender_errors(channel: str, p: Mapping[str, Any]) -> Iterator[RuleError]:
    sender = text_of(p.get("From"))
    if sender:
        yield from maybe(check_sender_id(channel, sender))


def _recipient_errors(channel: str, item: Mapping[str, Any], prefix: str) -> Iterator[RuleError]:
    recipient_type = text_of(item.get("RecipientType"))
    if recipient_type and recipient_type not in RECIPIENT_TYPES[channel]:
        allowed = ", ".join(sorted(RECIPIENT_TYPES[channel]))
        message = f"RecipientType for {channel} must be one of: {allowed}."
        yield invalid("RecipientType", message, join(prefix, "RecipientType"))
    recipient = text_of(item.get("To"))
    if recipient and recipient_type not in _UNCHECKED_RECIPIENT_TYPES:
        for error in maybe(check_recipient_id(channel, recipient)):
            yield replace(error, field=join(prefix, error.field))


def _template_reference_errors(
    p: Mapping[str, Any], missing_language_code: str | None
) -> Iterator[RuleError]:
    """TemplateCode (or the newer TemplateName) and Language of a template send (§4.1).

    ``missing_language_code`` is None where the gateway already refused a missing Language.
    """
    if is_blank(p.get("TemplateCode")) and is_blank(p.get("TemplateName")):
        message = "Give the TemplateCode (or TemplateName) of an approved template."
        yield RuleError(TEMPLATE_CODE_NOT_EMPTY, message, "TemplateCode")
    language = text_of(p.get("Language"))
    if language:
        yield from maybe(check_language(language))
    elif missing_language_code:
        message = "Give the Language of the template to send."
        yield RuleError(missing_language_code, message, "Language")


def _message_errors(channel: str, p: Mapping[str, Any]) -> Iterator[RuleError]:
    """MessageType and Content of a free-form message (§4.1, §4.2)."""
    message_type = text_of(p.get("MessageType"))
    if not message_type:
        message = "A free-form message needs a MessageType."
        yield RuleError(MESSAGE_TYPE_NOT_EMPTY, message, "MessageType")
    elif message_type not in MESSAGE_TYPES[channel]:
        allowed = ", ".join(sorted(MESSAGE_TYPES[channel]))
        message = f"{channel} takes these MessageTypes: {allowed}."
        yield RuleError(MESSAGE_TYPE_NOT_SUPPORT, message, "MessageType")
    elif message_type in GROUP_ONLY_MESSAGE_TYPES and p.get("RecipientType") != "group":
        message = f"A {message_type} message goes to groups only: set RecipientType to group."
        yield RuleError(MESSAGE_TYPE_NOT_SUPPORT, message, "MessageType")

    if is_absent(p.get("Content")):
        yield RuleError(CONTENT_NOT_EMPTY, "A free-form message needs Content.", "Content")
        return
    content = as_object(p.get("Content"))
    if content is None:
        yield RuleError(CONTENT_ERROR, "Content must be a JSON object.", "Content")
        return
    rule = CONTENT_RULES[channel].get(message_type)
    if rule is not None:
        yield from _content_errors(message_type, rule, content)
    for key in _READABLE_CONTENT_KEYS:
        if template_variables(text_of(content.get(key))):
            message = f"Content {key} contains a {{{{n}}}} placeholder, which CAMS refuses."
            yield RuleError(MESSAGE_INVALID, message, f"Content.{key}")


def _content_errors(
    message_type: str, rule: ContentRule, content: Mapping[str, Any]
) -> Iterator[RuleError]:
    for name in rule.required:
        if is_blank(content.get(name)):
            code = _MISSING_CONTENT_CODES.get(name, CONTENT_ERROR)
            message = f"A {message_type} message needs {name} in its Content."
            if any(key.lower() == name.lower() for key in content):
                message += f" Write the key as {name!r}, in lower camelCase."
            yield RuleError(code, message, f"Content.{name}")
    forbidden = {name.lower() for name in rule.forbidden}
    for key, value in content.items():
        if key.lower() in forbidden and is_set(value):
            message = f"A {message_type} message must not have {key} in its Content."
            yield RuleError(CONTENT_ERROR, message, f"Content.{key}")


def _sender_list_errors(channel: str, value: Any) -> Iterator[RuleError]:
    if is_absent(value):
        yield missing("SenderList")
        return
    recipients = as_array(value)
    if not recipients:
        yield invalid("SenderList", "SenderList must be a JSON array of one or more recipients.")
        return
    if len(recipients) > MASS_SEND_MAX_RECIPIENTS:
        message = (
            f"SenderList has {len(recipients):,} recipients; one request takes at most "
            f"{MASS_SEND_MAX_RECIPIENTS:,}. Split the list."
        )
        yield invalid("SenderList", message)
    for index, entry in enumerate(recipients):
        prefix = f"SenderList[{index}]"
        item = entry if isinstance(entry, Mapping) else None
        if item is None:
            yield invalid("SenderList", "Each recipient must be a JSON object.", prefix)
            continue
        if is_blank(item.get("To")):
            yield missing("To", join(prefix, "To"))
        elif channel in CHANNEL_TYPES:
            yield from _recipient_errors(channel, item, prefix)
        yield from _recipient_data_errors(item, prefix)


def _recipient_data_errors(item: Mapping[str, Any], prefix: str) -> Iterator[RuleError]:
    """TemplateParams, Payload, FlowAction and ProductAction: one recipient's nested data."""
    yield from _template_params_errors(item.get("TemplateParams"), prefix)
    yield from _payload_errors(item.get("Payload"), prefix)
    yield from _flow_action_errors(item.get("FlowAction"), prefix)
    yield from _product_action_errors(item.get("ProductAction"), prefix)


def _template_params_errors(value: Any, prefix: str) -> Iterator[RuleError]:
    if is_blank(value):
        return
    field = join(prefix, "TemplateParams")
    params = as_object(value)
    if params is None:
        message = 'TemplateParams must be a JSON object of variable values, e.g. {"1": "Alice"}.'
        yield invalid("TemplateParams", message, field)
        return
    for key, param in params.items():
        if not is_scalar(param):
            message = f"The value of template variable {key} must be text."
            yield invalid("TemplateParams", message, f"{field}.{key}")
        elif template_variables(text_of(param)):
            message = f"The value of template variable {key} contains a {{{{n}}}} placeholder."
            yield RuleError(MESSAGE_INVALID, message, f"{field}.{key}")


def _payload_errors(value: Any, prefix: str) -> Iterator[RuleError]:
    if is_blank(value):
        return
    payload = as_array(value)
    if payload is None or not all(isinstance(entry, str) for entry in payload):
        message = "Payload must be a JSON array of texts, one per quick-reply button."
        yield invalid("Payload", message, join(prefix, "Payload"))


def _flow_action_errors(value: Any, prefix: str) -> Iterator[RuleError]:
    if is_blank(value):
        return
    field = join(prefix, "FlowAction")
    action = as_object(value)
    if action is None:
        message = "FlowAction must be a JSON object with FlowToken and FlowActionData."
        yield invalid("FlowAction", message, field)
        return
    token, data = action.get("FlowToken"), action.get("FlowActionData")
    if token is not None and not isinstance(token, str):
        yield invalid("FlowAction", "FlowToken must be text.", f"{field}.FlowToken")
    if data is not None and not isinstance(data, Mapping):
        message = "FlowActionData must be a JSON object of the Flow's default parameters."
        yield invalid("FlowAction", message, f"{field}.FlowActionData")


def _product_action_errors(value: Any, prefix: str) -> Iterator[RuleError]:
    if is_blank(value):
        return
    field = join(prefix, "ProductAction")
    action = as_object(value)
    sections = as_array(action.get("Sections", [])) if action is not None else None
    if sections is None:
        message = "ProductAction must be a JSON object whose Sections is an array."
        yield invalid("ProductAction", message, field)
        return
    if len(sections) > PRODUCT_SECTIONS_MAX:
        message = f"ProductAction takes at most {PRODUCT_SECTIONS_MAX} sections."
        yield invalid("ProductAction", message, f"{field}.Sections")
    products = 0
    for index, section in enumerate(sections):
        where = f"{field}.Sections[{index}]"
        items = as_array(section.get("ProductItems", [])) if isinstance(section, Mapping) else None
        if items is None:
            message = "Each section must be an object with a ProductItems array."
            yield invalid("ProductAction", message, where)
            continue
        products += len(items)
        for number, product in enumerate(items):
            if not isinstance(product, Mapping) or is_blank(product.get("ProductRetailerId")):
                message = "Each product needs its ProductRetailerId."
                yield invalid("ProductAction", message, f"{where}.ProductItems[{number}]")
    if products > PRODUCT_ITEMS_MAX:
        message = f"ProductAction takes at most {PRODUCT_ITEMS_MAX} products in all."
        yield invalid("ProductAction", message, f"{field}.Sections")


def _channel_option_errors(channel: str, p: Mapping[str, Any]) -> Iterator[RuleError]:
    """Viber's Label and Ttl, and the SMS fallback settings (§3.2, §4.4)."""
    if channel == "viber":
        label = text_of(p.get("Label"))
        if not label:
            yield missing("Label")
        elif label not in VIBER_LABELS:
            hint = " (the SDK's spelling pormotion is a typo)" if label == "pormotion" else ""
            yield invalid("Label", f"Label must be promotion or transaction{hint}.")
    yield from _seconds_errors(p, "Ttl", VIBER_TTL)
    yield from _seconds_errors(p, "FallBackDuration", FALLBACK_DURATION)
    rule = text_of(p.get("FallBackRule"))
    if rule and rule not in FALLBACK_RULES:
        yield invalid("FallBackRule", "FallBackRule must be undelivered or sentFailed.")


def _seconds_errors(p: Mapping[str, Any], name: str, allowed: Range) -> Iterator[RuleError]:
    value = p.get(name)
    if not is_blank(value) and as_int(value) not in allowed:
        yield invalid(name, f"{name} must be a whole number of seconds from {allowed}.")
