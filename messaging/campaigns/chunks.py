"""Chunks: how a campaign's recipients are handed out to workers.

A chunk is a contiguous range of recipient ids holding up to one call's worth of pending
recipients (the mass batch size, or CAMPAIGN_SINGLE_CHUNK in single mode). A worker claims one
with SELECT ... FOR UPDATE SKIP LOCKED (on SQLite, whose write transactions are exclusive, a plain
select-then-update is just as safe) and a lease, sends the pending recipients in its range, and
closes it. Only rows still `pending` are ever taken from a range, inside the transaction that
marks them `sending`, so two chunks covering the same rows (a recut while a claim was in flight)
can never both send one recipient.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Min, QuerySet
from django.utils import timezone

from messaging.campaigns.models import Campaign, CampaignCall, CampaignChunk, Recipient
from messaging.models import State

# A claimed chunk must be closed within this; the sweeper takes it back after. Covers the wait
# for a rate-limit slot, the call (CAMS_TIMEOUT) and recording the outcome many times over.
LEASE = timedelta(seconds=60)


def cut(campaign: Campaign) -> int:
    """Chunks over the campaign's pending recipients; how many chunks were made."""
    size = campaign.chunk_size
    recipients, chunks = Recipient._meta.db_table, CampaignChunk._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {chunks} (campaign_id, first_id, last_id, size, state, claim, attempts) "  # noqa: S608
            "SELECT %s, MIN(id), MAX(id), COUNT(*), %s, '', 0 FROM ("
            f"  SELECT id, (ROW_NUMBER() OVER (ORDER BY id) - 1) / %s AS k FROM {recipients}"
            "   WHERE campaign_id = %s AND state = %s"
            ") AS numbered GROUP BY k ORDER BY k",
            [campaign.pk, CampaignChunk.State.PENDING, size, campaign.pk, State.PENDING],
        )
        return int(cursor.rowcount)


def recut(campaign: Campaign) -> int:
    """Fresh chunks over the pending recipients after a retry or a resend: waiting chunks are
    closed first (claimed ones finish on their own)."""
    CampaignChunk.objects.filter(campaign=campaign, state=CampaignChunk.State.PENDING).update(
        state=CampaignChunk.State.DONE, not_before=None
    )
    return cut(campaign)


@dataclass(frozen=True)
class Claim:
    chunk_id: int
    first_id: int
    last_id: int
    attempts: int
    token: str


def claim(campaign_id: int, run: int, now: datetime | None = None) -> Claim | None:
    """Take the next due chunk of a running campaign (of this run), or None. One statement."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    skip = (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    chunks, campaigns = CampaignChunk._meta.db_table, Campaign._meta.db_table
    stamp = connection.ops.adapt_datetimefield_value
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {chunks} SET state = %s, lease_until = %s, claim = %s WHERE id = ("  # noqa: S608
            f"SELECT id FROM {chunks} WHERE campaign_id = %s AND state = %s "
            f"AND (not_before IS NULL OR not_before <= %s) ORDER BY id LIMIT 1{skip}) "
            f"AND state = %s AND EXISTS (SELECT 1 FROM {campaigns} WHERE id = %s AND status = %s "
            "AND run = %s) RETURNING id, first_id, last_id, attempts",
            [
                CampaignChunk.State.CLAIMED,
                stamp(now + LEASE),
                token,
                campaign_id,
                CampaignChunk.State.PENDING,
                stamp(now),
                CampaignChunk.State.PENDING,
                campaign_id,
                Campaign.Status.RUNNING,
                run,
            ],
        )
        found = cursor.fetchone()
    if found is None:
        return None
    return Claim(int(found[0]), int(found[1]), int(found[2]), int(found[3]), token)


def close(claim: Claim) -> bool:
    """The chunk is done; False if the claim had been taken back meanwhile."""
    return bool(
        CampaignChunk.objects.filter(pk=claim.chunk_id, claim=claim.token).update(
            state=CampaignChunk.State.DONE, lease_until=None, claim=""
        )
    )


def put_back(claim: Claim, not_before: datetime | None = None, attempts: int | None = None) -> bool:
    """Return the chunk for later (a retryable refusal, a pause, a stopping job)."""
    values: dict[str, object] = {
        "state": CampaignChunk.State.PENDING,
        "lease_until": None,
        "claim": "",
        "not_before": not_before,
    }
    if attempts is not None:
        values["attempts"] = attempts
    return bool(CampaignChunk.objects.filter(pk=claim.chunk_id, claim=claim.token).update(**values))


def release_expired(now: datetime, campaign_id: int | None = None) -> int:
    """Claims whose worker vanished go back to waiting (the sweeper, and dispatch jobs)."""
    expired = CampaignChunk.objects.filter(state=CampaignChunk.State.CLAIMED, lease_until__lt=now)
    if campaign_id is not None:
        expired = expired.filter(campaign_id=campaign_id)
    return expired.update(state=CampaignChunk.State.PENDING, lease_until=None, claim="")


def next_lease_end(campaign_id: int) -> datetime | None:
    """When the earliest claim or call in flight of the campaign runs out (None when there is
    neither)."""
    claims = CampaignChunk.objects.filter(
        campaign_id=campaign_id, state=CampaignChunk.State.CLAIMED
    ).aggregate(first=Min("lease_until"))["first"]
    calls = _in_flight(campaign_id).aggregate(first=Min("lease_until"))["first"]
    return min((end for end in (claims, calls) if end is not None), default=None)


def work_left(campaign_id: int) -> bool:
    """Whether a chunk waits or is claimed, or a call is in flight. A worker that dies mid-call
    leaves its call `sending` after its chunk was taken back and closed: the campaign is not
    done until that call's lease runs out and its recipients are known to be unknown."""
    return (
        CampaignChunk.objects.filter(
            campaign_id=campaign_id,
            state__in=(CampaignChunk.State.PENDING, CampaignChunk.State.CLAIMED),
        ).exists()
        or _in_flight(campaign_id).exists()
    )


def _in_flight(campaign_id: int) -> QuerySet[CampaignCall]:
    return CampaignCall.objects.filter(campaign_id=campaign_id, state=CampaignCall.State.SENDING)


def next_due(campaign_id: int) -> datetime | None:
    """When the earliest waiting chunk may be claimed (None when none waits)."""
    waiting = CampaignChunk.objects.filter(
        campaign_id=campaign_id, state=CampaignChunk.State.PENDING
    )
    if waiting.filter(not_before__isnull=True).exists():
        return timezone.now()
    earliest: datetime | None = waiting.aggregate(first=Min("not_before"))["first"]
    return earliest
