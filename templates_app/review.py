"""Folding what CAMS says about a review into a variant: from a ChatAppAudit receipt, a
GetChatappTemplateDetail answer or a ListChatappTemplate row. Every change is audited.

Receipts carry no time, may arrive twice or late (reference §6.1), so they are applied
monotonically: a late `unaudit` or `auditing` never takes back a decision (pass, fail, disabled,
paused). A detail answer is CAMS's state now and is taken as it is.
"""

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from camsconsole.audit import SYSTEM, Actor, record
from templates_app.models import AUDIT_STATUSES, IN_REVIEW, Quality, Status, Variant

DECIDED = (Status.PASS, Status.FAIL, Status.DISABLED, Status.PAUSED)


@dataclass(frozen=True)
class Word:
    """What CAMS said; None for what it did not say."""

    status: str | None = None
    reason: str | None = None
    quality: str | None = None
    allow_send: bool | None = None

    @classmethod
    def from_cams(cls, data: dict[str, Any]) -> "Word":
        """From a receipt, a detail or a list row (they share the field names)."""
        status = AUDIT_STATUSES.get(str(data.get("AuditStatus") or "").lower())
        quality = str(data.get("QualityScore") or "").upper()
        allow = data.get("AllowSend")
        return cls(
            status=status,
            reason=str(data.get("Reason") or "") if status else None,
            quality=quality if quality in Quality.values else None,
            allow_send=allow if isinstance(allow, bool) else None,
        )


def _review(variant: Variant) -> dict[str, Any]:
    return {
        "language": variant.language,
        "status": variant.status,
        "reason": variant.reason,
        "quality_score": variant.quality_score,
        "allow_send": variant.allow_send,
    }


def fold(variant: Variant, word: Word, *, monotonic: bool) -> None:
    """Set CAMS's word on the variant in memory; the caller saves it."""
    if word.status and not (monotonic and word.status in IN_REVIEW and variant.status in DECIDED):
        variant.status = word.status
        variant.reason = word.reason if word.status == Status.FAIL and word.reason else ""
    if word.quality:
        variant.quality_score = word.quality
    if word.allow_send is not None:
        variant.allow_send = word.allow_send


@transaction.atomic
def apply(
    variant_id: int, word: Word, *, monotonic: bool, synced: bool, actor: Actor = SYSTEM
) -> bool:
    """Apply CAMS's word to a variant; whether anything changed."""
    variant = Variant.objects.select_for_update().select_related("template").get(pk=variant_id)
    before = _review(variant)
    fold(variant, word, monotonic=monotonic)
    after = _review(variant)
    fields = ["status", "reason", "quality_score", "allow_send", "updated_at"]
    if synced:
        variant.synced_at = timezone.now()
        fields.append("synced_at")
    if after == before and not synced:
        return False
    variant.save(update_fields=fields)
    if after != before:
        record(actor, "template.review", variant.template, before=before, after=after)
    return after != before
