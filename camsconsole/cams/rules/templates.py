"""Templates: CreateChatappTemplate and ModifyChatappTemplate (reference §3.4, §3.5, §4.5).

Rules marked "Meta's rule" are not stated on CAMS pages. They are WhatsApp's own review rules,
and CAMS passes every template to WhatsApp for review; refusing early spares the operator a
rejection a day later. Everything else is from the reference, the seeds or the SDK's metadata.
Buttons are in ``buttons``, carousel cards in ``carousel``.
"""

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from camsconsole.cams.rules.buttons import buttons_errors
from camsconsole.cams.rules.carousel import cards_errors
from camsconsole.cams.rules.codes import (
    FOOTER_HAVE_VARIABLE,
    HEADER_MORE_VARIABLE,
    HEADER_TYPE_NOT_SUPPORT,
    TEMPLATE_CODE_NOT_EMPTY,
    TEMPLATE_TYPE_NOT_SUPPORT,
    Range,
    RuleError,
    maybe,
)
from camsconsole.cams.rules.fields import (
    Fields,
    TemplateContext,
    boolean_errors,
    create_error,
    field_errors,
    format_variables,
    numbering_errors,
    template_variables,
    web_url_errors,
)
from camsconsole.cams.rules.languages import check_language
from camsconsole.cams.rules.params import (
    as_array,
    as_bool,
    as_int,
    as_object,
    is_absent,
    is_blank,
    is_scalar,
    missing_params,
    text_of,
)

TEMPLATE_TYPES: Final = frozenset({"WHATSAPP", "VIBER"})
MODIFIABLE_TEMPLATE_TYPES: Final = frozenset({"WHATSAPP"})  # ModifyChatappTemplate, §3.5
CATEGORIES: Final = frozenset({"UTILITY", "MARKETING", "AUTHENTICATION"})
# A 2023 page used these names; the current set replaced them (§3.4).
_OBSOLETE_CATEGORIES: Final = {"TRANSACTIONAL": "UTILITY", "OTP": "AUTHENTICATION"}

# Required by the SDK's metadata, so refused by the gateway. Modify names its template by
# TemplateCode (seed) or TemplateName (SDK), checked apart (§8.8).
CREATE_REQUIRED: Final = ("TemplateType", "Name", "Language", "Category", "Components")
MODIFY_REQUIRED: Final = ("Language", "Components")

# Meta's naming rule; CAMS pages do not state it, but WhatsApp refuses other names (§3.4).
TEMPLATE_NAME_PATTERN: Final = re.compile(r"[a-z0-9_]+")
TEMPLATE_NAME_MAX_LENGTH: Final = 512  # Meta's limit

# WhatsApp's limits, in characters (§4.5).
BODY_MAX_LENGTH: Final = 1024
HEADER_TEXT_MAX_LENGTH: Final = 60
FOOTER_MAX_LENGTH: Final = 60
HEADER_MAX_VARIABLES: Final = 1  # HeaderMoreVarable

# Seconds, per category (the SDK's metadata); other categories have no documented range.
MESSAGE_SEND_TTL_SECONDS: Final[dict[str, Range]] = {
    "AUTHENTICATION": Range(30, 900),
    "UTILITY": Range(30, 43_200),
}
CODE_EXPIRATION_MINUTES: Final = Range(1, 90)  # Meta's range
VIBER_VIDEO_DURATION: Final = Range(0, 600)  # seconds


def _header(*required: str, optional: tuple[str, ...] = ()) -> Fields:
    return Fields(("Format", *required), optional)


