"""Importing recipient files into campaigns: valid rows only, all or nothing, with a report."""

import codecs
import csv
from typing import Any

import pytest

from camsconsole.audit import Actor
from camsconsole.models import AuditEvent
from messaging.campaigns import actions, counters, imports
from messaging.campaigns.imports import stored_path
from messaging.campaigns.models import Campaign, CampaignChunk, CampaignImport, Recipient
from messaging.csv_import import UnreadableFile
from messaging.models import State, Suppression
from tests.campaigns.conftest import (
    MAPPING,
    RunJobs,
    csv_bytes,
    import_file,
    people,
    upload,
)


def report_rows(imp: CampaignImport) -> list[list[str]]:
    with stored_path(imp.report_path).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_it_imports_valid_rows_and_reports_the_rest(campaign: Campaign, run_jobs: RunJobs) -> None:
    Suppression.objects.create(
        channel=campaign.channel,
        business_number=campaign.sender.sender_id,
        user="6590000003",
        source=Suppression.Source.OPERATOR,
        changed_at="2026-01-01T00:00:00Z",
    )
    rows = [
        *people(4),
        ['=HYPERLINK("http://evil")', "Mallory", "ORD-X"],
        ["+65 9000 0001", "Again", "ORD-1b"],
        ["6590000009", "", "ORD-9"],
    ]
    imp = import_file(campaign, csv_bytes(rows), run_jobs)
    assert imp.state == CampaignImport.State.DONE, imp.error
    assert (imp.rows_read, imp.valid, imp.invalid, imp.duplicates, imp.suppressed) == (
        7,
        3,
        2,
        1,
        1,
    )
    assert imp.imported == 3
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.READY
    assert campaign.recipients == 3
    recipients = list(Recipient.objects.filter(campaign=campaign).order_by("row"))
    assert [(r.row, r.to, r.params) for r in recipients] == [
        (2, "6590000000", {"1": "Customer 0", "2": "ORD-0"}),
        (3, "6590000001", {"1": "Customer 1", "2": "ORD-1"}),
        (4, "6590000002", {"1": "Customer 2", "2": "ORD-2"}),
    ]
    assert all(r.state == State.PENDING for r in recipients)
    assert counters.counts(campaign.pk)[State.PENDING] == 3
    assert CampaignChunk.objects.filter(campaign=campaign).count() == 1
    report = report_rows(imp)
    assert report[0] == ["Row", "Value", "Reason"]
    reasons = {row[0]: row[1:] for row in report[1:]}
    assert reasons["6"] == ['\'=HYPERLINK("http://evil")', "not a phone number"]  # formula-safe
    assert reasons["7"] == ["6590000001", "duplicate: the number is on an earlier row"]
    assert reasons["8"][1] == "{{1}} (name) is empty"
    assert reasons["5"] == ["6590000003", "on the suppression list of this sender"]
    verbs = list(AuditEvent.objects.order_by("id").values_list("verb", flat=True))
    assert verbs[-3:] == ["campaign.upload", "campaign.import", "campaign.import_done"]


def test_it_reads_utf16_with_tabs_and_a_default_country(
    campaign: Campaign, run_jobs: RunJobs
) -> None:
    text = "mobile\tname\torder\r\n07911 123456\tZoë\tA-1\r\n+65 9123 4567\tBo\tA-2\r\n"
    content = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    mapping = MAPPING | {"default_region": "GB"}
    imp = import_file(campaign, content, run_jobs, mapping)
    assert imp.state == CampaignImport.State.DONE
    assert imp.encoding_label == "UTF-16 (Excel Unicode text)"
    assert imp.delimiter == "\t"
    assert sorted(Recipient.objects.filter(campaign=campaign).values_list("to", flat=True)) == [
        "447911123456",
        "6591234567",
    ]


