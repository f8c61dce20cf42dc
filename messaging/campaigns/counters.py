"""How many recipients of a campaign are in each state, without counting them.

Triggers on the recipient table (migration 0002) add every insert's, update's and delete's net
change per (campaign, state, error code) to `CampaignCount`, in the same transaction, so the
numbers are exact whatever code path moved a recipient: dispatch, receipts, the sweeper or an
operator's action. On PostgreSQL each session writes to shard rows of its own (its backend pid),
so workers never queue behind one another's counter rows; `compact` folds the shards of a
campaign into one row per key now and then. Reading sums a few dozen rows.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import F

from camsconsole.cams import errors
from messaging.campaigns.models import CampaignCount
from messaging.models import State

# Recipients that reached CAMS, for the funnel: anything accepted or beyond.
REACHED = (State.ACCEPTED, State.SENT, State.DELIVERED, State.READ)
IN_FLIGHT = (State.CLAIMED, State.SENDING)
STATES = frozenset(State.values)


@dataclass
class Counts:
    by_state: dict[str, int] = field(default_factory=dict)
    # (state, error code) -> recipients, for failed, unknown and suppressed ones.
    by_code: dict[tuple[str, str], int] = field(default_factory=dict)

    def __getitem__(self, state: str) -> int:
        # Only states: templates look `counts.total` up as counts["total"] first.
        if state not in STATES:
            raise KeyError(state)
        return self.by_state.get(state, 0)

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    @property
    def pending(self) -> int:
        return self[State.PENDING]

    @property
    def in_flight(self) -> int:
        return sum(self[state] for state in IN_FLIGHT)

    @property
    def done(self) -> int:
        """Recipients whose send is over, one way or the other."""
        return self.total - self.pending - self.in_flight

    @property
    def percent_done(self) -> float:
        return 100.0 * self.done / self.total if self.total else 0.0

    @property
    def funnel(self) -> dict[str, int]:
        """Cumulative: a read message was also sent and delivered."""
        read = self[State.READ]
        delivered = read + self[State.DELIVERED]
        sent = delivered + self[State.SENT]
        return {
            "accepted": sent + self[State.ACCEPTED],
            "sent": sent,
            "delivered": delivered,
            "read": read,
            "failed": self[State.FAILED],
        }

    def errors(self) -> list[tuple[str, str, int, str]]:
        """(state, code, recipients, meaning), most frequent first."""
        found = [
            (state, code, n, describe(code))
            for (state, code), n in self.by_code.items()
            if n and (code or state != State.SUPPRESSED)
        ]
        return sorted(found, key=lambda item: (-item[2], item[1]))


def describe(code: str) -> str:
    from messaging.campaigns.codes import meaning

    return meaning(code) or errors.describe(code)


def counts(campaign_id: int) -> Counts:
    by_state: dict[str, int] = defaultdict(int)
    by_code: dict[tuple[str, str], int] = defaultdict(int)
    for state, code, n in _sums(campaign_id):
        by_state[state] += n
        if state in (State.FAILED, State.UNKNOWN, State.SUPPRESSED):
            by_code[(state, code)] += n
    return Counts(
        {state: n for state, n in by_state.items() if n},
        {key: n for key, n in by_code.items() if n},
    )


def _sums(campaign_id: int) -> list[tuple[str, str, int]]:
    table = CampaignCount._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT state, code, SUM(n) FROM {table} WHERE campaign_id = %s "  # noqa: S608
            "GROUP BY state, code",
            [campaign_id],
        )
        return [(state, code, int(n)) for state, code, n in cursor.fetchall()]


def compact(campaign_id: int) -> int:
    """Fold the shard rows of sessions that have ended into shard 0; how many rows went away.

    On PostgreSQL a live session's rows are left alone (it may be adding to them this very
    moment, and locking them could deadlock with its transaction); rows already locked are
    skipped. Shard 0 is written by compaction alone.
    """
    table = CampaignCount._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT id, state, code, n FROM {table} WHERE campaign_id = %s "  # noqa: S608
                "AND shard <> 0 AND shard NOT IN (SELECT pid FROM pg_stat_activity) "
                "ORDER BY id FOR UPDATE SKIP LOCKED",
                [campaign_id],
            )
        else:
            cursor.execute(
                f"SELECT id, state, code, n FROM {table} "  # noqa: S608
                "WHERE campaign_id = %s AND shard <> 0 ORDER BY id",
                [campaign_id],
            )
        rows = cursor.fetchall()
        if not rows:
            return 0
        sums: dict[tuple[str, str], int] = defaultdict(int)
        for _, state, code, n in rows:
            sums[(state, code)] += int(n)
        ids = [row[0] for row in rows]
        CampaignCount.objects.filter(pk__in=ids).delete()
        for (state, code), n in sorted(sums.items()):
            CampaignCount.objects.bulk_create(
                [CampaignCount(campaign_id=campaign_id, state=state, code=code, shard=0, n=0)],
                ignore_conflicts=True,
            )
            CampaignCount.objects.filter(
                campaign_id=campaign_id, state=state, code=code, shard=0
            ).update(n=F("n") + n)
    return len(rows)