# HEADER fields per template type and Format (§4.5; LOCATION and its fields from the detail
# response, §3.6, where the location itself is given at send time).
HEADER_FIELDS: Final[dict[str, dict[str, Fields]]] = {
    "WHATSAPP": {
        "TEXT": _header("Text"),
        "IMAGE": _header("Url", optional=("Caption",)),
        "VIDEO": _header("Url", optional=("Caption",)),
        "DOCUMENT": _header("Url", optional=("Caption", "FileName")),
        "LOCATION": _header(optional=("Latitude", "Longitude", "LocationName", "LocationAddress")),
    },
    # Viber puts media in the HEADER and text in the BODY; a video needs its length and a
    # thumbnail, and FileType applies to files.
    "VIBER": {
        "IMAGE": _header("Url"),
        "VIDEO": _header("Url", "ThumbUrl", "Duration"),
        "DOCUMENT": _header("Url", optional=("FileName", "FileType")),
    },
}
HEADER_FORMATS: Final[dict[str, frozenset[str]]] = {
    kind: frozenset(formats) for kind, formats in HEADER_FIELDS.items()
}

COMPONENT_FIELDS: Final[dict[str, Fields]] = {
    "BODY": Fields(("Text",)),
    "FOOTER": Fields(("Text",)),
    "BUTTONS": Fields(("Buttons",)),
    "CAROUSEL": Fields(("Cards",)),
    "LIMITED_TIME_OFFER": Fields(optional=("HasExpiration", "Text")),
}
COMPONENT_TYPES: Final = frozenset({"HEADER", *COMPONENT_FIELDS})
# WhatsApp writes the text of an AUTHENTICATION template's BODY and FOOTER.
AUTHENTICATION_COMPONENT_FIELDS: Final[dict[str, Fields]] = {
    "BODY": Fields(optional=("AddSecretRecommendation",)),
    "FOOTER": Fields(optional=("CodeExpirationMinutes",)),
}
KNOWN_COMPONENT_FIELDS: Final = frozenset(
    {"Text", "Url", "Caption", "FileName", "FileType", "Duration", "ThumbUrl", "Buttons"}
    | {"Cards", "AddSecretRecommendation", "CodeExpirationMinutes", "HasExpiration", "Format"}
    | {"Latitude", "Longitude", "LocationName", "LocationAddress"}
)

# Which component types a template may hold, by kind (§4.5).
VIBER_COMPONENT_TYPES: Final = frozenset({"HEADER", "BODY", "BUTTONS"})
AUTHENTICATION_COMPONENT_TYPES: Final = frozenset({"BODY", "FOOTER", "BUTTONS"})
CAROUSEL_TEMPLATE_COMPONENT_TYPES: Final = frozenset({"BODY", "CAROUSEL"})  # Meta's rule
MARKETING_ONLY_COMPONENT_TYPES: Final = frozenset({"CAROUSEL", "LIMITED_TIME_OFFER"})  # Meta's

_LEADING_VARIABLE: Final = re.compile(r"\s*\{\{\d+\}\}")
_TRAILING_VARIABLE: Final = re.compile(r".*\{\{\d+\}\}\s*", re.DOTALL)

ComponentCheck = Callable[[Mapping[str, Any], str, TemplateContext], Iterator[RuleError]]


def check_template(params: Mapping[str, Any], *, modify: bool = False) -> list[RuleError]:
    """Every broken rule of a CreateChatappTemplate (or, with ``modify``, ModifyChatappTemplate)
    request, most fundamental first.

    A Modify may leave out Category and TemplateType; pass the stored template's values merged
    into ``params`` where the category rules should still apply.
    """
    return list(_template_errors(params, modify))


def _template_errors(p: Mapping[str, Any], modify: bool) -> Iterator[RuleError]:
    yield from missing_params(p, MODIFY_REQUIRED if modify else CREATE_REQUIRED)
    if modify and is_blank(p.get("TemplateCode")) and is_blank(p.get("TemplateName")):
        message = "Give the TemplateCode (or TemplateName) of the template to change."
        yield RuleError(TEMPLATE_CODE_NOT_EMPTY, message, "TemplateCode")
    kind = text_of(p.get("TemplateType")) or ("WHATSAPP" if modify else "")
    allowed_kinds = MODIFIABLE_TEMPLATE_TYPES if modify else TEMPLATE_TYPES
    if kind and kind not in allowed_kinds:
        message = f"TemplateType must be {' or '.join(sorted(allowed_kinds))}."
        yield RuleError(TEMPLATE_TYPE_NOT_SUPPORT, message, "TemplateType")
    if not modify:
        yield from _name_errors(text_of(p.get("Name")))
    category = text_of(p.get("Category"))
    yield from _category_errors(category)
    if language := text_of(p.get("Language")):
        yield from maybe(check_language(language))
    yield from _option_errors(p, category)

    if is_absent(p.get("Components")):
        return
    components = as_array(p.get("Components"))
    if not components:
        message = "Components must be a JSON array of at least one component."
        yield create_error("Components", message)
    elif kind in allowed_kinds:
        known_category = category if category in CATEGORIES else None
        yield from _components_errors(components, kind, known_category, p.get("Example"))


