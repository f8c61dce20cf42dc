"""Template components as the console stores them: the CAMS Components array in the API's own
shape (reference §4.5), so what is designed, validated, previewed and sent is one value.

The editor's palette (which components, formats, buttons and fields to offer) is derived here from
`camsconsole.cams.rules`, so the page can only offer what the rules accept.
"""

import functools
import json
from collections.abc import Iterable, Mapping
from typing import Any

from camsconsole.cams import rules
from camsconsole.cams.rules import buttons as button_rules
from camsconsole.cams.rules import carousel as carousel_rules
from camsconsole.cams.rules import templates as template_rules
from templates_app.models import Template, Variant

Component = dict[str, Any]

ORDER = ("HEADER", "BODY", "FOOTER", "BUTTONS", "CAROUSEL", "LIMITED_TIME_OFFER")
BOOLEAN_FIELDS = frozenset({"IsOptOut", "AddSecretRecommendation", "HasExpiration"})
INTEGER_FIELDS = frozenset({"CodeExpirationMinutes", "Duration"})
# Superseded by SupportedApps (reference §8.7): accepted from CAMS, never offered.
DEPRECATED_FIELDS = frozenset({"PackageName", "SignatureHash"})

_COMPONENT_KEYS = template_rules.KNOWN_COMPONENT_FIELDS | {"Type"}
_BUTTON_KEYS = button_rules.KNOWN_BUTTON_FIELDS | {"Type"}
_CARD_COMPONENT_KEYS = carousel_rules.KNOWN_CARD_COMPONENT_FIELDS | {"Type"}
_APP_KEYS = frozenset({"PackageName", "SignatureHash"})


class MalformedComponents(ValueError):
    """The editor sent something that is not a list of component objects."""


def parse(raw: str | list[Any]) -> list[Component]:
    """The editor's JSON as clean components: blank fields dropped, text stripped, booleans and
    numbers typed, unknown keys dropped. Components, buttons and cards keep their positions, so a
    rule error's path (``Components[2].Buttons[1].Url``) still points at what the operator sees."""
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as exc:
        raise MalformedComponents("The components are not valid JSON.") from exc
    if not isinstance(value, list):
        raise MalformedComponents("The components must be a list.")
    return [_clean(item, _COMPONENT_KEYS) for item in value]


def _clean(item: Any, keys: frozenset[str]) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise MalformedComponents("Each component, button and card must be an object.")
    clean: dict[str, Any] = {}
    for key, value in item.items():
        if key not in keys:
            continue
        if key == "Buttons":
            value = [_clean(button, _BUTTON_KEYS) for button in _items(value)]
        elif key == "Cards":
            value = [_clean_card(card) for card in _items(value)]
        elif key == "SupportedApps":
            value = [_clean(app, _APP_KEYS) for app in _items(value)]
            value = [app for app in value if app]
        else:
            value = _scalar(key, value)
        # Unticked boxes and emptied fields are absent, as CAMS reads them (0 is a value).
        if value is not False and value is not None and value != "" and value != []:
            clean[key] = value
    return clean


def _clean_card(card: Any) -> dict[str, Any]:
    if not isinstance(card, Mapping):
        raise MalformedComponents("Each card must be an object.")
    return {
        "CardComponents": [
            _clean(part, _CARD_COMPONENT_KEYS) for part in _items(card.get("CardComponents"))
        ]
    }


def _items(value: Any) -> list[Any]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise MalformedComponents("Buttons, cards and apps must be lists.")
    return value


