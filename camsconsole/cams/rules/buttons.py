"""Template buttons: types, fields, counts and grouping (reference §4.5)."""

import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from camsconsole.cams.rules.codes import (
    BUTTON_TEXT_HAVE_VARIABLE,
    PHONE_NUMBER_ERROR,
    URL_MORE_VARIABLE,
    RuleError,
)
from camsconsole.cams.rules.fields import (
    Fields,
    TemplateContext,
    create_error,
    field_errors,
    template_variables,
    web_url_errors,
)
from camsconsole.cams.rules.identities import is_possible_phone_number
from camsconsole.cams.rules.params import as_array, as_bool, is_blank, is_set, text_of

BUTTON_TYPES: Final = frozenset(
    {"PHONE_NUMBER", "URL", "QUICK_REPLY", "COPY_CODE", "ONE_TAP", "ZERO_TAP", "MPM", "CATALOG"}
    | {"FLOW"}
)
# MARKETING and UTILITY templates.
BUTTONS_MAX: Final = 10
BUTTON_TYPE_MAX: Final[dict[str, int]] = {"PHONE_NUMBER": 1, "URL": 2}
# Exactly one, COPY_CODE or ONE_TAP; the SDK adds ZERO_TAP (§8.7). Autofill buttons fill in a
# one-time code, so they belong to AUTHENTICATION templates only.
AUTHENTICATION_BUTTON_TYPES: Final = frozenset({"COPY_CODE", "ONE_TAP", "ZERO_TAP"})
AUTHENTICATION_BUTTONS: Final = 1
AUTOFILL_BUTTON_TYPES: Final = frozenset({"ONE_TAP", "ZERO_TAP"})
VIBER_BUTTON_TYPES: Final = frozenset({"URL"})
VIBER_BUTTONS_MAX: Final = 1
CARD_BUTTON_TYPES: Final = frozenset({"PHONE_NUMBER", "URL", "QUICK_REPLY"})
CARD_BUTTONS_MAX: Final = 2
URL_MAX_VARIABLES: Final = 1  # UrlMoreVarable
URL_TYPES: Final = frozenset({"static", "dynamic"})
FLOW_ACTIONS: Final = frozenset({"NAVIGATE", "DATA_EXCHANGE"})
# Letters and digits, or a variable such as $(couponCode) filled in at send time.
COUPON_CODE_PATTERN: Final = re.compile(r"[A-Za-z0-9]+|\$\([A-Za-z0-9_]+\)")

# The app an autofill button opens: SupportedApps, or the superseded flat pair (§8.7).
_APP_FIELDS: Final = ("SupportedApps", "PackageName", "SignatureHash")
BUTTON_FIELDS: Final[dict[str, Fields]] = {
    "PHONE_NUMBER": Fields(("Text", "PhoneNumber")),
    "URL": Fields(("Text", "Url"), ("UrlType",)),
    "QUICK_REPLY": Fields(("Text",), ("IsOptOut",)),
    "COPY_CODE": Fields(("CouponCode",), ("Text",)),  # a coupon outside AUTHENTICATION
    "ONE_TAP": Fields(("Text", "AutofillText"), _APP_FIELDS),
    "ZERO_TAP": Fields(("Text", "AutofillText"), _APP_FIELDS),
    "FLOW": Fields(("Text", "FlowId"), ("FlowAction", "NavigateScreen")),
    "MPM": Fields(("Text",)),
    "CATALOG": Fields(("Text",)),
}
# In an AUTHENTICATION template COPY_CODE copies the one-time code; Text is its label.
AUTHENTICATION_BUTTON_FIELDS: Final[dict[str, Fields]] = {"COPY_CODE": Fields(("Text",))}
# A Viber URL button under a VIDEO header carries no URL.
VIBER_VIDEO_URL_BUTTON_FIELDS: Final = Fields(("Text",))
KNOWN_BUTTON_FIELDS: Final = frozenset(
    name for fields in BUTTON_FIELDS.values() for name in fields.allowed
)

_PHONE: Final = re.compile(r"\+?[0-9]+")

ButtonCheck = Callable[[Mapping[str, Any], str, TemplateContext], Iterator[RuleError]]


