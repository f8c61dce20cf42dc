"""Carousel templates: cards, their components and their consistency (reference §4.5)."""

from collections.abc import Iterator, Mapping
from typing import Any, Final, NamedTuple

from camsconsole.cams.rules.buttons import buttons_errors
from camsconsole.cams.rules.codes import HEADER_TYPE_NOT_SUPPORT, Range, RuleError
from camsconsole.cams.rules.fields import (
    Fields,
    TemplateContext,
    create_error,
    field_errors,
    numbering_errors,
    web_url_errors,
)
from camsconsole.cams.rules.params import as_array, text_of

# CAMS pages give no card count; Meta allows up to 10 (unconfirmed for CAMS, §4.5).
CAROUSEL_CARDS: Final = Range(1, 10)
CARD_HEADER_FORMATS: Final = frozenset({"IMAGE", "VIDEO"})
CARD_COMPONENT_FIELDS: Final[dict[str, Fields]] = {
    "HEADER": Fields(("Format", "Url")),
    "BODY": Fields(("Text",)),
    "BUTTONS": Fields(("Buttons",)),
}
CARD_COMPONENT_TYPES: Final = frozenset(CARD_COMPONENT_FIELDS)
KNOWN_CARD_COMPONENT_FIELDS: Final = frozenset({"Format", "Url", "Text", "Buttons"})


class _CardShape(NamedTuple):
    header_format: str
    body: bool
    buttons: tuple[str, ...]


def cards_errors(value: Any, field: str, t: TemplateContext) -> Iterator[RuleError]:
    """The ``Cards`` of a CAROUSEL component at ``field``."""
    cards = as_array(value)
    if cards is None:
        yield create_error(f"{field}.Cards", "Cards must be a list of cards.")
        return
    if len(cards) not in CAROUSEL_CARDS:
        message = f"A carousel has {CAROUSEL_CARDS.low} to {CAROUSEL_CARDS.high} cards."
        yield create_error(f"{field}.Cards", message)
    for index, card in enumerate(cards):
        yield from _card_errors(card, f"{field}.Cards[{index}]", t)
    yield from _consistency_errors(cards, f"{field}.Cards")


def _card_errors(card: Any, field: str, t: TemplateContext) -> Iterator[RuleError]:
    if not isinstance(card, Mapping):
        yield create_error(field, "Each card must be a JSON object.")
        return
    components = as_array(card.get("CardComponents"))
    if not components:
        yield create_error(f"{field}.CardComponents", "A card needs its CardComponents.")
        return
    seen: set[str] = set()
    for index, component in enumerate(components):
        where = f"{field}.CardComponents[{index}]"
        component_type = text_of(component.get("Type")) if isinstance(component, Mapping) else ""
        if not isinstance(component, Mapping):
            yield create_error(where, "Each card component must be a JSON object.")
        elif component_type not in CARD_COMPONENT_TYPES:
            known = ", ".join(sorted(CARD_COMPONENT_TYPES))
            yield create_error(f"{where}.Type", f"A card component's Type is one of: {known}.")
        elif component_type in seen:
            yield create_error(f"{where}.Type", f"A card has at most one {component_type}.")
        else:
            seen.add(component_type)
            yield from _card_component_errors(component, where, component_type, t)
    if "HEADER" not in seen:
        yield create_error(field, "Every card needs a HEADER with an IMAGE or a VIDEO.")


def _card_component_errors(
    c: Mapping[str, Any], field: str, component_type: str, t: TemplateContext
) -> Iterator[RuleError]:
    if component_type == "HEADER" and text_of(c.get("Format")) not in CARD_HEADER_FORMATS:
        message = "A card HEADER's Format is IMAGE or VIDEO."
        yield RuleError(HEADER_TYPE_NOT_SUPPORT, message, f"{field}.Format")
        return
    fields = CARD_COMPONENT_FIELDS[component_type]
    label = f"A card {component_type}"
    yield from field_errors(c, field, fields, KNOWN_CARD_COMPONENT_FIELDS, label)
    if component_type == "HEADER":
        yield from web_url_errors(c.get("Url"), f"{field}.Url")
    elif component_type == "BODY":
        yield from numbering_errors(text_of(c.get("Text")), f"{field}.Text")
    else:
        yield from buttons_errors(c.get("Buttons"), field, t, in_card=True)


def _card_shape(card: Any) -> _CardShape | None:
    components = as_array(card.get("CardComponents")) if isinstance(card, Mapping) else None
    if components is None:
        return None
    by_type = {text_of(c.get("Type")): c for c in components if isinstance(c, Mapping)}
    buttons = as_array(by_type.get("BUTTONS", {}).get("Buttons")) or []
    return _CardShape(
        header_format=text_of(by_type.get("HEADER", {}).get("Format")),
        body="BODY" in by_type,
        buttons=tuple(text_of(b.get("Type")) for b in buttons if isinstance(b, Mapping)),
    )


def _consistency_errors(cards: list[Any], field: str) -> Iterator[RuleError]:
    """Every card uses the first card's header format (§4.5), and, by Meta's rule, the same
    components and button types in the same order."""
    shapes = [_card_shape(card) for card in cards]
    first = shapes[0] if shapes else None
    if first is None:
        return
    for index, shape in enumerate(shapes[1:], start=1):
        if shape is None:
            continue
        if shape.header_format != first.header_format:
            message = f"Every card needs the first card's header format ({first.header_format})."
            yield create_error(f"{field}[{index}]", message)
        elif shape != first:
            message = "Every card needs the same components and buttons as the first (Meta's rule)."
            yield create_error(f"{field}[{index}]", message)
