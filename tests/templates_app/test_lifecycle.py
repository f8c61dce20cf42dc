"""Submitting, resubmitting, refreshing and deleting templates against the sandbox (real HTTP,
real signatures), with the jobs run by a real RQ worker on the real queue."""

import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from camsconsole.audit import Actor
from camsconsole.cams.client import CamsClient
from camsconsole.cams.errors import CamsApiError
from camsconsole.cams.sandbox import SandboxHandle
from camsconsole.models import AuditEvent, Channel
from templates_app import actions
from templates_app.models import Status, Template, TemplateJob, Variant
from tests.templates_app.conftest import (
    RunJobs,
    add_language,
    design_post,
    detail_url,
    make_variant,
    marketing,
    page,
)


def calls(sandbox: SandboxHandle, operation: str) -> int:
    return sandbox.ledger()["operations"].get(operation, {}).get("ok", 0)


def submit(client: Client, variant: Variant, on_commit: Any, run_jobs: RunJobs) -> TemplateJob:
    with on_commit():
        client.post(reverse("variant-submit", args=[variant.pk]))
    run_jobs()
    return TemplateJob.objects.filter(variant=variant, kind="submit").latest("id")


def test_it_creates_the_template_in_cams_and_follows_its_review(
    operator_client: Client,
    wa_channel: Channel,
    sandbox: SandboxHandle,
    cams: CamsClient,
    on_commit: Any,
    run_jobs: RunJobs,
) -> None:
    variant = make_variant(wa_channel)
    job = submit(operator_client, variant, on_commit, run_jobs)
    variant.refresh_from_db()
    assert (job.state, job.error_code) == ("succeeded", "")
    assert variant.template_code in job.message
    assert calls(sandbox, "CreateChatappTemplate") == 1
    # The review watch read the outcome from CAMS without anyone pressing a button.
    assert (variant.status, variant.quality_score, variant.submitted_version) == (
        "pass",
        "GREEN",
        1,
    )
    assert variant.synced_at is not None
    held = cams.get_template(language="en_US", template_code=variant.template_code)
    assert (held["Name"], held["Category"]) == ("spring_sale", "MARKETING")
    assert held["Components"] == marketing()
    assert held["Example"] == {"1": "Alice", "2": "SPRING20"}
    html = page(operator_client, detail_url(variant))
    assert "Approved" in html
    assert "CAMS accepted version 1" in html
    verbs = AuditEvent.objects.order_by("id").values_list("verb", flat=True)
    assert list(verbs)[-4:] == [
        "template.create",
        "template.submit",
        "template.submitted",
        "template.review",
    ]


def test_it_resubmits_a_rejected_template_with_modify(
    operator_client: Client,
    wa_channel: Channel,
    sandbox: SandboxHandle,
    cams: CamsClient,
    on_commit: Any,
    run_jobs: RunJobs,
) -> None:
    variant = make_variant(wa_channel, name="reject_this_offer")
    submit(operator_client, variant, on_commit, run_jobs)
    variant.refresh_from_db()
    code = variant.template_code
    assert variant.status == Status.FAIL
    assert "INVALID_FORMAT" in variant.reason
    assert "Rejected: INVALID_FORMAT" in page(operator_client, detail_url(variant))

    fixed = marketing(BODY={"Type": "BODY", "Text": "Hi {{1}}, {{2}} is yours today."})
    operator_client.post(
        reverse("variant-edit", args=[variant.pk]),
        design_post(wa_channel, name="reject_this_offer", components=fixed),
    )
    job = submit(operator_client, variant, on_commit, run_jobs)
    variant.refresh_from_db()
    assert job.state == "succeeded"
    assert "version 2" in job.message
    assert calls(sandbox, "ModifyChatappTemplate") == 1
    assert calls(sandbox, "CreateChatappTemplate") == 1
    assert variant.template_code == code
    assert variant.submitted_version == 2
    held = cams.get_template(language="en_US", template_code=code)
    assert held["Components"][1]["Text"] == "Hi {{1}}, {{2}} is yours today."
    submitted = AuditEvent.objects.filter(verb="template.submit").latest("id")
    assert submitted.before["components"][1]["Text"] != submitted.after["components"][1]["Text"]
    assert submitted.after["operation"] == "ModifyChatappTemplate"


