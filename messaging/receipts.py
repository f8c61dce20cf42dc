"""Receipts from CAMS: the webhook's inbox folded into messages, conversations, the suppression
list and template reviews (DESIGN.md, "Receipts"; reference §6).

The webhook stores each pushed JSON array as it came (`ReceiptBatch`) and rings the doorbell
(queues.ring_receipts). The apply job then takes every waiting batch it can lock and folds them in
set-based passes, because CAMS pushes receipts in bursts of thousands:

- ChatAppStatus: all events of a pass are inserted in one statement that skips the (MessageId,
  Status) pairs already stored, so duplicates cost nothing; then a single UPDATE moves each touched
  message to the highest status among *all* its stored events, never lower (Read > Delivered >
  Sent; Failed outranks all and is terminal). Order of arrival therefore never matters. Events are
  matched to messages by MessageId, or by (TaskId, To) for mass sends and for receipts that beat
  the send's own answer; events no message matches are kept and attached when it appears.
  Viber's `unsubscribe` / `subscribe` maintain the suppression list.
- ChatAppInbound: stored once per MessageId; each opens or extends the 24-hour window of its
  (business number, user).
- ChatAppAudit: handed to Template Design.

A push is classified per element, since one URL may receive all three kinds.
"""

import datetime
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import Case, Q, When
from django.utils import timezone

from camsconsole.models import Channel
from messaging import queues, suppression
from messaging.models import (
    MEDIA_LINK_LIFETIME,
    RANKS,
    STATE_OF_RANK,
    Conversation,
    InboundMessage,
    Message,
    ReceiptBatch,
    State,
    StatusEvent,
)

logger = logging.getLogger(__name__)

# ChatAppStatus's Status, compared case-insensitively (CAMS mixes "Sent" and "unsubscribe").
STATUS_RANKS = {"deleted": 0, "sent": 2, "delivered": 3, "read": 4, "failed": 5}
SUBSCRIPTION = frozenset({suppression.SUBSCRIBE, suppression.UNSUBSCRIBE})
# ChatAppAudit V2 types that are not about one message (reference §6.5).
AUDIT_TYPES = frozenset(
    {
        "template",
        "phoneNameUpdate",
        "phoneQualityUpdate",
        "wabaReviewUpdate",
        "wabaAccountUpdate",
        "templateCategoryUpdate",
        "templateQualityUpdate",
    }
)

# A pass folds in at most this many batches (of up to ~100 events each) in one transaction.
BATCHES_PER_PASS = 20
# An apply job drains the inbox for at most this long, then rings for a successor.
JOB_SECONDS = 60.0


class NotAnArray(ValueError):
    """The body is not a JSON array: nothing to store."""


def parse(body: bytes | str) -> list[Any]:
    """The pushed array; NotAnArray if the body is not JSON or not an array."""
    try:
        events = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotAnArray("the body is not JSON") from exc
    if not isinstance(events, list):
        raise NotAnArray("the body is not a JSON array")
    return events


def kind_of(event: Any) -> str | None:
    """ChatAppStatus, ChatAppInbound or ChatAppAudit, from the fields the element carries."""
    if not isinstance(event, dict):
        return None
    if "MessageId" in event and "Status" in event:
        return "ChatAppStatus"
    if "MessageId" in event and ("Message" in event or "NoticeType" in event):
        return "ChatAppInbound"
    if "AuditStatus" in event or event.get("Type") in AUDIT_TYPES:
        return "ChatAppAudit"
    if "Status" in event and "To" in event:  # subscribe/unsubscribe may come without MessageId
        return "ChatAppStatus"
    return None


def number(value: Any) -> str:
    """A phone number or id as we store it: no '+', no spaces (the samples show both forms)."""
    return str(value or "").strip().replace(" ", "").lstrip("+")


def moment(event: dict[str, Any]) -> datetime.datetime | None:
    """The event's Timestamp (Unix ms); one documented sample spells the key with a space."""
    raw = event.get("Timestamp", event.get("Timestamp "))
    if raw is None:
        return None
    try:
        millis = int(raw)
    except (TypeError, ValueError):
        return None
    try:
        return datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return None


# -- one pass ------------------------------------------------------------------------------------


@dataclass(slots=True)
class StatusRow:
    """One ChatAppStatus event on its way into StatusEvent (lighter than a model instance:
    a pass handles thousands)."""

    channel_id: int
    batch_id: int | None
    cams_message_id: str
    task_id: str
    to: str
    status: int
    occurred_at: datetime.datetime | None
    error_code: str = ""
    error_description: str = ""
    message_id: int | None = None


