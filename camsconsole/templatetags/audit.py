import json
from typing import Any

from django import template

register = template.Library()


@register.filter
def audit_value(value: Any) -> str:
    """A before/after value as an operator reads it: text as is, anything else as JSON (the
    template escapes the result like any other text)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)
