"""What every template rule builds on: field tables, the template at hand, variables, URLs.

Template input with no specific CAMS code is refused with ``InvalidParameter.CreateError``
(see ``codes``); ``create_error`` makes those.
"""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from camsconsole.cams.rules.codes import CREATE_ERROR, RuleError
from camsconsole.cams.rules.params import as_bool, is_blank, is_set, text_of

_VARIABLE: Final = re.compile(r"\{\{(\d+)\}\}")


def template_variables(text: str) -> list[int]:
    """The numbers of the ``{{n}}`` placeholders in ``text``, in order of appearance."""
    return [int(number) for number in _VARIABLE.findall(text)]


def format_variables(numbers: list[int]) -> str:
    return ", ".join(f"{{{{{number}}}}}" for number in numbers)


@dataclass(frozen=True)
class Fields:
    """The fields an object of one kind must have, and may have besides."""

    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()

    @property
    def allowed(self) -> frozenset[str]:
        return frozenset(self.required + self.optional)


@dataclass(frozen=True)
class TemplateContext:
    """What the rules of one component depend on."""

    kind: str  # WHATSAPP or VIBER
    category: str | None  # None when a Modify leaves it out: category rules are then skipped
    header_format: str | None

    @property
    def whatsapp(self) -> bool:
        return self.kind == "WHATSAPP"

    @property
    def authentication(self) -> bool:
        return self.whatsapp and self.category == "AUTHENTICATION"

    def may_be(self, category: str) -> bool:
        """Whether the template is, or for all we know may be, of this category."""
        return self.category in (None, category)


def create_error(field: str, message: str) -> RuleError:
    return RuleError(CREATE_ERROR, message, field)


def field_errors(
    item: Mapping[str, Any], field: str, fields: Fields, known: frozenset[str], label: str
) -> Iterator[RuleError]:
    """Required fields that are blank, and known fields set where they do not belong."""
    for name in fields.required:
        if is_blank(item.get(name)):
            yield create_error(f"{field}.{name}", f"{label} needs {name}.")
    for name in sorted(known - fields.allowed):
        if is_set(item.get(name)):
            yield create_error(f"{field}.{name}", f"{label} cannot have {name}.")


def boolean_errors(item: Mapping[str, Any], field: str, name: str) -> Iterator[RuleError]:
    if not is_blank(item.get(name)) and as_bool(item.get(name)) is None:
        yield create_error(f"{field}.{name}", f"{name} must be true or false.")


def numbering_errors(text: str, field: str) -> Iterator[RuleError]:
    """Variables are numbered from {{1}} without gaps; a number may repeat."""
    numbers = sorted(set(template_variables(text)))
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        message = "Number the variables {{1}}, {{2}}, ... without gaps"
        yield create_error(field, f"{message} (found {format_variables(numbers)}).")


def web_url_errors(value: Any, field: str) -> Iterator[RuleError]:
    if is_blank(value):
        return
    parts = urlsplit(_VARIABLE.sub("x", text_of(value)))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        yield create_error(field, "Give a full http:// or https:// URL.")