def test_it_leaves_nothing_behind_when_an_import_fails(
    campaign: Campaign, run_jobs: RunJobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = import_file(campaign, csv_bytes(people(3)), run_jobs)
    assert first.state == CampaignImport.State.DONE

    original = imports.Stage.move_into

    def failing(campaign_id: int) -> int:
        original(campaign_id)
        raise RuntimeError("disk full")

    monkeypatch.setattr(imports.Stage, "move_into", staticmethod(failing))
    second = upload(campaign, csv_bytes(people(5, start=100)))
    actions.start_import(Actor(), second, MAPPING)
    with pytest.raises(RuntimeError, match="disk full"):
        imports.run(second.pk)  # as the job would, without RQ recording the failure
    second.refresh_from_db()
    assert second.state == CampaignImport.State.FAILED
    assert "internal error" in second.error
    campaign.refresh_from_db()
    # The earlier list stands, untouched.
    assert campaign.status == Campaign.Status.READY
    assert campaign.recipients == 3
    assert sorted(Recipient.objects.filter(campaign=campaign).values_list("to", flat=True)) == [
        "6590000000",
        "6590000001",
        "6590000002",
    ]
    assert counters.counts(campaign.pk).total == 3


def test_it_replaces_the_list_of_a_ready_campaign(campaign: Campaign, run_jobs: RunJobs) -> None:
    import_file(campaign, csv_bytes(people(3)), run_jobs)
    second = import_file(campaign, csv_bytes(people(2, start=50)), run_jobs)
    assert second.state == CampaignImport.State.DONE
    assert Recipient.objects.filter(campaign=campaign).count() == 2
    assert counters.counts(campaign.pk).by_state == {State.PENDING: 2}
    assert CampaignImport.objects.filter(campaign=campaign, state="replaced").count() == 1


def test_it_refuses_a_file_that_is_not_csv(campaign: Campaign) -> None:
    with pytest.raises(UnreadableFile):
        upload(campaign, b"")


@pytest.mark.parametrize("processes", [2])
def test_it_checks_big_files_in_worker_processes(
    campaign: Campaign, run_jobs: RunJobs, settings: Any, processes: int, monkeypatch: Any
) -> None:
    settings.CAMPAIGN_IMPORT_PROCESSES = processes
    monkeypatch.setattr(imports, "POOL_FROM_BYTES", 0)
    monkeypatch.setattr(imports, "BATCH_ROWS", 100)
    imp = import_file(campaign, csv_bytes(people(1000)), run_jobs)
    assert imp.state == CampaignImport.State.DONE, imp.error
    assert imp.imported == 1000
    assert CampaignChunk.objects.filter(campaign=campaign).count() == 1


def test_it_keeps_the_first_row_of_a_number_across_batches(
    campaign: Campaign, run_jobs: RunJobs, monkeypatch: Any
) -> None:
    # Duplicates are found by the staging table, batch after batch, not by a set in memory.
    monkeypatch.setattr(imports, "BATCH_ROWS", 3)
    rows = [*people(4), ["6590000003", "Later", "ORD-L"], ["+6590000000", "Again", "ORD-A"]]
    rows += [["6590000005", "Twice", "ORD-T1"], ["6590000005", "Twice", "ORD-T2"]]
    imp = import_file(campaign, csv_bytes(rows), run_jobs)
    assert imp.state == CampaignImport.State.DONE, imp.error
    assert (imp.valid, imp.duplicates) == (5, 3)
    kept = Recipient.objects.filter(campaign=campaign).order_by("row")
    assert [(r.row, r.params["2"]) for r in kept] == [
        (2, "ORD-0"),
        (3, "ORD-1"),
        (4, "ORD-2"),
        (5, "ORD-3"),
        (8, "ORD-T1"),
    ]
    reasons = {row[0]: row[2] for row in report_rows(imp)[1:]}
    duplicate = "duplicate: the number is on an earlier row"
    assert reasons == {"6": duplicate, "7": duplicate, "9": duplicate}
