"""The CAMS side of a template's life, run by workers: submit (CreateChatappTemplate or
ModifyChatappTemplate), refresh (GetChatappTemplateDetail) and delete (DeleteChatappTemplate).

`run` wraps each in its TemplateJob: running, then done, failed with the CAMS code in plain words,
or "outcome unknown" when the request may have reached CAMS (a timeout, a 5xx). Nothing here
retries an ambiguous call; the operator sees what happened and decides.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from camsconsole.audit import SYSTEM, Actor, record
from camsconsole.cams.errors import CamsError
from templates_app import components, pacing, review, schedule
from templates_app.models import MODIFIABLE, Status, Template, TemplateJob, Variant

logger = logging.getLogger(__name__)

GONE = {"DelError.TemplateNotExist", "DetailError.TemplateNotExist"}


class Refused(Exception):
    """The console will not make this call; the message says why, for the operator."""


def actor_of(job: TemplateJob) -> Actor:
    return Actor(user=job.requested_by) if job.requested_by else SYSTEM


def run(job_id: int, work: Callable[[TemplateJob], str]) -> None:
    job = TemplateJob.objects.select_related("requested_by").get(pk=job_id)
    if job.state != TemplateJob.State.QUEUED:
        return  # already run: RQ may deliver a job twice after a worker crash
    TemplateJob.objects.filter(pk=job.pk).update(
        state=TemplateJob.State.RUNNING, started_at=timezone.now()
    )
    state, code, message = TemplateJob.State.SUCCEEDED, "", ""
    try:
        message = work(job)
    except Refused as exc:
        state, message = TemplateJob.State.FAILED, str(exc)
    except CamsError as exc:
        state = TemplateJob.State.UNKNOWN if exc.ambiguous else TemplateJob.State.FAILED
        code, message = exc.code, exc.plain
        if exc.message and exc.message not in message:
            message += f" CAMS said: {exc.message}"
    except Exception:
        logger.exception("template job %s crashed", job.pk)
        state, message = TemplateJob.State.FAILED, "The console failed unexpectedly; see the logs."
        _finish(job, state, "", message)
        raise
    _finish(job, state, code, message)


def _finish(job: TemplateJob, state: str, code: str, message: str) -> None:
    TemplateJob.objects.filter(pk=job.pk).update(
        state=state, error_code=code[:100], message=message, finished_at=timezone.now()
    )


def _variant(job: TemplateJob) -> Variant:
    if job.variant_id is None:
        raise Refused("This language has been deleted.")
    return Variant.objects.select_related("template__channel__account").get(pk=job.variant_id)


def submit(job: TemplateJob) -> str:
    variant = _variant(job)
    template = variant.template
    if job.version is None:
        raise Refused("The job does not say which version to submit.")
    version = variant.versions.get(number=job.version)
    sent = Variant(
        template=template,
        language=variant.language,
        components=version.components,
        example=version.example,
        message_send_ttl_seconds=version.message_send_ttl_seconds,
    )
    params = components.template_params(template, sent, category=version.category)
    problems = components.problems(template, sent)
    if problems:
        raise Refused(f"Not submitted: {problems[0].message}")
    account = template.channel.account
    client = account.client()
    code = variant.template_code
    if code:
        if variant.status not in MODIFIABLE:
            raise Refused(
                f"CAMS does not change a template that is {variant.get_status_display()}."
            )
        ref = pacing.call(
            account,
            "ModifyChatappTemplate",
            lambda: client.modify_template(
                template_code=code,
                language=variant.language,
                components=params["Components"],
                category=params["Category"],
                template_type=params["TemplateType"],
                example=params["Example"],
                message_send_ttl_seconds=params["MessageSendTtlSeconds"],
                cust_space_id=params["CustSpaceId"],
            ),
        )
    else:
        ref = pacing.call(
            account,
            "CreateChatappTemplate",
            lambda: client.create_template(
                template_type=params["TemplateType"],
                name=params["Name"],
                language=params["Language"],
                category=params["Category"],
                components=params["Components"],
                example=params["Example"],
                message_send_ttl_seconds=params["MessageSendTtlSeconds"],
                cust_space_id=params["CustSpaceId"],
            ),
        )
    _submitted(job, variant.pk, ref.template_code)
    return f"CAMS accepted version {job.version} (TemplateCode {ref.template_code}) for review."


@transaction.atomic
def _submitted(job: TemplateJob, variant_id: int, template_code: str) -> None:
    variant = Variant.objects.select_for_update().select_related("template").get(pk=variant_id)
    before = {"status": variant.status, "template_code": variant.template_code}
    variant.template_code = template_code
    variant.status, variant.reason = Status.SUBMITTED, ""
    variant.submitted_version, variant.submitted_at = job.version, timezone.now()
    variant.save(
        update_fields=[
            "template_code",
            "status",
            "reason",
            "submitted_version",
            "submitted_at",
            "updated_at",
        ]
    )
    after = {"status": variant.status, "template_code": template_code, "version": job.version}
    record(actor_of(job), "template.submitted", variant.template, before=before, after=after)
    transaction.on_commit(lambda: schedule.watch_review(variant_id))


def fetch_detail(variant: Variant) -> dict[str, Any]:
    template = variant.template
    account = template.channel.account
    client = account.client()
    return pacing.call(
        account,
        "GetChatappTemplateDetail",
        lambda: client.get_template(
            language=variant.language,
            template_code=variant.template_code,
            template_type=template.template_type,
            cust_space_id=template.channel.cust_space_id,
        ),
    )


def refresh_variant(variant: Variant, actor: Actor = SYSTEM) -> Variant:
    """Read the variant's review from CAMS and apply it; the variant as it is now."""
    review.apply(
        variant.pk,
        review.Word.from_cams(fetch_detail(variant)),
        monotonic=False,
        synced=True,
        actor=actor,
    )
    return Variant.objects.get(pk=variant.pk)