@dataclass
class Pass:
    """What a set of batches says, sorted by kind."""

    statuses: list[StatusRow] = field(default_factory=list)
    subscriptions: dict[int, list[tuple[str, str, str, datetime.datetime]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    inbound: list[InboundMessage] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    ignored: int = 0

    def add(self, batch_id: int, channel_id: int, events: Iterable[Any]) -> None:
        for event in events:
            kind = kind_of(event)
            if kind == "ChatAppStatus":
                self._status(batch_id, channel_id, event)
            elif kind == "ChatAppInbound":
                self._inbound(channel_id, event)
            elif kind == "ChatAppAudit":
                self.audit.append(event)
            else:
                self.ignored += 1

    def _status(self, batch_id: int, channel_id: int, event: dict[str, Any]) -> None:
        status = str(event.get("Status") or "").strip().lower()
        when = moment(event)
        if status in SUBSCRIPTION:
            who = (number(event.get("From")), number(event.get("To")))
            if all(who):
                self.subscriptions[channel_id].append((*who, status, when or timezone.now()))
            return
        rank = STATUS_RANKS.get(status)
        cams_id = str(event.get("MessageId") or "")[:64]
        if rank is None or not cams_id:
            self.ignored += 1
            return
        self.statuses.append(
            StatusRow(
                channel_id=channel_id,
                batch_id=batch_id,
                cams_message_id=cams_id,
                task_id=str(event.get("TaskId") or "")[:64],
                to=number(event.get("To"))[:64],
                status=rank,
                occurred_at=when,
                error_code=str(event.get("ErrorCode") or "")[:64],
                error_description=str(event.get("ErrorDescription") or "")[:500],
            )
        )

    def _inbound(self, channel_id: int, event: dict[str, Any]) -> None:
        cams_id = str(event.get("MessageId") or "")[:64]
        user, business = number(event.get("From")), number(event.get("To"))
        if not (cams_id and user and business):
            self.ignored += 1
            return
        when = moment(event) or timezone.now()
        kind = str(event.get("Type") or "TEXT").upper()[:16]
        raw = event.get("Message")
        data: Any = raw
        if isinstance(raw, str) and kind != "TEXT":
            try:
                data = json.loads(raw)
            except ValueError:
                data = raw
        details = data if isinstance(data, dict) else {}
        text = raw if kind == "TEXT" and isinstance(raw, str) else summary(details)
        url = str(details.get("url") or "")
        self.inbound.append(
            InboundMessage(
                channel_id=channel_id,
                cams_message_id=cams_id,
                business_number=business[:64],
                user=user[:64],
                display_name=str(event.get("DisplayName") or event.get("Name") or "")[:200],
                type=kind,
                text=text,
                payload=str(details.get("payload") or "")[:1000],
                data=data if data is not None else None,
                media_url=url,
                media_expires_at=when + MEDIA_LINK_LIFETIME if url else None,
                occurred_at=when,
            )
        )


def summary(details: dict[str, Any]) -> str:
    """A line of text for an inbound message that is not plain text (for lists and threads)."""
    for key in ("text", "caption", "filename", "name", "address", "body"):
        value = details.get(key)
        if isinstance(value, dict):  # a contact card's name object
            value = value.get("formatted_name") or value.get("first_name")
        if value:
            return str(value)
    return ""


def apply_pending(max_seconds: float = JOB_SECONDS) -> int:
    """The apply job: fold in waiting batches until none are left; how many were folded.

    Clears the doorbell first (see queues.ring_receipts) and rings for a successor if it stops
    with work left.
    """
    queues.clear_doorbell()
    deadline = time.monotonic() + max_seconds
    done = 0
    while time.monotonic() < deadline:
        folded = apply_some()
        if not folded:
            return done
        done += folded
    queues.ring_receipts()
    return done


def apply_some(limit: int = BATCHES_PER_PASS) -> int:
    """Lock and fold in up to `limit` waiting batches in one transaction; how many."""
    try:
        with transaction.atomic():
            batches = _lock_waiting(limit)
            if batches:
                fold_in(batches)
            return len(batches)
    except Exception:
        logger.exception("folding in receipt batches failed; trying them one at a time")
    # Something in the pass broke (our bug, or a bad batch): isolate it, keep the rest flowing.
    done = 0
    for _ in range(limit):
        try:
            with transaction.atomic():
                batches = _lock_waiting(1)
                if not batches:
                    break
                fold_in(batches)
        except Exception as exc:
            logger.exception("receipt batch could not be folded in; set aside")
            _set_aside(exc)
        done += 1
    return done


def _lock_waiting(limit: int) -> list[ReceiptBatch]:
    waiting = ReceiptBatch.objects.filter(processed_at__isnull=True, error="").order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        waiting = waiting.select_for_update(skip_locked=True)
    return list(waiting.only("pk", "channel_id", "body")[:limit])


def _set_aside(exc: Exception) -> None:
    """Mark the oldest waiting batch that fails on its own, so it cannot block the inbox."""
    with transaction.atomic():
        batch = _lock_waiting(1)
        if batch:
            ReceiptBatch.objects.filter(pk=batch[0].pk).update(
                processed_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
            )


def fold_in(batches: Sequence[ReceiptBatch]) -> Pass:
    """Apply the batches' events and mark them processed (inside the caller's transaction)."""
    found = Pass()
    for batch in batches:
        try:
            events = parse(batch.body)
        except NotAnArray:
            events = []  # the webhook refuses these; an old row may still hold one
        found.add(batch.pk, batch.channel_id, events)
    apply_statuses(found.statuses)
    apply_inbound(found.inbound)
    for channel_id, events in found.subscriptions.items():
        suppression.apply_events(Channel.objects.get(pk=channel_id), events)
    if found.audit:
        from templates_app.receipts import apply_audit

        apply_audit(found.audit)
    ReceiptBatch.objects.filter(pk__in=[batch.pk for batch in batches]).update(
        processed_at=timezone.now()
    )
    if found.ignored:
        logger.info("%d receipt elements of no known kind were skipped", found.ignored)
    return found


# -- ChatAppStatus -------------------------------------------------------------------------------


def apply_statuses(events: list[StatusRow]) -> set[int]:
    """Store status events (duplicates skipped) and fold them into their messages; the ids of
    the messages touched."""
    if not events:
        return set()
    unique: dict[tuple[str, int], StatusRow] = {}
    for event in events:
        unique.setdefault((event.cams_message_id, event.status), event)
    rows = [unique[key] for key in sorted(unique)]  # one lock order for concurrent passes
    _match(rows)
    from messaging.campaigns import receipts as campaign_receipts  # it imports this module

    # Campaign recipients' receipts go to their recipients. (StatusRow carries every field of
    # StatusEvent that apply() reads.)
    rows = cast(list[StatusRow], campaign_receipts.apply(cast(Any, rows)))
    _insert(rows)
    touched = {row.message_id for row in rows if row.message_id is not None}
    matched = {row.cams_message_id: row.message_id for row in rows if row.message_id}
    touched |= _claim_stored(matched)
    fold(touched)
    return touched


def _any(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """`column` is one of `values`: one array parameter on PostgreSQL (a statement with
    thousands of parameters costs more to build than to run), a plain IN list elsewhere."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    marks = ", ".join(["%s"] * len(values)) or "NULL"
    return f"{column} IN ({marks})", list(values)


def _rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


MESSAGE, EVENT = Message._meta.db_table, StatusEvent._meta.db_table


def _match(rows: list[StatusRow]) -> None:
    """Set each event's message: by MessageId, else by (TaskId, To), within its channel."""
    by_channel: dict[int, list[StatusRow]] = defaultdict(list)
    for row in rows:
        by_channel[row.channel_id].append(row)
    for channel_id, members in by_channel.items():
        where, params = _any("message_id", sorted({row.cams_message_id for row in members}))
        known = dict(
            _rows(
                f"SELECT message_id, id FROM {MESSAGE} "  # noqa: S608 - our table names
                f"WHERE channel_id = %s AND message_id <> '' AND {where}",
                [channel_id, *params],
            )
        )
        tasks = sorted({r.task_id for r in members if r.cams_message_id not in known and r.task_id})
        by_task: dict[tuple[str, str], int] = {}
        if tasks:
            where, params = _any("task_id", tasks)
            for pk, task_id, to in _rows(
                f'SELECT id, task_id, "to" FROM {MESSAGE} '  # noqa: S608
                f"WHERE channel_id = %s AND {where}",
                [channel_id, *params],
            ):
                by_task[(task_id, to)] = pk
        for row in members:
            row.message_id = known.get(row.cams_message_id) or by_task.get((row.task_id, row.to))


_COLUMNS = (
    "channel_id",
    "message_id",
    "batch_id",
    "cams_message_id",
    "task_id",
    "to",
    "status",
    "occurred_at",
    "error_code",
    "error_description",
)
_ARRAY_TYPES = (
    "bigint",
    "bigint",
    "bigint",
    "varchar",
    "varchar",
    "varchar",
    "smallint",
    "timestamptz",
    "varchar",
    "varchar",
)


def _insert(rows: list[StatusRow]) -> None:
    """One INSERT of all rows that skips (MessageId, Status) pairs already stored."""
    if connection.vendor != "postgresql":
        StatusEvent.objects.bulk_create(
            [StatusEvent(**{name: getattr(row, name) for name in _COLUMNS}) for row in rows],
            ignore_conflicts=True,
        )
        return
    # Ten array parameters, unnested side by side: the cost no longer grows with a parameter
    # per value.
    columns = ", ".join(f'"{name}"' for name in _COLUMNS)
    arrays = ", ".join(f"%s::{kind}[]" for kind in _ARRAY_TYPES)
    sql = (
        f"INSERT INTO {EVENT} ({columns}) SELECT * FROM unnest({arrays}) "  # noqa: S608
        "ON CONFLICT (cams_message_id, status) DO NOTHING"
    )
    params = [[getattr(row, name) for row in rows] for name in _COLUMNS]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _claim_stored(matched: dict[str, int]) -> set[int]:
    """Attach stored copies of these events that no message matched when they arrived."""
    if not matched:
        return set()
    where, params = _any("cams_message_id", sorted(matched))
    orphans = _rows(
        f"SELECT id, cams_message_id FROM {EVENT} "  # noqa: S608
        f"WHERE message_id IS NULL AND {where}",
        params,
    )
    if not orphans:
        return set()
    StatusEvent.objects.filter(pk__in=[pk for pk, _ in orphans]).update(
        message_id=Case(*[When(pk=pk, then=matched[cams_id]) for pk, cams_id in orphans])
    )
    return {matched[cams_id] for _, cams_id in orphans}


def attach_unmatched(message_ids: Sequence[int]) -> set[int]:
    """Messages that just appeared or got their MessageId: attach the stored events no message
    matched before, and fold them in. The ids of the messages that gained events."""
    if not message_ids:
        return set()
    messages = list(
        Message.objects.filter(pk__in=list(message_ids)).values_list(
            "pk", "channel_id", "message_id", "task_id", "to"
        )
    )
    by_cams_id = {(channel, cams_id): pk for pk, channel, cams_id, _, _ in messages if cams_id}
    by_task = {(channel, task, to): pk for pk, channel, _, task, to in messages}
    orphans = StatusEvent.objects.filter(message__isnull=True).filter(
        Q(cams_message_id__in=[cams_id for _, cams_id in by_cams_id])
        | Q(task_id__in=list({task for _, task, _ in by_task}))
    )
    links: dict[int, int] = {}
    for pk, channel, cams_id, task, to in orphans.values_list(
        "pk", "channel_id", "cams_message_id", "task_id", "to"
    ):
        owner = by_cams_id.get((channel, cams_id)) or by_task.get((channel, task, to))
        if owner is not None:
            links[pk] = owner
    if not links:
        return set()
    StatusEvent.objects.filter(pk__in=list(links)).update(
        message_id=Case(*[When(pk=pk, then=owner) for pk, owner in links.items()])
    )
    touched = set(links.values())
    fold(touched)
    return touched


def _rank_sql(column: str) -> str:
    whens = " ".join(f"WHEN '{state}' THEN {rank}" for state, rank in RANKS.items() if rank)
    return f"(CASE {column} {whens} ELSE 0 END)"


def _state_sql(rank: str) -> str:
    whens = " ".join(f"WHEN {number_} THEN '{state}'" for number_, state in STATE_OF_RANK.items())
    return f"(CASE {rank} {whens} END)"


def fold(message_ids: Iterable[int]) -> None:
    """Move each message to the highest status among all its stored events, never lower, and
    take each status's first time. One statement for any number of messages."""
    ids = sorted(set(message_ids))
    if not ids:
        return
    where, params = _any("message_id", ids)
    if connection.vendor == "postgresql":
        # A fixed lock order, so two passes touching the same messages cannot deadlock.
        lock, lock_params = _any("id", ids)
        _rows(
            f"SELECT id FROM {MESSAGE} WHERE {lock} ORDER BY id FOR UPDATE",  # noqa: S608
            lock_params,
        )
    current = _rank_sql(f"{MESSAGE}.state")
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sql = f"""
        UPDATE {MESSAGE} SET
            state = CASE WHEN agg.top > {current} THEN {_state_sql("agg.top")}
                         ELSE {MESSAGE}.state END,
            sent_at = COALESCE(agg.sent_at, {MESSAGE}.sent_at),
            delivered_at = COALESCE(agg.delivered_at, {MESSAGE}.delivered_at),
            read_at = COALESCE(agg.read_at, {MESSAGE}.read_at),
            failed_at = COALESCE(agg.failed_at, {MESSAGE}.failed_at),
            error_code = CASE
                WHEN agg.top = 5 AND {current} < 5 THEN COALESCE(agg.error_code, '')
                WHEN agg.top > {current} AND {MESSAGE}.state = 'unknown' THEN ''
                ELSE {MESSAGE}.error_code END,
            error_message = CASE
                WHEN agg.top = 5 AND {current} < 5 THEN COALESCE(agg.error_description, '')
                WHEN agg.top > {current} AND {MESSAGE}.state = 'unknown' THEN ''
                ELSE {MESSAGE}.error_message END,
            reconciled_at = CASE
                WHEN agg.top > {current} AND {MESSAGE}.state = 'unknown' THEN %s
                ELSE {MESSAGE}.reconciled_at END,
            message_id = CASE WHEN {MESSAGE}.message_id = '' THEN agg.cams_id
                              ELSE {MESSAGE}.message_id END
        FROM (
            SELECT message_id AS mid, MAX(status) AS top, MAX(cams_message_id) AS cams_id,
                   MIN(CASE WHEN status = 2 THEN occurred_at END) AS sent_at,
                   MIN(CASE WHEN status = 3 THEN occurred_at END) AS delivered_at,
                   MIN(CASE WHEN status = 4 THEN occurred_at END) AS read_at,
                   MIN(CASE WHEN status = 5 THEN occurred_at END) AS failed_at,
                   MAX(CASE WHEN status = 5 THEN error_code END) AS error_code,
                   MAX(CASE WHEN status = 5 THEN error_description END) AS error_description
            FROM {EVENT} WHERE {where} GROUP BY message_id
        ) AS agg
        WHERE {MESSAGE}.id = agg.mid
    """  # noqa: S608 - table names and ranks are ours; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *params])


# -- ChatAppInbound ------------------------------------------------------------------------------


def apply_inbound(messages: list[InboundMessage]) -> int:
    """Store inbound messages (once per MessageId) and open their 24-hour windows; how many
    conversations moved."""
    if not messages:
        return 0
    InboundMessage.objects.bulk_create(messages, ignore_conflicts=True)
    stored = dict(
        InboundMessage.objects.filter(
            cams_message_id__in=[m.cams_message_id for m in messages]
        ).values_list("cams_message_id", "pk")
    )
    latest: dict[tuple[int, str, str], InboundMessage] = {}
    for item in messages:
        key = (item.channel_id, item.business_number, item.user)
        if key not in latest or item.occurred_at > latest[key].occurred_at:
            latest[key] = item
    moved = 0
    for (channel_id, business, user), item in sorted(latest.items(), key=lambda kv: kv[0]):
        values: dict[str, Any] = {
            "last_inbound_at": item.occurred_at,
            "last_inbound_id": stored.get(item.cams_message_id),
        }
        if item.display_name:
            values["display_name"] = item.display_name
        Conversation.objects.bulk_create(
            [Conversation(channel_id=channel_id, business_number=business, user=user, **values)],
            ignore_conflicts=True,
        )
        # A late receipt never moves the window back.
        moved += Conversation.objects.filter(
            channel_id=channel_id,
            business_number=business,
            user=user,
            last_inbound_at__lt=item.occurred_at,
        ).update(**values)
    return moved


def timeline(message: Message) -> list[tuple[str, datetime.datetime | None, str]]:
    """(step, when, detail) for the message page, in the order the steps happen."""
    steps: list[tuple[str, datetime.datetime | None, str]] = [("Queued", message.created_at, "")]
    if message.sending_at:
        steps.append(("Sending", message.sending_at, f"TaskId {message.task_id}"))
    if message.accepted_at:
        detail = (
            f"MessageId {message.message_id}"
            if message.message_id
            else f"GroupMessageId {message.group_message_id}"
        )
        steps.append(("Accepted", message.accepted_at, detail))
    if message.state == State.UNKNOWN:
        steps.append(("Outcome unknown", message.unknown_at, message.error_message))
    for event in message.events.order_by("status"):
        detail = (event.error_description or event.error_code) if event.status == 5 else ""
        steps.append((event.status_name, event.occurred_at, detail))
    if (
        message.state in (State.FAILED, State.SUPPRESSED)
        and not message.events.filter(status=5).exists()
    ):
        label = "Failed" if message.state == State.FAILED else "Not sent"
        steps.append(
            (label, message.failed_at, f"{message.error_code}: {message.error_message}".strip())
        )
    return steps
