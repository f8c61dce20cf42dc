"""Small display helpers of the messaging pages."""

import json
from typing import Any

from django import template

from messaging.models import State

register = template.Library()

BADGES: dict[str, str] = {
    State.PENDING: "secondary",
    State.CLAIMED: "secondary",
    State.SENDING: "info",
    State.ACCEPTED: "info",
    State.SENT: "primary",
    State.DELIVERED: "primary",
    State.READ: "success",
    State.FAILED: "danger",
    State.UNKNOWN: "warning",
    State.SUPPRESSED: "dark",
}


@register.filter
def state_badge(state: str) -> str:
    """The Bootstrap colour of a message state."""
    return BADGES.get(state, "secondary")


@register.filter
def pretty_json(value: Any) -> str:
    """JSON for a <pre> block; the template escapes it like any other text."""
    if value is None:
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
