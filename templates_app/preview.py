"""What a template looks like on a phone: the server-side twin of static/templates_app/preview.js.

WhatsApp markup (`*bold*`, `_italic_`, `~strike~`, ```` ```mono``` ````) becomes flat runs of
plain text with style flags. The page template opens and closes the tags around each run and
prints the text through Django's escaping (`_runs.html`), so no operator text is ever markup.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from templates_app.components import by_type

_MONO = re.compile(r"```(.+?)```", re.DOTALL)
# A marker opens after a non-word character and hugs non-space text on both sides; WhatsApp
# does not carry a style across lines, and `.` stops at a newline.
_STYLED = re.compile(r"(?<![\w*~])([*_~])(?=\S)(.+?)(?<=\S)\1(?!\w)")
_STYLES = {"*": "bold", "_": "italic", "~": "strike"}
_VARIABLE = re.compile(r"\{\{(\d+)\}\}")

AUTH_BODY = "{{1}} is your verification code."
AUTH_DO_NOT_SHARE = " For your security, do not share this code."
AUTH_FOOTER = "This code expires in {minutes} minutes."
AUTH_SAMPLE_CODE = "123456"

BUTTON_ICONS = {
    "URL": "↗",
    "PHONE_NUMBER": "✆",
    "QUICK_REPLY": "↩",
    "COPY_CODE": "⧉",
    "ONE_TAP": "⧉",
    "ZERO_TAP": "⧉",
    "FLOW": "☰",
    "MPM": "☰",
    "CATALOG": "☰",
}
DEFAULT_BUTTON_TEXT = {"COPY_CODE": "Copy code", "CATALOG": "View catalog", "MPM": "View items"}


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    italic: bool = False
    strike: bool = False
    mono: bool = False


def fill(text: str, samples: dict[str, Any]) -> str:
    """Variables replaced by their sample values where there is one."""
    return _VARIABLE.sub(lambda m: str(samples.get(m.group(1)) or m.group(0)), text)


def runs(text: str) -> list[Run]:
    found: list[Run] = []
    position = 0
    for match in _MONO.finditer(text):
        found += _styled(text[position : match.start()], frozenset())
        found.append(Run(match.group(1), mono=True))
        position = match.end()
    return found + _styled(text[position:], frozenset())


def _styled(text: str, styles: frozenset[str]) -> list[Run]:
    found: list[Run] = []
    position = 0
    for match in _STYLED.finditer(text):
        if match.start() > position:
            found.append(_run(text[position : match.start()], styles))
        found += _styled(match.group(2), styles | {_STYLES[match.group(1)]})
        position = match.end()
    if position < len(text):
        found.append(_run(text[position:], styles))
    return found


def _run(text: str, styles: frozenset[str]) -> Run:
    return Run(text, **dict.fromkeys(styles, True))


@dataclass
class Header:
    format: str
    text: list[Run] = field(default_factory=list)
    url: str = ""
    caption: str = ""
    file_name: str = ""


@dataclass
class Button:
    type: str
    text: str
    detail: str = ""

    @property
    def icon(self) -> str:
        return BUTTON_ICONS.get(self.type, "•")


@dataclass
class Card:
    header_format: str
    url: str
    body: list[Run]
    buttons: list[Button]


@dataclass
class Preview:
    kind: str  # whatsapp or viber: the style of the bubble
    header: Header | None = None
    body: list[Run] = field(default_factory=list)
    footer: str = ""
    buttons: list[Button] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    offer: str | None = None
    offer_expires: bool = False


def build(
    template_type: str, category: str, components: list[Any], example: dict[str, Any]
) -> Preview:
    parts = by_type(components)
    preview = Preview(kind="viber" if template_type == "VIBER" else "whatsapp")
    authentication = category == "AUTHENTICATION" and preview.kind == "whatsapp"
    if "HEADER" in parts and not authentication:
        preview.header = _header(parts["HEADER"], example)
    body = parts.get("BODY", {})
    if authentication:
        text = AUTH_BODY + (AUTH_DO_NOT_SHARE if body.get("AddSecretRecommendation") else "")
        preview.body = runs(fill(text.replace("{{1}}", "*{{1}}*"), {"1": AUTH_SAMPLE_CODE}))
        minutes = parts.get("FOOTER", {}).get("CodeExpirationMinutes")
        preview.footer = AUTH_FOOTER.format(minutes=minutes) if minutes else ""
    else:
        preview.body = runs(fill(str(body.get("Text", "")), example))
        preview.footer = str(parts.get("FOOTER", {}).get("Text", ""))
    preview.buttons = _buttons(parts.get("BUTTONS", {}).get("Buttons"))
    preview.cards = [_card(card, example) for card in parts.get("CAROUSEL", {}).get("Cards") or []]
    if "LIMITED_TIME_OFFER" in parts:
        offer = parts["LIMITED_TIME_OFFER"]
        preview.offer = str(offer.get("Text") or "Limited-time offer")
        preview.offer_expires = bool(offer.get("HasExpiration") or offer.get("hasExpiration"))
    return preview


def _header(component: dict[str, Any], example: dict[str, Any]) -> Header:
    header_format = str(component.get("Format") or "TEXT")
    return Header(
        format=header_format,
        text=runs(fill(str(component.get("Text", "")), example)),
        url=str(component.get("Url", "")),
        caption=str(component.get("Caption", "")),
        file_name=str(component.get("FileName", "")),
    )


def _buttons(items: Any) -> list[Button]:
    found = []
    for item in items or []:
        if not isinstance(item, dict):
            continue
        kind = str(item.get("Type", ""))
        detail = {
            "URL": item.get("Url"),
            "PHONE_NUMBER": item.get("PhoneNumber"),
            "COPY_CODE": item.get("CouponCode"),
            "FLOW": item.get("NavigateScreen"),
            "QUICK_REPLY": "unsubscribes from marketing" if item.get("IsOptOut") else "",
        }.get(kind)
        text = str(
            item.get("Text") or DEFAULT_BUTTON_TEXT.get(kind, kind.replace("_", " ").title())
        )
        found.append(Button(kind, text, str(detail or "")))
    return found


def _card(card: Any, example: dict[str, Any]) -> Card:
    parts = by_type(card.get("CardComponents") or []) if isinstance(card, dict) else {}
    header = parts.get("HEADER", {})
    return Card(
        header_format=str(header.get("Format", "IMAGE")),
        url=str(header.get("Url", "")),
        body=runs(fill(str(parts.get("BODY", {}).get("Text", "")), example)),
        buttons=_buttons(parts.get("BUTTONS", {}).get("Buttons")),
    )
