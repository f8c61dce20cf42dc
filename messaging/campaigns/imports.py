"""Loading a recipient file into a campaign: all of its valid rows, or nothing.

The job reads the file once, in batches that worker processes check and normalise
(csv_import.check_batch over phones.BatchPool), and holds one batch at a time: valid rows stream
into a session-private staging table keyed by the number (COPY on PostgreSQL, inserts on SQLite),
which also finds the duplicates, so memory does not grow with the file. Progress is committed as
it goes; one final transaction moves the rows into the campaign, cuts them into chunks, and marks
the campaign ready. A failure or a crash before that transaction leaves the campaign exactly as
it was.

Rows left out (invalid, duplicate, suppressed) are written to a CSV report as they are found:
row number, the value as it was, and the reason, each cell safe from spreadsheet formulas.
"""

import csv
import logging
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from camsconsole.audit import SYSTEM, record
from camsconsole.cams.rules.identities import PLATFORM_ID_MAX_DIGITS
from camsconsole.csv_export import safe_cell
from messaging.campaigns import chunks
from messaging.campaigns.models import Campaign, CampaignChunk, CampaignImport, Recipient
from messaging.csv_import import (
    Checked,
    FileFormat,
    Mapping,
    UnreadableFile,
    check_batch,
    records,
)
from messaging.models import State, Suppression
from messaging.phones import BatchPool, default_processes

logger = logging.getLogger(__name__)

BATCH_ROWS = 5000
PROGRESS_EVERY = 0.5  # seconds
# Files smaller than this are checked in this process: starting workers would cost more.
POOL_FROM_BYTES = 2 * 1024 * 1024
STAGE = "campaign_import_stage"
BATCH = "campaign_import_batch"
PLATFORM_ID_CHANNELS = ("messenger", "instagram")
REPORT_HEADER = ["Row", "Value", "Reason"]


def upload_dir() -> Path:
    return Path(settings.CAMPAIGN_UPLOAD_DIR)


def stored_path(relative: str) -> Path:
    path = (upload_dir() / relative).resolve()
    if upload_dir().resolve() not in path.parents:
        raise ValueError(f"{relative!r} is outside the upload directory")
    return path


def mapping_of(imp: CampaignImport) -> Mapping:
    raw = imp.mapping
    channel_type = imp.campaign.channel.channel_type
    return Mapping(
        recipient=int(raw["recipient"]),
        variables=tuple((str(name), int(column)) for name, column in raw["variables"].items()),
        payload=tuple(int(column) for column in raw.get("payload", [])),
        default_region=raw.get("default_region") or None,
        platform_ids=channel_type in PLATFORM_ID_CHANNELS,
        max_id_digits=PLATFORM_ID_MAX_DIGITS,
        columns=tuple(imp.columns),
    )


@dataclass
class Tally:
    rows_read: int = 0
    valid: int = 0
    invalid: int = 0
    duplicates: int = 0
    suppressed: int = 0

    def fields(self) -> dict[str, int]:
        return {
            "rows_read": self.rows_read,
            "valid": self.valid,
            "invalid": self.invalid,
            "duplicates": self.duplicates,
            "suppressed": self.suppressed,
        }


class Superseded(Exception):
    """Another run of this import took over (the sweeper restarted it): stop quietly."""


def run(import_id: int) -> None:
    """The import job."""
    token = uuid.uuid4().hex
    now = timezone.now()
    taken = CampaignImport.objects.filter(
        pk=import_id, state__in=(CampaignImport.State.QUEUED, CampaignImport.State.RUNNING)
    ).update(
        state=CampaignImport.State.RUNNING,
        token=token,
        started_at=now,
        updated_at=now,
        rows_read=0,
        valid=0,
        invalid=0,
        duplicates=0,
        suppressed=0,
    )
    if not taken:
        return
    imp = CampaignImport.objects.select_related("campaign__channel", "campaign__sender").get(
        pk=import_id
    )
    try:
        load(imp, token)
    except Superseded:
        logger.info("import %s was taken over by a newer run", import_id)
    except UnreadableFile as exc:
        fail(imp, token, str(exc))
    except Exception as exc:
        fail(imp, token, f"The import stopped on an internal error ({type(exc).__name__}).")
        raise
    finally:
        _drop_stage()