def buttons_errors(
    value: Any, field: str, t: TemplateContext, *, in_card: bool
) -> Iterator[RuleError]:
    """The ``Buttons`` of a BUTTONS component (or of a carousel card) at ``field``."""
    if is_blank(value):
        return  # reported as a missing field of the component
    buttons = as_array(value)
    if buttons is None:
        yield create_error(f"{field}.Buttons", "Buttons must be a list of buttons.")
        return
    allowed, owner = _button_policy(t, in_card)
    kinds: list[str] = []
    for index, button in enumerate(buttons):
        where = f"{field}.Buttons[{index}]"
        button_type = text_of(button.get("Type")) if isinstance(button, Mapping) else ""
        if not isinstance(button, Mapping):
            yield create_error(where, "Each button must be a JSON object.")
        elif not button_type:
            yield create_error(f"{where}.Type", "Every button needs a Type.")
        elif button_type not in BUTTON_TYPES:
            known = ", ".join(sorted(BUTTON_TYPES))
            yield create_error(f"{where}.Type", f"Button Type must be one of: {known}.")
        elif button_type not in allowed:
            yield create_error(f"{where}.Type", f"{owner} cannot have a {button_type} button.")
        else:
            kinds.append(button_type)
            yield from _button_errors(button, where, button_type, t)
    yield from _count_errors(len(buttons), kinds, f"{field}.Buttons", t, in_card)


def _button_policy(t: TemplateContext, in_card: bool) -> tuple[frozenset[str], str]:
    """The button types allowed here, and how to name the place in a message."""
    if in_card:
        return CARD_BUTTON_TYPES, "A carousel card"
    if not t.whatsapp:
        return VIBER_BUTTON_TYPES, "A Viber template"
    if t.authentication:
        return AUTHENTICATION_BUTTON_TYPES, "An AUTHENTICATION template"
    if t.category is None:
        return BUTTON_TYPES, "This template"
    return BUTTON_TYPES - AUTOFILL_BUTTON_TYPES, f"A {t.category} template"


def _count_errors(
    total: int, kinds: list[str], field: str, t: TemplateContext, in_card: bool
) -> Iterator[RuleError]:
    if in_card:
        if total > CARD_BUTTONS_MAX:
            yield create_error(field, f"A carousel card has at most {CARD_BUTTONS_MAX} buttons.")
    elif not t.whatsapp:
        if total > VIBER_BUTTONS_MAX:
            yield create_error(field, f"A Viber template has at most {VIBER_BUTTONS_MAX} button.")
    elif t.authentication:
        if total != AUTHENTICATION_BUTTONS:
            message = "An AUTHENTICATION template has exactly one COPY_CODE or ONE_TAP button."
            yield create_error(field, message)
    else:
        if total > BUTTONS_MAX:
            yield create_error(field, f"A template has at most {BUTTONS_MAX} buttons.")
        for kind, limit in BUTTON_TYPE_MAX.items():
            if kinds.count(kind) > limit:
                plural = "" if limit == 1 else "s"
                yield create_error(field, f"A template has at most {limit} {kind} button{plural}.")
        if _quick_replies_split(kinds):
            message = "Keep the QUICK_REPLY buttons together, before or after the other buttons."
            yield create_error(field, message)


def _quick_replies_split(kinds: list[str]) -> bool:
    """Whether QUICK_REPLY and the other buttons interleave instead of forming two groups."""
    groups = [kind == "QUICK_REPLY" for kind in kinds]
    return sum(1 for a, b in itertools.pairwise(groups) if a != b) > 1


def _button_errors(
    b: Mapping[str, Any], field: str, button_type: str, t: TemplateContext
) -> Iterator[RuleError]:
    label = f"A {button_type} button"
    if not t.whatsapp and button_type == "URL" and t.header_format == "VIDEO":
        fields, label = VIBER_VIDEO_URL_BUTTON_FIELDS, "A Viber URL button under a VIDEO header"
    elif t.authentication:
        fields = AUTHENTICATION_BUTTON_FIELDS.get(button_type, BUTTON_FIELDS[button_type])
    else:
        fields = BUTTON_FIELDS[button_type]
    yield from field_errors(b, field, fields, KNOWN_BUTTON_FIELDS, label)
    for name, check in _FIELD_CHECKS.items():
        if name in fields.allowed and is_set(b.get(name)):
            yield from check(b, f"{field}.{name}", t)
    if button_type in AUTOFILL_BUTTON_TYPES:
        yield from _autofill_app_errors(b, field)


