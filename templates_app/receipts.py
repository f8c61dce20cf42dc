"""ChatAppAudit receipts (reference §6.5), handed over by the receipt ingestion.

Applying is idempotent (the same receipt twice changes nothing the second time) and monotonic
(see review.py). A receipt for a TemplateCode the console does not know is skipped without error:
it belongs to a template made outside the console, which "Import from CAMS" brings in.
"""

import logging
from typing import Any

from templates_app import review
from templates_app.models import Variant

logger = logging.getLogger(__name__)

# V2 receipts (ISV accounts) say what they are about; V1 receipts are all template reviews.
TEMPLATE_EVENTS = {"template", "templateQualityUpdate"}


def apply_audit(events: list[dict[str, Any]]) -> None:
    for event in events:
        if not isinstance(event, dict) or event.get("Type", "template") not in TEMPLATE_EVENTS:
            continue
        code, language = str(event.get("TemplateCode") or ""), str(event.get("Language") or "")
        if not code:
            continue
        word = review.Word.from_cams(event)
        if event.get("Type") == "templateQualityUpdate":
            # The quality arrives as the event's Status (GREEN, YELLOW, RED, UNKNOWN).
            quality = review.Word.from_cams({"QualityScore": event.get("Status")}).quality
            word = review.Word(quality=word.quality or quality)
        variants = Variant.objects.filter(template_code=code)
        if language:
            variants = variants.filter(language=language)
        ids = list(variants.values_list("pk", flat=True))
        if not ids:
            logger.info("ChatAppAudit for unknown template %s [%s] skipped", code, language)
        for variant_id in ids:
            review.apply(variant_id, word, monotonic=True, synced=False)
