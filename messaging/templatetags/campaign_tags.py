"""Display helpers of the campaign pages."""

from typing import Any

from django import template

register = template.Library()

BADGES = {
    "draft": "secondary",
    "importing": "info",
    "ready": "primary",
    "scheduled": "primary",
    "running": "info",
    "paused": "warning",
    "completed": "success",
    "cancelled": "dark",
    "failed": "danger",
}


@register.filter
def campaign_badge(status: str) -> str:
    return BADGES.get(status, "secondary")


@register.filter
def thousands(value: Any) -> str:
    """1234567 -> 1,234,567 (without django.contrib.humanize)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return ""


@register.filter
def percent_of(part: Any, whole: Any) -> float:
    try:
        return 100.0 * float(part) / float(whole) if float(whole) else 0.0
    except (TypeError, ValueError):
        return 0.0


@register.filter
def item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""


@register.filter
def duration_text(value: Any) -> str:
    """A timedelta as an operator reads it: "about 1 h 43 min", "42 s"."""
    try:
        seconds = round(value.total_seconds())
    except AttributeError:
        return ""
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if minutes < 10 and seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes} min"