def _scalar(key: str, value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
    if key in BOOLEAN_FIELDS:
        return value is True or value == "true"
    if key in INTEGER_FIELDS and isinstance(value, str) and value.isdigit():
        return int(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise MalformedComponents(f"{key} must be a single value.")


def by_type(components: Iterable[Any]) -> dict[str, Component]:
    """The first component of each Type (a template holds at most one of each)."""
    found: dict[str, Component] = {}
    for component in components:
        if isinstance(component, dict):
            found.setdefault(str(component.get("Type", "")), component)
    return found


def variables(components: list[Component]) -> list[int]:
    """The variables that need a sample value for review: those of the HEADER and BODY text
    (a header's {{1}} and the body's {{1}} share one sample, as they share one Example key)."""
    parts = by_type(components)
    texts = [str(parts[kind].get("Text", "")) for kind in ("HEADER", "BODY") if kind in parts]
    return sorted({number for text in texts for number in rules.template_variables(text)})


def parse_example(raw: str | Mapping[str, Any], components: list[Component]) -> dict[str, str]:
    """Sample values for the variables in use, keyed "1", "2", ...; others are dropped."""
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as exc:
        raise MalformedComponents("The sample values are not valid JSON.") from exc
    if not isinstance(value, Mapping):
        raise MalformedComponents("The sample values must be an object.")
    samples = {
        str(number): str(value.get(str(number)) or "").strip() for number in variables(components)
    }
    return {key: sample for key, sample in samples.items() if sample}


def template_params(
    template: Template, variant: Variant, *, category: str | None = None
) -> dict[str, Any]:
    """CreateChatappTemplate parameters for a variant; also what the rules check."""
    return {
        "TemplateType": template.template_type,
        "Name": template.name,
        "Language": variant.language,
        "Category": category or template.category,
        "Components": variant.components,
        "Example": variant.example or None,
        "MessageSendTtlSeconds": variant.message_send_ttl_seconds,
        "CustSpaceId": template.channel.cust_space_id,
    }


def problems(template: Template, variant: Variant) -> list[rules.RuleError]:
    """Every documented rule the variant breaks; an empty list means it may be submitted."""
    return rules.check_template(template_params(template, variant))


# The editor's palette ----------------------------------------------------------------------

LABELS = {
    "Text": "Text",
    "Url": "URL",
    "UrlType": "URL type",
    "Caption": "Caption",
    "FileName": "File name",
    "FileType": "File type",
    "ThumbUrl": "Thumbnail URL",
    "Duration": "Duration (seconds)",
    "Latitude": "Latitude",
    "Longitude": "Longitude",
    "LocationName": "Location name",
    "LocationAddress": "Location address",
    "PhoneNumber": "Phone number",
    "IsOptOut": "Marketing opt-out (unsubscribe) button",
    "CouponCode": "Coupon code",
    "AutofillText": "Autofill button text",
    "SupportedApps": "Supported apps",
    "FlowId": "Flow ID",
    "FlowAction": "Flow action",
    "NavigateScreen": "Screen to open",
    "AddSecretRecommendation": "Add “do not share this code”",
    "CodeExpirationMinutes": "Code expires after (minutes)",
    "HasExpiration": "The offer expires",
}
WIDGETS = {
    **dict.fromkeys(BOOLEAN_FIELDS, "checkbox"),
    **dict.fromkeys(INTEGER_FIELDS, "number"),
    "UrlType": "select",
    "FlowAction": "select",
    "SupportedApps": "apps",
}
CHOICES = {
    "UrlType": sorted(button_rules.URL_TYPES),
    "FlowAction": sorted(button_rules.FLOW_ACTIONS),
}


def _fields(fields: Any, *, drop: Iterable[str] = ()) -> dict[str, list[str]]:
    dropped = DEPRECATED_FIELDS | {"Format", *drop}
    return {
        "required": [name for name in fields.required if name not in dropped],
        "optional": [name for name in fields.optional if name not in dropped],
    }


def _entry(kind: str, category: str) -> dict[str, Any]:
    whatsapp, authentication = (
        kind == "WHATSAPP",
        kind == "WHATSAPP" and category == "AUTHENTICATION",
    )
    if not whatsapp:
        types = template_rules.VIBER_COMPONENT_TYPES
    elif authentication:
        types = template_rules.AUTHENTICATION_COMPONENT_TYPES
    elif category != "MARKETING":
        types = template_rules.COMPONENT_TYPES - template_rules.MARKETING_ONLY_COMPONENT_TYPES
    else:
        types = template_rules.COMPONENT_TYPES
    component_fields = dict(template_rules.COMPONENT_FIELDS)
    if authentication:
        component_fields.update(template_rules.AUTHENTICATION_COMPONENT_FIELDS)
    if not whatsapp:
        button_types, buttons_max = button_rules.VIBER_BUTTON_TYPES, button_rules.VIBER_BUTTONS_MAX
    elif authentication:
        button_types = button_rules.AUTHENTICATION_BUTTON_TYPES
        buttons_max = button_rules.AUTHENTICATION_BUTTONS
    else:
        button_types = button_rules.BUTTON_TYPES - button_rules.AUTOFILL_BUTTON_TYPES
        buttons_max = button_rules.BUTTONS_MAX
    button_fields = dict(button_rules.BUTTON_FIELDS)
    if authentication:
        button_fields.update(button_rules.AUTHENTICATION_BUTTON_FIELDS)
    no_opt_out = () if category == "MARKETING" else ("IsOptOut",)
    ttl = template_rules.MESSAGE_SEND_TTL_SECONDS.get(category) if whatsapp else None
    return {
        "components": [kind for kind in ORDER if kind in types],
        "fields": {
            name: _fields(fields)
            for name, fields in component_fields.items()
            if name in ("BODY", "FOOTER", "LIMITED_TIME_OFFER")
        },
        "header": {
            header_format: _fields(fields)
            for header_format, fields in sorted(template_rules.HEADER_FIELDS[kind].items())
        },
        "buttons": {
            button_type: _fields(button_fields[button_type], drop=no_opt_out)
            for button_type in sorted(button_types)
        },
        "buttons_max": buttons_max,
        "button_type_max": button_rules.BUTTON_TYPE_MAX if whatsapp and not authentication else {},
        "ttl": list(ttl) if ttl else None,
        "body_max": template_rules.BODY_MAX_LENGTH if whatsapp else None,
        "header_max": template_rules.HEADER_TEXT_MAX_LENGTH,
        "footer_max": template_rules.FOOTER_MAX_LENGTH,
    }


@functools.cache
def palette() -> dict[str, Any]:
    """What the design page may offer, per TemplateType and Category."""
    card_buttons = {
        button_type: _fields(button_rules.BUTTON_FIELDS[button_type], drop=("IsOptOut",))
        for button_type in sorted(button_rules.CARD_BUTTON_TYPES)
    }
    return {
        "kinds": {
            kind: {category: _entry(kind, category) for category in sorted(rules.CATEGORIES)}
            for kind in sorted(rules.TEMPLATE_TYPES)
        },
        "card": {
            "header_formats": sorted(carousel_rules.CARD_HEADER_FORMATS),
            "buttons": card_buttons,
            "buttons_max": button_rules.CARD_BUTTONS_MAX,
            "cards_max": carousel_rules.CAROUSEL_CARDS.high,
        },
        "labels": LABELS,
        "widgets": WIDGETS,
        "choices": CHOICES,
    }