def refresh(job: TemplateJob) -> str:
    variant = refresh_variant(_variant(job), actor_of(job))
    text = f"CAMS says: {variant.get_status_display()}"
    return text + (f" ({variant.reason})" if variant.reason else "") + "."


def _delete_in_cams(template: Template, code: str, language: str | None) -> None:
    account = template.channel.account
    client = account.client()
    try:
        pacing.call(
            account,
            "DeleteChatappTemplate",
            lambda: client.delete_template(
                template_code=code,
                language=language,
                template_type=template.template_type if language else None,
                cust_space_id=template.channel.cust_space_id,
            ),
        )
    except CamsError as exc:
        if exc.code not in GONE:  # already gone is what we wanted
            raise


def delete_language(job: TemplateJob) -> str:
    variant = _variant(job)
    if variant.template_code:
        _delete_in_cams(variant.template, variant.template_code, variant.language)
    remove_variant(actor_of(job), variant)
    return f"Deleted {variant}."


def delete_template(job: TemplateJob) -> str:
    if job.template_id is None:
        raise Refused("This template has already been deleted.")
    template = Template.objects.select_related("channel__account").get(pk=job.template_id)
    codes = template.variants.exclude(template_code="").values_list("template_code", flat=True)
    for code in sorted(set(codes)):
        _delete_in_cams(template, code, None)
    remove_template(actor_of(job), template)
    return f"Deleted {template.name} in every language."


@transaction.atomic
def remove_variant(actor: Actor, variant: Variant) -> None:
    """Forget one language here; the template goes too when it was the last."""
    template = variant.template
    record(actor, "template.delete_language", template, before=variant.audit_values())
    variant.delete()
    if not template.variants.exists():
        remove_template(actor, template)


@transaction.atomic
def remove_template(actor: Actor, template: Template) -> None:
    languages = list(template.variants.values_list("language", flat=True))
    before = {"name": template.name, "category": template.category, "languages": languages}
    record(actor, "template.delete", template, before=before)
    template.delete()