def _name_errors(name: str) -> Iterator[RuleError]:
    if not name:
        return
    if len(name) > TEMPLATE_NAME_MAX_LENGTH:
        yield create_error("Name", f"Name is longer than {TEMPLATE_NAME_MAX_LENGTH} characters.")
    if not TEMPLATE_NAME_PATTERN.fullmatch(name):
        yield create_error("Name", "Name takes lowercase letters, digits and _ only.")


def _category_errors(category: str) -> Iterator[RuleError]:
    if not category or category in CATEGORIES:
        return
    message = f"Category must be one of: {', '.join(sorted(CATEGORIES))}."
    if category in _OBSOLETE_CATEGORIES:
        message += f" {category} is the old name of {_OBSOLETE_CATEGORIES[category]}."
    yield create_error("Category", message)


def _option_errors(p: Mapping[str, Any], category: str) -> Iterator[RuleError]:
    ttl = p.get("MessageSendTtlSeconds")
    if not is_blank(ttl):
        seconds, allowed = as_int(ttl), MESSAGE_SEND_TTL_SECONDS.get(category)
        if seconds is None or (allowed is not None and seconds not in allowed):
            span = f" from {allowed} for {category}" if allowed else ""
            message = f"MessageSendTtlSeconds must be a whole number of seconds{span}."
            yield create_error("MessageSendTtlSeconds", message)
    for name in ("AllowCategoryChange", "CategoryChangePaused"):
        if not is_blank(p.get(name)) and as_bool(p.get(name)) is None:
            yield create_error(name, f"{name} must be true or false.")
    example = p.get("Example")
    if not is_blank(example):
        samples = as_object(example)
        if samples is None or not all(is_scalar(value) for value in samples.values()):
            message = 'Example must be a JSON object of sample values, e.g. {"1": "Alice"}.'
            yield create_error("Example", message)


def _components_errors(
    components: list[Any], kind: str, category: str | None, example: Any
) -> Iterator[RuleError]:
    by_type: dict[str, tuple[int, Mapping[str, Any]]] = {}
    for index, component in enumerate(components):
        field = f"Components[{index}]"
        component_type = text_of(component.get("Type")) if isinstance(component, Mapping) else ""
        if not isinstance(component, Mapping):
            yield create_error(field, "Each component must be a JSON object.")
        elif not component_type:
            yield create_error(f"{field}.Type", "Every component needs a Type.")
        elif component_type not in COMPONENT_TYPES:
            known = ", ".join(sorted(COMPONENT_TYPES))
            yield create_error(f"{field}.Type", f"Component Type must be one of: {known}.")
        elif component_type in by_type:
            yield create_error(f"{field}.Type", f"A template has at most one {component_type}.")
        else:
            by_type[component_type] = (index, component)

    header = by_type.get("HEADER")
    template = TemplateContext(kind, category, text_of(header[1].get("Format")) if header else None)
    if template.whatsapp and "BODY" not in by_type:
        yield create_error("Components", "A WhatsApp template needs a BODY component.")
    if template.authentication and "BUTTONS" not in by_type:
        message = "An AUTHENTICATION template needs one COPY_CODE or ONE_TAP button."
        yield create_error("Components", message)
    for component_type, (index, component) in by_type.items():  # in the order given
        field = f"Components[{index}]"
        refusal = _component_refusal(component_type, template, by_type)
        if refusal:
            yield create_error(f"{field}.Type", refusal)
        else:
            yield from _COMPONENT_CHECKS[component_type](component, field, template)
    if not template.authentication:  # WhatsApp writes those texts
        yield from _sample_errors(by_type, example)