def test_it_will_not_change_an_approved_template(
    wa_channel: Channel, on_commit: Any, run_jobs: RunJobs, operator_client: Client
) -> None:
    variant = make_variant(wa_channel)
    submit(operator_client, variant, on_commit, run_jobs)
    variant.refresh_from_db()
    assert variant.status == Status.PASS
    with pytest.raises(actions.Refused, match="only before review or after a rejection"):
        actions.submit(Actor(), variant)


def test_it_will_not_queue_two_jobs_for_one_language(
    channel: Channel, queue: Any, on_commit: Any
) -> None:
    variant = make_variant(channel)
    with on_commit():
        actions.submit(Actor(), variant)
    with pytest.raises(actions.Refused, match="still working"):
        actions.submit(Actor(), variant)
    assert queue.count == 1


def test_it_explains_cams_errors_in_plain_words(
    operator_client: Client,
    wa_channel: Channel,
    cams: CamsClient,
    on_commit: Any,
    run_jobs: RunJobs,
) -> None:
    cams.create_template(
        template_type="WHATSAPP",
        name="spring_sale",
        language="en_US",
        category="MARKETING",
        components=[{"Type": "BODY", "Text": "Made in the vendor console."}],
    )
    variant = make_variant(wa_channel)
    job = submit(operator_client, variant, on_commit, run_jobs)
    variant.refresh_from_db()
    assert (job.state, job.error_code) == ("failed", "InvalidParameter.TemplateNameExist")
    assert job.message.startswith("A template with this name already exists.")
    assert (variant.status, variant.template_code) == ("draft", "")
    html = page(operator_client, detail_url(variant))
    assert "InvalidParameter.TemplateNameExist" in html
    assert "A template with this name already exists." in html


def test_it_marks_the_outcome_unknown_when_cams_may_have_acted(
    wa_channel: Channel, sandbox: SandboxHandle, on_commit: Any, run_jobs: RunJobs
) -> None:
    sandbox.configure(error_5xx_ratio=1.0, fault_operations=["CreateChatappTemplate"])
    variant = make_variant(wa_channel)
    with on_commit():
        actions.submit(Actor(), variant)
    run_jobs()
    job = TemplateJob.objects.get()
    assert job.state == TemplateJob.State.UNKNOWN
    assert "outcome is unknown" in job.message
    # Never retried blindly: one attempt reached CAMS.
    ops = sandbox.ledger()["operations"]["CreateChatappTemplate"]
    assert sum(ops["errors"].values()) + ops["ok"] == 1


def test_it_refreshes_on_request(
    operator_client: Client,
    wa_channel: Channel,
    sandbox: SandboxHandle,
    on_commit: Any,
    run_jobs: RunJobs,
    settings: Any,
) -> None:
    settings.TEMPLATE_REVIEW_CHECKS = ()  # no automatic look: only the button
    sandbox.configure(review_delay=0.3)
    variant = make_variant(wa_channel)
    submit(operator_client, variant, on_commit, run_jobs)
    variant.refresh_from_db()
    assert variant.status == Status.SUBMITTED
    time.sleep(0.35)  # the sandbox's review ends
    with on_commit():
        operator_client.post(reverse("variant-refresh", args=[variant.pk]))
    run_jobs()
    variant.refresh_from_db()
    job = TemplateJob.objects.filter(kind="refresh").get()
    assert (variant.status, job.message) == ("pass", "CAMS says: Approved.")


def test_it_deletes_one_language_and_then_the_template_in_cams(
    operator_client: Client,
    wa_channel: Channel,
    cams: CamsClient,
    on_commit: Any,
    run_jobs: RunJobs,
) -> None:
    english = make_variant(wa_channel)
    submit(operator_client, english, on_commit, run_jobs)
    french = add_language(english, "fr")
    submit(operator_client, french, on_commit, run_jobs)
    english.refresh_from_db()
    with on_commit():
        operator_client.post(reverse("variant-delete", args=[french.pk]))
    run_jobs()
    assert not Variant.objects.filter(pk=french.pk).exists()
    assert [t["Language"] for t in cams.list_templates().templates] == ["en_US"]

    template = Template.objects.get(variants=english)
    with on_commit():
        operator_client.post(reverse("template-delete", args=[template.pk]))
    run_jobs()
    assert not Template.objects.exists()
    assert cams.list_templates().templates == []
    with pytest.raises(CamsApiError):
        cams.get_template(language="en_US", template_code=english.template_code)
    job = TemplateJob.objects.get(kind="delete_template")
    assert (job.state, job.template) == ("succeeded", None)
    assert AuditEvent.objects.filter(verb="template.delete").count() == 1
