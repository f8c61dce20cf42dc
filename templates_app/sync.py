"""Bringing CAMS's templates into the console.

- Import (an operator's job): every page of ListChatappTemplate for the channel, then
  GetChatappTemplateDetail for each, creating or updating templates, variants and versions.
- The periodic sync: GetChatappTemplateDetail for every submitted variant, for status, rejection
  reason and quality (only the detail carries QualityScore, so listing first would save nothing).

Both pace their calls (pacing.py). A variant with local changes not yet submitted keeps them:
CAMS's components replace only what CAMS already had from us.
"""

import functools
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from camsconsole.audit import SYSTEM, Actor, record
from camsconsole.cams.errors import CamsError
from camsconsole.cams.rules.params import as_object
from templates_app import components, lifecycle, pacing, review, versions
from templates_app.models import (
    TEMPLATE_TYPES,
    Category,
    Channel,
    Template,
    TemplateJob,
    Variant,
    Version,
)

logger = logging.getLogger(__name__)

# ListChatappTemplate's documented default; its maximum is not documented (reference §3.7).
PAGE_SIZE = 10


def list_all(channel: Channel, job: TemplateJob | None = None) -> list[dict[str, Any]]:
    account = channel.account
    client = account.client()
    kind = TEMPLATE_TYPES[channel.channel_type]
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        request = functools.partial(
            client.list_templates,
            page_index=page,
            page_size=PAGE_SIZE,
            template_type=kind,
            cust_space_id=channel.cust_space_id,
        )
        result = pacing.call(account, "ListChatappTemplate", request)
        found += result.templates
        if job is not None:
            TemplateJob.objects.filter(pk=job.pk).update(total=result.total)
        if not result.templates or len(found) >= result.total:
            return found
        page += 1


def import_channel(job: TemplateJob) -> str:
    if job.channel_id is None:
        raise lifecycle.Refused("The channel is gone.")
    channel = Channel.objects.select_related("account").get(pk=job.channel_id)
    account = channel.account
    client = account.client()
    outcomes = {"created": 0, "updated": 0, "unchanged": 0}
    for done, row in enumerate(list_all(channel, job), start=1):
        try:
            read = functools.partial(
                client.get_template,
                language=row["Language"],
                template_code=row["TemplateCode"],
                template_type=row.get("TemplateType"),
                cust_space_id=channel.cust_space_id,
            )
            detail = pacing.call(account, "GetChatappTemplateDetail", read)
        except CamsError as exc:
            if exc.code not in lifecycle.GONE:
                raise
            detail = {}  # deleted since it was listed
        if detail:
            outcomes[adopt(channel, detail, lifecycle.actor_of(job))] += 1
        TemplateJob.objects.filter(pk=job.pk).update(done=done)
    return (
        f"{outcomes['created']} new, {outcomes['updated']} updated, "
        f"{outcomes['unchanged']} unchanged."
    )


def _components(data: dict[str, Any]) -> list[dict[str, Any]]:
    raw = data.get("Components")
    items = raw if isinstance(raw, list) else []
    for item in items:
        # The detail spells this one with a lower-case h (reference §3.6).
        if isinstance(item, dict) and "hasExpiration" in item:
            item.setdefault("HasExpiration", item["hasExpiration"])
    try:
        return components.parse(items)
    except components.MalformedComponents:
        logger.warning("unreadable components of %s", data.get("TemplateCode"))
        return []


@transaction.atomic
def adopt(channel: Channel, data: dict[str, Any], actor: Actor = SYSTEM) -> str:
    """Create or update the variant CAMS describes in `data` (a detail); what happened."""
    code, language = str(data.get("TemplateCode", "")), str(data.get("Language", ""))
    name = str(data.get("Name") or data.get("TemplateName") or "")
    category = str(data.get("Category") or "")
    variant = (
        Variant.objects.select_for_update()
        .select_related("template")
        .filter(template__channel=channel, template_code=code, language=language)
        .first()
    )
    if variant is None:
        template = Template.objects.filter(channel=channel, name=name).first()
        if template is None:
            category = category if category in Category.values else Category.UTILITY
            template = Template.objects.create(channel=channel, name=name, category=category)
        variant = template.variants.filter(language=language).first() or Variant(
            template=template, language=language
        )
    template = variant.template
    before = variant.audit_values() if variant.pk else None
    keep_local = bool(variant.pk and variant.template_code and variant.has_unsubmitted_changes)
    if not keep_local:
        variant.components = _components(data)
        variant.example = components.parse_example(
            as_object(data.get("Example")) or {}, variant.components
        )
        ttl = data.get("MessageSendTtlSeconds")
        variant.message_send_ttl_seconds = ttl if isinstance(ttl, int) else None
        if category in Category.values and category != template.category:
            template.category = category
            template.save(update_fields=["category", "updated_at"])
    variant.template_code = code
    variant.synced_at = timezone.now()
    review.fold(variant, review.Word.from_cams(data), monotonic=False)
    variant.save()
    if not keep_local and versions.keep(variant, Version.Source.IMPORT, actor.label):
        variant.submitted_version = variant.version
        variant.save(update_fields=["version", "submitted_version", "updated_at"])
    after = variant.audit_values()
    if before is None:
        record(actor, "template.import", template, after=after)
        return "created"
    if before != after:
        record(actor, "template.import", template, before=before, after=after)
        return "updated"
    return "unchanged"


def sync_channels() -> int:
    """Refresh every submitted variant on live channels; how many were read."""
    variants = (
        Variant.objects.exclude(template_code="")
        .filter(template__channel__is_active=True, template__channel__account__is_active=True)
        .select_related("template__channel__account")
        .order_by("template__channel_id", "pk")
    )
    count = 0
    for variant in variants.iterator():
        try:
            lifecycle.refresh_variant(variant)
            count += 1
        except CamsError as exc:
            # One template's trouble must not stop the others; the next run tries again.
            logger.warning("sync of %s failed: %s", variant, exc)
    return count