def _component_refusal(
    component_type: str, template: TemplateContext, present: Mapping[str, object]
) -> str | None:
    """Why this template may not hold a component of this type, if it may not."""
    if not template.whatsapp and component_type not in VIBER_COMPONENT_TYPES:
        return f"A Viber template cannot have a {component_type} component."
    if template.authentication and component_type not in AUTHENTICATION_COMPONENT_TYPES:
        return f"An AUTHENTICATION template cannot have a {component_type} component."
    if component_type in MARKETING_ONLY_COMPONENT_TYPES and not template.may_be("MARKETING"):
        return f"A {component_type} component is for MARKETING templates only (Meta's rule)."
    if "CAROUSEL" in present and component_type not in CAROUSEL_TEMPLATE_COMPONENT_TYPES:
        return f"A carousel template has a BODY and the CAROUSEL only, no {component_type}."
    return None


# Components, one checker per type.


def _header_errors(c: Mapping[str, Any], field: str, t: TemplateContext) -> Iterator[RuleError]:
    formats = HEADER_FIELDS[t.kind]
    header_format = t.header_format or ""
    if not header_format:
        choices = ", ".join(sorted(formats))
        yield create_error(f"{field}.Format", f"A HEADER needs a Format: {choices}.")
        return
    if header_format not in formats:
        kind = "WhatsApp" if t.whatsapp else "Viber"
        message = f"A {kind} HEADER takes these Formats: {', '.join(sorted(formats))}."
        yield RuleError(HEADER_TYPE_NOT_SUPPORT, message, f"{field}.Format")
        return
    fields = formats[header_format]
    yield from field_errors(c, field, fields, KNOWN_COMPONENT_FIELDS, f"A {header_format} HEADER")
    text = text_of(c.get("Text"))
    if header_format == "TEXT" and text:
        if len(text) > HEADER_TEXT_MAX_LENGTH:
            message = f"HEADER text is longer than {HEADER_TEXT_MAX_LENGTH} characters."
            yield create_error(f"{field}.Text", message)
        if len(template_variables(text)) > HEADER_MAX_VARIABLES:
            message = f"HEADER text takes at most {HEADER_MAX_VARIABLES} variable."
            yield RuleError(HEADER_MORE_VARIABLE, message, f"{field}.Text")
        else:
            yield from numbering_errors(text, f"{field}.Text")
    for name in ("Url", "ThumbUrl"):
        yield from web_url_errors(c.get(name), f"{field}.{name}")
    duration = c.get("Duration")  # allowed on Viber videos only, see HEADER_FIELDS
    if "Duration" in fields.allowed and not is_blank(duration):
        yield from _duration_errors(duration, f"{field}.Duration")


def _duration_errors(duration: Any, field: str) -> Iterator[RuleError]:
    if as_int(duration) not in VIBER_VIDEO_DURATION:
        message = f"Duration must be a whole number of seconds from {VIBER_VIDEO_DURATION}."
        yield create_error(field, message)


def _body_errors(c: Mapping[str, Any], field: str, t: TemplateContext) -> Iterator[RuleError]:
    yield from _plain_component_errors(c, field, t, "BODY")
    if t.authentication:
        yield from boolean_errors(c, field, "AddSecretRecommendation")
    text = text_of(c.get("Text"))
    if not text:
        return
    if t.whatsapp and len(text) > BODY_MAX_LENGTH:
        message = f"BODY is longer than {BODY_MAX_LENGTH:,} characters ({len(text):,})."
        yield create_error(f"{field}.Text", message)
    yield from numbering_errors(text, f"{field}.Text")
    if t.whatsapp and (_LEADING_VARIABLE.match(text) or _TRAILING_VARIABLE.fullmatch(text)):
        message = "BODY cannot start or end with a variable (Meta's rule); add words around it."
        yield create_error(f"{field}.Text", message)


