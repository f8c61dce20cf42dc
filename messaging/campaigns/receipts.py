"""Receipts of campaign messages, folded into their recipients.

messaging.receipts.apply_statuses hands over the ChatAppStatus events no outbound `Message`
matched. Those whose TaskId is one of our campaign calls belong to a recipient: the call names
the campaign, the event's To names the recipient (reference §6.3: receipts carry our TaskId, and
mass sends return no per-recipient MessageId, so (TaskId, To) is the key).

The same rules as for messages apply, in one statement per batch of events: a recipient only
moves to a higher rank (Read > Delivered > Sent; Failed outranks all and is terminal), each
status keeps its first time, and a Failed event brings its error code and description. The
events themselves are not stored: the recipient's own row keeps every time and the outcome, and
applying the same event twice changes nothing, so duplicates and late arrivals are harmless. A
receipt for a recipient that was `unknown` (its call timed out, or its worker died) settles it.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from messaging.campaigns import codes
from messaging.campaigns.models import CampaignCall, Recipient
from messaging.models import RANKS, State, StatusEvent
from messaging.receipts import _rank_sql, _state_sql

BATCH = 1000
FAILED = RANKS[State.FAILED]
# A receipt settles these: what they said before (throttled, worker lost) no longer holds.
SETTLED = (State.PENDING, State.CLAIMED, State.SENDING, State.UNKNOWN, State.ACCEPTED)


def apply(events: list[StatusEvent]) -> list[StatusEvent]:
    """Fold the campaign recipients' events into their recipients; the events left for the
    caller (those that are not about a campaign message)."""
    candidates = [event for event in events if event.message_id is None and event.task_id]
    if not candidates:
        return events
    calls = {
        task_id: (campaign_id, channel_id)
        for task_id, campaign_id, channel_id in CampaignCall.objects.filter(
            task_id__in={event.task_id for event in candidates}
        ).values_list("task_id", "campaign_id", "campaign__channel_id")
    }
    if not calls:
        return events
    mine = [
        event
        for event in candidates
        if event.task_id in calls and calls[event.task_id][1] == event.channel_id and event.to
    ]
    fold([(calls[event.task_id][0], event) for event in mine])
    taken = {id(event) for event in mine}
    return [event for event in events if id(event) not in taken]


class _Outcome:
    __slots__ = ("code", "description", "message_id", "times", "top")

    def __init__(self) -> None:
        self.top = 0
        self.times: dict[int, datetime] = {}
        self.code = ""
        self.description = ""
        self.message_id = ""

    def add(self, event: StatusEvent) -> None:
        self.top = max(self.top, event.status)
        if event.occurred_at is not None:
            earlier = self.times.get(event.status)
            if earlier is None or event.occurred_at < earlier:
                self.times[event.status] = event.occurred_at
        if event.status == FAILED:
            self.code = codes.bare(event.error_code or event.error_description)[:100]
            self.description = event.error_description or event.error_code
        self.message_id = self.message_id or event.cams_message_id


def fold(events: Sequence[tuple[int, StatusEvent]]) -> int:
    """Apply (campaign id, event) pairs; how many recipients changed."""
    outcomes: dict[tuple[int, str], _Outcome] = defaultdict(_Outcome)
    for campaign_id, event in events:
        outcomes[(campaign_id, event.to)].add(event)
    keys = sorted(outcomes)  # one lock order for concurrent passes
    changed = 0
    for start in range(0, len(keys), BATCH):
        changed += _update([(key, outcomes[key]) for key in keys[start : start + BATCH]])
    return changed


def _update(items: list[tuple[tuple[int, str], _Outcome]]) -> int:
    table = Recipient._meta.db_table
    postgres = connection.vendor == "postgresql"
    adapt = connection.ops.adapt_datetimefield_value
    row = (
        "(%s::bigint, %s::varchar, %s::int, %s::timestamptz, %s::timestamptz, %s::timestamptz, "
        "%s::timestamptz, %s::varchar, %s::text, %s::varchar)"
        if postgres
        else "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    params: list[Any] = []
    for (campaign_id, to), outcome in items:
        times = [outcome.times.get(rank) for rank in (2, 3, 4, 5)]
        params += [
            campaign_id,
            to,
            outcome.top,
            *(time if postgres or time is None else adapt(time) for time in times),
            outcome.code,
            outcome.description[:2000],
            outcome.message_id[:64],
        ]
    current = _rank_sql(f"{table}.state")
    settled = ", ".join(f"'{state}'" for state in SETTLED)
    if postgres:
        # Lock the rows in id order first, as dispatch does, so the two never deadlock.
        keys = ", ".join(["(%s::bigint, %s::varchar)"] * len(items))
        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT id FROM {table} WHERE (campaign_id, "to") IN ({keys}) '  # noqa: S608
                "ORDER BY id FOR UPDATE",
                [value for (campaign_id, to), _ in items for value in (campaign_id, to)],
            )
    sql = f"""
        WITH v (campaign_id, "to", top, sent_at, delivered_at, read_at, failed_at, code,
                description, message_id) AS (VALUES {", ".join([row] * len(items))})
        UPDATE {table} SET
            state = CASE WHEN v.top > {current} THEN {_state_sql("v.top")} ELSE {table}.state END,
            sent_at = COALESCE({table}.sent_at, v.sent_at),
            delivered_at = COALESCE({table}.delivered_at, v.delivered_at),
            read_at = COALESCE({table}.read_at, v.read_at),
            failed_at = CASE WHEN v.top = {FAILED} AND {current} < {FAILED}
                             THEN COALESCE(v.failed_at, {table}.failed_at)
                             ELSE {table}.failed_at END,
            error_code = CASE
                WHEN v.top = {FAILED} AND {current} < {FAILED} THEN v.code
                WHEN v.top > {current} AND {table}.state IN ({settled}) THEN ''
                ELSE {table}.error_code END,
            error_message = CASE
                WHEN v.top = {FAILED} AND {current} < {FAILED} THEN v.description
                WHEN v.top > {current} AND {table}.state IN ({settled}) THEN ''
                ELSE {table}.error_message END,
            message_id = CASE WHEN {table}.message_id = '' THEN v.message_id
                              ELSE {table}.message_id END
        FROM v
        WHERE {table}.campaign_id = v.campaign_id AND {table}."to" = v."to"
    """  # noqa: S608 - table and state names are ours; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
