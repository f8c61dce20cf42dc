"""Versions of a variant, and what changed between two of them."""

from dataclasses import dataclass
from typing import Any

from templates_app.models import Variant, Version


def content(variant: Variant) -> dict[str, Any]:
    """The part of a variant a version keeps."""
    return {
        "category": variant.template.category,
        "components": variant.components,
        "example": variant.example,
        "message_send_ttl_seconds": variant.message_send_ttl_seconds,
    }


def _stored(version: Version) -> dict[str, Any]:
    return {
        "category": version.category,
        "components": version.components,
        "example": version.example,
        "message_send_ttl_seconds": version.message_send_ttl_seconds,
    }


def keep(variant: Variant, source: str, actor_label: str) -> Version | None:
    """A new version if the variant's content differs from its latest one; the caller saves
    the variant (its `version` is bumped here) inside the same transaction."""
    latest = variant.versions.first() if variant.pk else None
    if latest is not None and _stored(latest) == content(variant):
        return None
    variant.version = (latest.number if latest else 0) + 1
    return Version.objects.create(
        variant=variant,
        number=variant.version,
        source=source,
        actor_label=actor_label,
        **content(variant),
    )


@dataclass(frozen=True)
class Change:
    path: str
    before: Any
    after: Any

    @property
    def kind(self) -> str:
        if self.before is None:
            return "added"
        return "removed" if self.after is None else "changed"


def flatten(values: dict[str, Any]) -> dict[str, Any]:
    """Leaf values by a readable path. Components are named by their Type (a template holds one
    of each), so a reorder shows as one `order` change rather than every field moving."""
    flat: dict[str, Any] = {}
    components = [c for c in values.get("components") or [] if isinstance(c, dict)]
    flat["order"] = ", ".join(str(c.get("Type", "?")) for c in components) or None
    for component in components:
        _walk(
            flat,
            str(component.get("Type", "?")),
            {k: v for k, v in component.items() if k != "Type"},
        )
    for key, sample in (values.get("example") or {}).items():
        flat[f"sample {{{{{key}}}}}"] = sample
    flat["category"] = values.get("category")
    flat["message validity (s)"] = values.get("message_send_ttl_seconds")
    return {path: value for path, value in flat.items() if value not in (None, "")}


def _walk(flat: dict[str, Any], path: str, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _walk(flat, f"{path}.{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(flat, f"{path}[{index + 1}]", item)
    else:
        flat[path] = value


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> list[Change]:
    old, new = flatten(before or {}), flatten(after)
    paths = list(dict.fromkeys([*old, *new]))
    return [Change(p, old.get(p), new.get(p)) for p in paths if old.get(p) != new.get(p)]


def history(variant: Variant) -> list[tuple[Version, list[Change]]]:
    """Every version, newest first, with its changes against the one before it."""
    versions = list(variant.versions.all())
    older: list[Version | None] = [*versions[1:], None]
    return [
        (version, diff(_stored(previous) if previous else None, _stored(version)))
        for version, previous in zip(versions, older[: len(versions)], strict=True)
    ]