def _text_errors(b: Mapping[str, Any], field: str, t: TemplateContext) -> Iterator[RuleError]:
    if template_variables(text_of(b.get("Text"))):
        yield RuleError(BUTTON_TEXT_HAVE_VARIABLE, "Button text cannot have variables.", field)


def _phone_errors(b: Mapping[str, Any], field: str, t: TemplateContext) -> Iterator[RuleError]:
    phone = text_of(b.get("PhoneNumber"))
    if not (_PHONE.fullmatch(phone) and is_possible_phone_number(phone.lstrip("+"))):
        message = "Give the phone number in international form, e.g. +6560000000."
        yield RuleError(PHONE_NUMBER_ERROR, message, field)


def _url_errors(b: Mapping[str, Any], field: str, t: TemplateContext) -> Iterator[RuleError]:
    url, url_type = text_of(b.get("Url")), text_of(b.get("UrlType"))
    variables = len(template_variables(url))
    if url_type and url_type not in URL_TYPES:
        where = field.removesuffix("Url") + "UrlType"
        yield create_error(where, "UrlType must be static or dynamic.")
    if variables > URL_MAX_VARIABLES:
        message = f"A URL takes at most {URL_MAX_VARIABLES} variable."
        yield RuleError(URL_MORE_VARIABLE, message, field)
    elif variables and url_type == "static":
        yield create_error(field, "A static URL cannot have a variable; make the UrlType dynamic.")
    elif not variables and url_type == "dynamic":
        yield create_error(field, "A dynamic URL needs a {{1}} variable at its end.")
    elif variables and not url.rstrip().endswith("}}"):
        yield create_error(field, "Put the URL's variable at its very end (Meta's rule).")
    yield from web_url_errors(url, field)


def _opt_out_errors(b: Mapping[str, Any], field: str, t: TemplateContext) -> Iterator[RuleError]:
    opt_out = as_bool(b.get("IsOptOut"))
    if opt_out is None:
        yield create_error(field, "IsOptOut must be true or false.")
    elif opt_out and not t.may_be("MARKETING"):
        message = "A marketing opt-out button belongs on MARKETING templates only."
        yield create_error(field, message)


def _coupon_errors(b: Mapping[str, Any], field: str, t: TemplateContext) -> Iterator[RuleError]:
    if not COUPON_CODE_PATTERN.fullmatch(text_of(b.get("CouponCode"))):
        message = "CouponCode takes letters and digits only, or a variable like $(couponCode)."
        yield create_error(field, message)


def _flow_errors(b: Mapping[str, Any], field: str, t: TemplateContext) -> Iterator[RuleError]:
    action = text_of(b.get("FlowAction"))
    if action not in FLOW_ACTIONS:
        yield create_error(field, "FlowAction must be NAVIGATE or DATA_EXCHANGE.")
    elif action == "NAVIGATE" and is_blank(b.get("NavigateScreen")):
        message = "A NAVIGATE flow needs the NavigateScreen to open."
        yield create_error(field.removesuffix("FlowAction") + "NavigateScreen", message)


# Checks of one field's value, run when the field is set and allowed on the button.
_FIELD_CHECKS: Final[dict[str, ButtonCheck]] = {
    "Text": _text_errors,
    "PhoneNumber": _phone_errors,
    "Url": _url_errors,
    "IsOptOut": _opt_out_errors,
    "CouponCode": _coupon_errors,
    "FlowAction": _flow_errors,
}


def _autofill_app_errors(b: Mapping[str, Any], field: str) -> Iterator[RuleError]:
    """The app WhatsApp hands the code to: SupportedApps entries, or the deprecated flat pair."""
    if is_blank(b.get("SupportedApps")):
        absent = [name for name in ("PackageName", "SignatureHash") if is_blank(b.get(name))]
        if len(absent) == 2:
            message = "Name the app to fill the code into: SupportedApps with PackageName and "
            yield create_error(f"{field}.SupportedApps", message + "SignatureHash.")
        elif absent:
            yield create_error(f"{field}.{absent[0]}", f"Give the app's {absent[0]} too.")
        return
    apps = as_array(b.get("SupportedApps"))
    if apps is None:
        yield create_error(f"{field}.SupportedApps", "SupportedApps must be a list of apps.")
        return
    for index, app in enumerate(apps):
        for name in ("PackageName", "SignatureHash"):
            if not isinstance(app, Mapping) or is_blank(app.get(name)):
                where = f"{field}.SupportedApps[{index}].{name}"
                yield create_error(where, f"Each supported app needs its {name}.")