def fail(imp: CampaignImport, token: str, reason: str) -> None:
    with transaction.atomic():
        updated = CampaignImport.objects.filter(pk=imp.pk, token=token).update(
            state=CampaignImport.State.FAILED, error=reason, finished_at=timezone.now()
        )
        if not updated:
            return
        campaign = Campaign.objects.select_for_update().get(pk=imp.campaign_id)
        if campaign.status == Campaign.Status.IMPORTING:
            campaign.status = (
                Campaign.Status.READY if campaign.recipients else Campaign.Status.DRAFT
            )
            campaign.save(update_fields=["status"])
        record(
            SYSTEM,
            "campaign.import_failed",
            campaign,
            after={"file": imp.file_name, "reason": reason},
        )


def load(imp: CampaignImport, token: str) -> None:
    campaign = imp.campaign
    fmt = FileFormat(imp.encoding, imp.encoding_label, imp.delimiter)
    mapping = mapping_of(imp)
    path = stored_path(imp.path)
    report_relative = f"{Path(imp.path).parent}/import-{imp.pk}-left-out.csv"
    suppressed = set(
        Suppression.objects.filter(
            channel_id=campaign.channel_id,
            business_number=campaign.sender.sender_id,
            active=True,
        ).values_list("user", flat=True)
    )
    tally = Tally()
    started = last_saved = time.monotonic()
    processes = settings.CAMPAIGN_IMPORT_PROCESSES or default_processes()
    if path.stat().st_size < POOL_FROM_BYTES:
        processes = 1
    stage = Stage()
    with (
        stored_path(report_relative).open("w", newline="", encoding="utf-8-sig") as report_file,
        BatchPool(processes) as pool,
    ):
        report = csv.writer(report_file)
        report.writerow(REPORT_HEADER)
        jobs = ((mapping, rows) for rows in _batches(records(path, fmt), tally))
        for checked in pool.map(check_batch, jobs):
            _stage(checked, stage, suppressed, tally, report)
            if time.monotonic() - last_saved >= PROGRESS_EVERY:
                _save_progress(imp, token, tally)
                last_saved = time.monotonic()
    _save_progress(imp, token, tally)
    staged = time.monotonic()
    finish(imp, token, tally, report_relative)
    logger.info(
        "import %s: %d rows read and staged in %.1f s, moved into the campaign in %.1f s",
        imp.pk,
        tally.rows_read,
        staged - started,
        time.monotonic() - staged,
    )


def _batches(rows: Iterable[tuple[int, list[str]]], tally: Tally) -> Iterator[list[Any]]:
    batch: list[tuple[int, list[str]]] = []
    for item in rows:
        batch.append(item)
        if len(batch) >= BATCH_ROWS:
            tally.rows_read += len(batch)
            yield batch
            batch = []
    if batch:
        tally.rows_read += len(batch)
        yield batch


def _stage(
    checked: Checked, stage: "Stage", suppressed: set[str], tally: Tally, report: Any
) -> None:
    """Stage a batch's valid rows; report what is left out (invalid, suppressed, duplicate)."""
    for row, value, reason in checked.invalid:
        report.writerow([row, safe_cell(value), safe_cell(reason)])
    tally.invalid += len(checked.invalid)
    fresh = []
    for item in checked.valid:
        if item[1] in suppressed:
            tally.suppressed += 1
            report.writerow([item[0], safe_cell(item[1]), "on the suppression list of this sender"])
        else:
            fresh.append(item)
    duplicates = stage.add(fresh)
    for row, to, *_ in fresh:
        if row in duplicates:
            report.writerow([row, safe_cell(to), "duplicate: the number is on an earlier row"])
    tally.duplicates += len(duplicates)
    tally.valid += len(fresh) - len(duplicates)


def _save_progress(imp: CampaignImport, token: str, tally: Tally) -> None:
    updated = CampaignImport.objects.filter(pk=imp.pk, token=token).update(
        updated_at=timezone.now(), **tally.fields()
    )
    if not updated:
        raise Superseded


