"""Campaign fixtures: campaigns on the messaging suite's sandbox senders and approved template,
recipient files written as spreadsheets write them, and helpers that run the real jobs here.

The messaging fixtures (sandbox with receipts recorded, senders of every channel, the approved
`order_update` template, the RQ queues drained in this process) are reused as they are.
"""

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from camsconsole.audit import Actor
from messaging.campaigns import actions
from messaging.campaigns.models import Campaign, CampaignImport
from templates_app.models import Variant
from tests.messaging.conftest import (  # noqa: F401 - fixtures used by the campaign tests
    Deliver,
    RunJobs,
    Senders,
    _clean_redis,
    cams,
    deliver,
    receiver,
    run_jobs,
    sandbox,
    senders,
    template,
)

HEADER = ["phone", "name", "order"]


@pytest.fixture(autouse=True)
def _campaign_settings(settings: Any, tmp_path: Path) -> None:
    """Uploads in the test's own directory; one lane per job, so every query of a dispatch
    job runs on the test's connection (and inside its transaction)."""
    settings.CAMPAIGN_UPLOAD_DIR = tmp_path / "uploads"
    settings.CAMPAIGN_MASS_THREADS = 1
    settings.CAMPAIGN_SINGLE_THREADS = 1
    settings.CAMPAIGN_DISPATCH_JOBS = 1
    settings.CAMPAIGN_JOB_SECONDS = 20


def csv_bytes(rows: list[list[str]], header: list[str] | None = None, **options: Any) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", **options)
    writer.writerow(header or HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def numbers(count: int, start: int = 0) -> list[str]:
    """Valid Singapore mobile numbers in E.164 digits."""
    return [f"659{start + i:07d}" for i in range(count)]


def people(count: int, start: int = 0) -> list[list[str]]:
    return [
        [f"+{to}", f"Customer {start + i}", f"ORD-{start + i}"]
        for i, to in enumerate(numbers(count, start))
    ]


def make_campaign(shop: Senders, variant: Variant, **fields: Any) -> Campaign:
    values: dict[str, Any] = {
        "name": "Spring sale",
        "channel": variant.template.channel,
        "sender": shop.whatsapp,
        "variant": variant,
        "template_code": variant.template_code,
        "template_name": variant.template.name,
        "language": variant.language,
    }
    return Campaign.objects.create(**(values | fields))


MAPPING = {"recipient": 0, "variables": {"1": 1, "2": 2}, "payload": [], "default_region": ""}


def upload(campaign: Campaign, content: bytes, name: str = "list.csv") -> CampaignImport:
    return actions.upload(Actor(), campaign, SimpleUploadedFile(name, content, "text/csv"))


def import_file(
    campaign: Campaign,
    content: bytes,
    drain: RunJobs,
    mapping: dict[str, Any] | None = None,
) -> CampaignImport:
    """Upload, map and import, as the pages do, and run the import job."""
    imp = upload(campaign, content)
    actions.start_import(Actor(), imp, mapping or MAPPING)
    drain()
    imp.refresh_from_db()
    return imp


@pytest.fixture
def campaign(senders: Senders, template: Variant) -> Campaign:  # noqa: F811
    return make_campaign(senders, template)


@pytest.fixture
def loaded(campaign: Campaign, run_jobs: RunJobs) -> Campaign:  # noqa: F811
    """A ready campaign of 25 recipients."""
    imp = import_file(campaign, csv_bytes(people(25)), run_jobs)
    assert imp.state == CampaignImport.State.DONE, imp.error
    campaign.refresh_from_db()
    return campaign
