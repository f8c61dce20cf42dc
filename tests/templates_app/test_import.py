"""Import from CAMS (every page, then details) and the periodic status sync."""

import io
from typing import Any

from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rq import Queue

from camsconsole.cams.client import CamsClient
from camsconsole.cams.sandbox import SandboxHandle
from camsconsole.models import AuditEvent, Channel
from templates_app import schedule, sync
from templates_app.models import Status, Template, TemplateJob, Variant
from tests.templates_app.conftest import EXAMPLE, RunJobs, design_post, make_variant, marketing

BODY = [{"Type": "BODY", "Text": "Your order {{1}} ships today."}]


def vendor_template(cams: CamsClient, name: str, language: str = "en", **extra: Any) -> str:
    """A template made outside the console, as in the vendor's own console."""
    ref = cams.create_template(
        template_type=extra.pop("template_type", "WHATSAPP"),
        name=name,
        language=language,
        category=extra.pop("category", "UTILITY"),
        components=extra.pop("components", BODY),
        example=extra.pop("example", {"1": "A-17"}),
        **extra,
    )
    return ref.template_code


def start_import(client: Client, channel: Channel, on_commit: Any) -> TemplateJob:
    with on_commit():
        response = client.post(reverse("template-import"), {"channel": channel.pk})
    job = TemplateJob.objects.get(kind="import")
    assert response["Location"] == f"{reverse('template-import')}?job={job.pk}"
    return job


def test_it_imports_every_page_of_a_channel(
    operator_client: Client,
    wa_channel: Channel,
    sandbox: SandboxHandle,
    cams: CamsClient,
    on_commit: Any,
    run_jobs: RunJobs,
) -> None:
    for number in range(10):
        vendor_template(cams, f"order_update_{number}")
    vendor_template(cams, "order_update_0", language="fr")
    vendor_template(cams, "reject_winter_offer", category="MARKETING")
    vendor_template(
        cams, "viber_only", template_type="VIBER", components=[{"Type": "BODY", "Text": "Hi"}]
    )
    job = start_import(operator_client, wa_channel, on_commit)
    run_jobs()
    job.refresh_from_db()
    assert (job.state, job.total, job.done) == ("succeeded", 12, 12)
    assert job.message == "12 new, 0 updated, 0 unchanged."
    assert sandbox.ledger()["operations"]["ListChatappTemplate"]["ok"] == 2  # pages of 10
    assert Template.objects.count() == 11
    first = Variant.objects.get(template__name="order_update_0", language="fr")
    assert (first.status, first.quality_score, first.template.category) == (
        "pass",
        "GREEN",
        "UTILITY",
    )
    assert (first.components, first.example) == (BODY, {"1": "A-17"})
    assert (first.version, first.submitted_version) == (1, 1)
    assert first.versions.get().source == "import"
    rejected = Variant.objects.get(template__name="reject_winter_offer")
    assert rejected.status == Status.FAIL
    assert rejected.reason.startswith("INVALID_FORMAT")
    assert AuditEvent.objects.filter(verb="template.import").count() == 12
    html = operator_client.get(reverse("template-import") + f"?job={job.pk}").content.decode()
    assert "12 new, 0 updated, 0 unchanged." in html


def test_it_updates_what_exists_and_keeps_unsubmitted_changes(
    operator_client: Client,
    wa_channel: Channel,
    cams: CamsClient,
    on_commit: Any,
    run_jobs: RunJobs,
) -> None:
    code = vendor_template(cams, "order_update")
    ours = make_variant(wa_channel, name="spring_sale")
    theirs_first = vendor_template(cams, "spring_sale", language="en_US", components=BODY)
    start_import(operator_client, wa_channel, on_commit)
    run_jobs()
    ours.refresh_from_db()
    # The local draft of the same name is now CAMS's template; the draft stays as version 1.
    assert (ours.template_code, ours.components, ours.version) == (theirs_first, BODY, 2)

    imported = Variant.objects.get(template_code=code)
    operator_client.post(
        reverse("variant-edit", args=[imported.pk]),
        design_post(
            wa_channel,
            name="order_update",
            category="UTILITY",
            language="en",
            components=marketing(),
            example=EXAMPLE,
        ),
    )
    TemplateJob.objects.all().delete()
    start_import(operator_client, wa_channel, on_commit)
    run_jobs()
    imported.refresh_from_db()
    job = TemplateJob.objects.get()
    assert job.message == "0 new, 0 updated, 2 unchanged."
    assert imported.components == marketing()  # the operator's unsubmitted edit survives
    assert (imported.version, imported.submitted_version) == (2, 1)


def test_it_syncs_the_status_of_every_submitted_template(
    wa_channel: Channel, sandbox: SandboxHandle, cams: CamsClient
) -> None:
    sandbox.configure(review_delay=60)
    code = vendor_template(cams, "order_update")
    sync.adopt(wa_channel, cams.get_template(language="en", template_code=code))
    draft = make_variant(wa_channel)
    variant = Variant.objects.get(template_code=code)
    assert variant.status == Status.AUDITING
    sandbox.configure(review_delay=0)
    cams.modify_template(template_code=code, language="en", components=BODY)  # reviewed at once
    assert sync.sync_channels() == 1
    variant.refresh_from_db()
    draft.refresh_from_db()
    assert (variant.status, variant.quality_score) == ("pass", "GREEN")
    assert (draft.status, draft.synced_at) == ("draft", None)
    calls = sandbox.ledger()["operations"]["GetChatappTemplateDetail"]["ok"]
    assert calls == 2  # the adopt above, and the sync


def test_it_keeps_one_periodic_sync_chain(
    queue: Any, run_jobs: RunJobs, settings: Any, db: None
) -> None:
    settings.TEMPLATE_SYNC_INTERVAL = 3600
    queue.connection.delete(schedule.CHAIN_KEY)
    assert schedule.ensure_sync() is True
    assert schedule.ensure_sync() is False  # alive: not started twice
    first = schedule.chain_job_id()
    # A duplicate chain's run (a plain RQ queue: django-rq's would wait for a commit).
    stray = Queue(queue.name, connection=queue.connection).enqueue("templates_app.jobs.sync_all")
    run_jobs()
    assert stray.get_status(refresh=True) == "finished"
    assert queue.fetch_job(first).get_status() == "finished"
    nxt = schedule.chain_job_id()
    assert nxt not in (None, first)
    scheduled = queue.scheduled_job_registry.get_job_ids()
    assert scheduled == [nxt]  # the chain goes on, the stray did not add a successor
    queue.connection.delete(schedule.CHAIN_KEY)


def test_it_syncs_from_the_command_line(
    wa_channel: Channel, cams: CamsClient, queue: Any, run_jobs: RunJobs
) -> None:
    code = vendor_template(cams, "order_update")
    sync.adopt(wa_channel, cams.get_template(language="en", template_code=code))
    Variant.objects.update(synced_at=None)
    out = io.StringIO()
    call_command("sync_templates", stdout=out)
    assert out.getvalue() == "Synced 1 templates.\n"
    assert Variant.objects.get().synced_at is not None
    assert not queue.scheduled_job_registry.get_job_ids()
    queue.connection.delete(schedule.CHAIN_KEY)
    call_command("sync_templates", "--schedule", stdout=out)
    call_command("sync_templates", "--schedule", stdout=out)
    assert out.getvalue().splitlines()[1:] == [
        "Periodic template sync started (every 900 s).",
        "Periodic template sync already running (every 900 s).",
    ]
    queue.connection.delete(schedule.CHAIN_KEY)