def _footer_errors(c: Mapping[str, Any], field: str, t: TemplateContext) -> Iterator[RuleError]:
    yield from _plain_component_errors(c, field, t, "FOOTER")
    minutes = c.get("CodeExpirationMinutes")
    if (
        t.authentication
        and not is_blank(minutes)
        and as_int(minutes) not in CODE_EXPIRATION_MINUTES
    ):
        message = f"CodeExpirationMinutes must be a whole number from {CODE_EXPIRATION_MINUTES}."
        yield create_error(f"{field}.CodeExpirationMinutes", message)
    text = text_of(c.get("Text"))
    if t.whatsapp and len(text) > FOOTER_MAX_LENGTH:
        message = f"FOOTER is longer than {FOOTER_MAX_LENGTH} characters ({len(text)})."
        yield create_error(f"{field}.Text", message)
    if template_variables(text):
        message = "FOOTER cannot have variables."
        yield RuleError(FOOTER_HAVE_VARIABLE, message, f"{field}.Text")


def _buttons_component_errors(
    c: Mapping[str, Any], field: str, t: TemplateContext
) -> Iterator[RuleError]:
    yield from _plain_component_errors(c, field, t, "BUTTONS")
    yield from buttons_errors(c.get("Buttons"), field, t, in_card=False)


def _carousel_errors(c: Mapping[str, Any], field: str, t: TemplateContext) -> Iterator[RuleError]:
    yield from _plain_component_errors(c, field, t, "CAROUSEL")
    if not is_blank(c.get("Cards")):
        yield from cards_errors(c.get("Cards"), field, t)


def _limited_time_offer_errors(
    c: Mapping[str, Any], field: str, t: TemplateContext
) -> Iterator[RuleError]:
    yield from _plain_component_errors(c, field, t, "LIMITED_TIME_OFFER")
    yield from boolean_errors(c, field, "HasExpiration")


_COMPONENT_CHECKS: Final[dict[str, ComponentCheck]] = {
    "HEADER": _header_errors,
    "BODY": _body_errors,
    "FOOTER": _footer_errors,
    "BUTTONS": _buttons_component_errors,
    "CAROUSEL": _carousel_errors,
    "LIMITED_TIME_OFFER": _limited_time_offer_errors,
}


def _plain_component_errors(
    c: Mapping[str, Any], field: str, t: TemplateContext, component_type: str
) -> Iterator[RuleError]:
    if t.authentication and component_type in AUTHENTICATION_COMPONENT_FIELDS:
        fields = AUTHENTICATION_COMPONENT_FIELDS[component_type]
        label = f"An AUTHENTICATION {component_type}, whose text WhatsApp writes,"
    else:
        fields, label = COMPONENT_FIELDS[component_type], f"A {component_type} component"
    yield from field_errors(c, field, fields, KNOWN_COMPONENT_FIELDS, label)


def _sample_errors(
    by_type: Mapping[str, tuple[int, Mapping[str, Any]]], example: Any
) -> Iterator[RuleError]:
    """WhatsApp reviews templates with sample values for their variables (§3.4).

    The key format of Example is undocumented; keys "1", "2"... are the reference's reading
    (§8.10) and what the console sends. A header's {{1}} and the body's {{1}} share key "1".
    Card bodies are left out: one flat map cannot tell their variables apart.
    """
    texts = [
        text_of(by_type[kind][1].get("Text")) for kind in ("HEADER", "BODY") if kind in by_type
    ]
    numbers = sorted({n for text in texts for n in template_variables(text)})
    if not numbers:
        return
    samples = as_object(example)
    if samples is None:
        if is_blank(example):  # a malformed Example was reported with the options
            listed = format_variables(numbers)
            yield create_error("Example", f"Give sample values for {listed} in Example.")
        return
    for number in numbers:
        if is_blank(samples.get(str(number))):
            message = f"Give a sample value for {{{{{number}}}}} in Example."
            yield create_error(f"Example.{number}", message)