def finish(imp: CampaignImport, token: str, tally: Tally, report_relative: str) -> None:
    """Move the staged rows into the campaign in one transaction, replacing earlier ones."""
    now = timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=imp.campaign_id)
        current = CampaignImport.objects.select_for_update().filter(pk=imp.pk, token=token)
        if not current.exists():
            raise Superseded
        replaced = campaign.recipients
        if replaced:
            CampaignChunk.objects.filter(campaign=campaign).delete()
            Recipient.objects.filter(campaign=campaign)._raw_delete(connection.alias)
        imported = Stage.move_into(campaign.pk)
        chunks.cut(campaign)
        campaign.recipients = imported
        campaign.status = Campaign.Status.READY
        campaign.save(update_fields=["recipients", "status"])
        current.update(
            state=CampaignImport.State.DONE,
            imported=imported,
            report_path=report_relative,
            finished_at=now,
            updated_at=now,
            **tally.fields(),
        )
        CampaignImport.objects.filter(campaign=campaign, state=CampaignImport.State.DONE).exclude(
            pk=imp.pk
        ).update(state=CampaignImport.State.REPLACED)
        record(
            SYSTEM,
            "campaign.import_done",
            campaign,
            after={"file": imp.file_name, "imported": imported, "replaced": replaced}
            | tally.fields(),
        )


# -- the staging table ---------------------------------------------------------------------------


class Stage:
    """A temporary table of this database session holding the valid rows until the end, one per
    number: the first row of a number wins, the later ones are duplicates."""

    def __init__(self) -> None:
        _drop_stage()
        postgresql = connection.vendor == "postgresql"
        json_type = "jsonb" if postgresql else "text"
        with connection.cursor() as cursor:
            cursor.execute(
                f'CREATE TEMPORARY TABLE {STAGE} (row integer, "to" varchar(32) PRIMARY KEY, '
                f"params {json_type}, payload {json_type})"
            )
            if postgresql:
                # COPY cannot skip conflicts: each batch lands in a table of its own first.
                cursor.execute(f"CREATE TEMPORARY TABLE {BATCH} (LIKE {STAGE})")

    def add(self, rows: list[tuple[int, str, str, str]]) -> set[int]:
        """Stage rows in file order; the row numbers of those whose number was already there."""
        if not rows:
            return set()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"TRUNCATE {BATCH}")
                with cursor.cursor.copy(
                    f'COPY {BATCH} (row, "to", params, payload) FROM STDIN'
                ) as copy:
                    for row in rows:
                        copy.write_row(row)
                cursor.execute(
                    f'INSERT INTO {STAGE} (row, "to", params, payload) '  # noqa: S608
                    f'SELECT DISTINCT ON ("to") row, "to", params, payload FROM {BATCH} '
                    'ORDER BY "to", row ON CONFLICT ("to") DO NOTHING RETURNING row'
                )
                added = {row for (row,) in cursor.fetchall()}
            else:
                added = set()
                with transaction.atomic():
                    for row in rows:
                        cursor.execute(
                            f'INSERT INTO {STAGE} (row, "to", params, payload) '  # noqa: S608
                            'VALUES (%s, %s, %s, %s) ON CONFLICT ("to") DO NOTHING',
                            row,
                        )
                        if cursor.rowcount:
                            added.add(row[0])
        return {row[0] for row in rows} - added

    @staticmethod
    def move_into(campaign_id: int) -> int:
        table = Recipient._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO {table} (campaign_id, "to", row, params, payload, state, task_id, '  # noqa: S608
                "message_id, error_code, error_message, attempts) "
                f"SELECT %s, \"to\", row, params, payload, %s, '', '', '', '', 0 FROM {STAGE} "
                "ORDER BY row",
                [campaign_id, State.PENDING],
            )
            return int(cursor.rowcount)


def _drop_stage() -> None:
    with connection.cursor() as cursor:
        schema = "pg_temp" if connection.vendor == "postgresql" else "temp"
        for table in (STAGE, BATCH):
            cursor.execute(f"DROP TABLE IF EXISTS {schema}.{table}")
