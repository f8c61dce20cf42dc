"""What an operator should know before launching: counts, the template, the first messages as
their recipients will see them, how long it will take, and what is wrong.

Blockers stop a launch (actions.launch checks them again under the campaign's lock); warnings
are shown and left to the operator's judgement.
"""

import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from camsconsole.models import Sender
from messaging.campaigns.counters import counts
from messaging.campaigns.models import Campaign, CampaignImport, Recipient
from messaging.models import State
from templates_app import preview
from templates_app.components import variables
from templates_app.models import Status as TemplateStatus

SAMPLES = 5
TIER_LIMITS = {"TIER_250": 250, "TIER_1K": 1000, "TIER_10K": 10_000, "TIER_100K": 100_000}


@dataclass
class Sample:
    to: str
    params: dict[str, Any]
    payload: list[str]
    preview: preview.Preview | None


@dataclass
class Preflight:
    pending: int = 0
    last_import: CampaignImport | None = None
    template_status: str = ""
    template_approved: bool = False
    samples: list[Sample] = field(default_factory=list)
    duration: timedelta | None = None
    warnings: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.blockers


def estimate(campaign: Campaign, recipients: int) -> timedelta:
    """At the limiter's target share of the account's QPS for the campaign's operation."""
    qps = campaign.channel.account.qps(campaign.operation) * settings.MESSAGING_RATE_TARGET
    calls = math.ceil(recipients / campaign.batch_size) if campaign.is_mass else recipients
    return timedelta(seconds=calls / qps if qps else 0)


def check(campaign: Campaign) -> Preflight:
    found = Preflight()
    found.pending = counts(campaign.pk)[State.PENDING]
    found.last_import = (
        CampaignImport.objects.filter(campaign=campaign, state=CampaignImport.State.DONE)
        .order_by("-id")
        .first()
    )
    _template(campaign, found)
    _recipients(campaign, found)
    _sender(campaign, found)
    if found.pending:
        found.duration = estimate(campaign, found.pending)
    if campaign.scheduled_at and campaign.scheduled_at <= timezone.now():
        found.warnings.append(
            "The scheduled time has passed: launching starts the campaign at once."
        )
    return found


def _template(campaign: Campaign, found: Preflight) -> None:
    variant = campaign.variant
    if variant is None:
        found.blockers.append("Choose an approved template.")
        return
    found.template_status = variant.get_status_display()
    found.template_approved = (
        variant.status == TemplateStatus.PASS and variant.allow_send is not False
    )
    if not found.template_approved:
        found.blockers.append(
            f"The template {variant} is {found.template_status.lower()}, not approved."
        )
    if variant.template.channel_id != campaign.channel_id:
        found.blockers.append("The template belongs to another channel.")
    if not variant.template_code:
        found.blockers.append("The template has no TemplateCode from CAMS yet.")


def _recipients(campaign: Campaign, found: Preflight) -> None:
    if not campaign.recipients:
        found.blockers.append("Upload the recipients first.")
        return
    if campaign.status == Campaign.Status.IMPORTING:
        found.blockers.append("Wait for the import to finish.")
    if not found.pending and campaign.status in (Campaign.Status.READY, Campaign.Status.SCHEDULED):
        found.blockers.append("No recipient is waiting to be sent.")
    imp = found.last_import
    if imp is not None and imp.valid and imp.left_out > imp.valid:
        found.warnings.append(
            f"More rows were left out ({imp.left_out:,}) than imported; check the report."
        )
    variant = campaign.variant
    rows = list(
        Recipient.objects.filter(campaign=campaign)
        .order_by("id")
        .values_list("to", "params", "payload")[:SAMPLES]
    )
    wanted = [str(n) for n in variables(variant.components)] if variant is not None else []
    for to, params, payload in rows:
        shown = None
        if variant is not None:
            shown = preview.build(
                variant.template.template_type if _has_type(variant) else "WHATSAPP",
                variant.template.category,
                variant.components,
                params or {},
            )
        found.samples.append(Sample(to, params or {}, payload or [], shown))
    if rows and wanted:
        mapped = set(rows[0][1] or {})
        missing = [name for name in wanted if name not in mapped]
        if missing:
            names = ", ".join("{{" + name + "}}" for name in missing)
            found.blockers.append(f"The template's variables {names} are not mapped to columns.")


def _has_type(variant: Any) -> bool:
    try:
        variant.template.template_type  # noqa: B018 - raises for channels without templates
    except KeyError:
        return False
    return True


def _sender(campaign: Campaign, found: Preflight) -> None:
    sender: Sender = campaign.sender
    if sender.channel_id != campaign.channel_id:
        found.blockers.append("The sender belongs to another channel.")
    if not (sender.is_active and campaign.channel.is_active and campaign.channel.account.is_active):
        found.blockers.append("The sender, its channel or its account is disabled.")
    if sender.quality_rating == Sender.Quality.RED:
        found.warnings.append("The sender's quality rating is low (red): sends may be limited.")
    limit = TIER_LIMITS.get(sender.messaging_tier)
    if limit is not None and found.pending > limit:
        found.warnings.append(
            f"The sender's messaging tier reaches {limit:,} users in 24 hours; "
            f"{found.pending:,} recipients are waiting."
        )
    if campaign.channel.channel_type == "viber" and not campaign.options.get("Label"):
        found.warnings.append("Viber campaigns usually need a Label (promotion or transaction).")
