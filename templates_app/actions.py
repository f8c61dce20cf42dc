"""Every operator action on templates, each with its audit event in the same transaction.
Work against CAMS is queued as a TemplateJob and run by a worker (jobs.py, lifecycle.py)."""

from django.db import transaction

from camsconsole.audit import Actor, record
from camsconsole.models import Channel
from camsconsole.queue import enqueue_on_commit
from templates_app import components, lifecycle, versions
from templates_app.forms import DesignForm
from templates_app.lifecycle import Refused
from templates_app.models import MODIFIABLE, Status, Template, TemplateJob, Variant, Version

__all__ = ["Refused"]


@transaction.atomic
def save_design(
    actor: Actor,
    form: DesignForm,
    *,
    template: Template | None = None,
    variant: Variant | None = None,
    source: str = Version.Source.EDIT,
) -> Variant:
    """Save the design page: a new template, a new language of `template`, or an edit of
    `variant`. A changed design becomes a new version."""
    data = form.cleaned_data
    before = variant.audit_values() if variant is not None else None
    template = template or Template()
    creating = template.pk is None
    if creating or not template.is_submitted:
        template.channel, template.name = data["channel"], data["name"]
    template.category = data["category"]
    template.save()
    variant = variant or Variant(template=template)
    if not variant.template_code:
        variant.language = data["language"]
    variant.components = data["components"]
    variant.example = data["example"]
    variant.message_send_ttl_seconds = data.get("message_send_ttl_seconds")
    variant.save()
    if versions.keep(variant, source, actor.label) is not None:
        variant.save(update_fields=["version", "updated_at"])
    after = variant.audit_values()
    if after == before:
        return variant  # saved as it was
    if creating:
        verb = "template.create"
    elif before is None:
        verb = "template.add_language"
    else:
        verb = "template.edit"
    record(actor, verb, template, before=before, after=variant.audit_values())
    return variant


def _locked(variant: Variant) -> Variant:
    return (
        Variant.objects.select_for_update().select_related("template__channel").get(pk=variant.pk)
    )


def _busy(variant: Variant) -> None:
    if TemplateJob.objects.active().filter(variant=variant).exists():
        raise Refused("CAMS is still working on this language; wait for it to finish.")


@transaction.atomic
def submit(actor: Actor, variant: Variant) -> TemplateJob:
    """Queue the variant's current version for CAMS review (Create, or Modify when CAMS
    already has it and still allows a change)."""
    variant = _locked(variant)
    template = variant.template
    problems = components.problems(template, variant)
    if problems:
        count = len(problems)
        raise Refused(
            f"Fix {count} problem{'s' if count > 1 else ''} before submitting: "
            f"{problems[0].message}"
        )
    _busy(variant)
    if variant.template_code:
        if template.template_type != "WHATSAPP":
            raise Refused(
                "CAMS changes WhatsApp templates only; duplicate this Viber template instead."
            )
        if variant.status not in MODIFIABLE:
            raise Refused(
                f"CAMS changes templates only before review or after a rejection, and this one "
                f"is {variant.get_status_display().lower()}. Duplicate it to make a new one."
            )
        if variant.status == Status.SUBMITTED and not variant.has_unsubmitted_changes:
            raise Refused("This version is already waiting for review.")
    submitted = (
        variant.versions.filter(number=variant.submitted_version).first()
        if variant.submitted_version is not None
        else None
    )
    job = TemplateJob.objects.create(
        kind=TemplateJob.Kind.SUBMIT,
        template=template,
        variant=variant,
        version=variant.version,
        requested_by=actor.user,
        label=str(variant),
    )
    before = (
        {"components": submitted.components, "example": submitted.example} if submitted else None
    )
    after = {
        "language": variant.language,
        "version": variant.version,
        "operation": "ModifyChatappTemplate" if variant.template_code else "CreateChatappTemplate",
        "components": variant.components,
        "example": variant.example,
    }
    record(actor, "template.submit", template, before=before, after=after)
    enqueue_on_commit("templates_app.jobs.submit", job.pk)
    return job


def _job(actor: Actor, kind: str, template: Template, variant: Variant | None) -> TemplateJob:
    return TemplateJob.objects.create(
        kind=kind,
        template=template,
        variant=variant,
        requested_by=actor.user,
        label=str(variant or template),
    )


@transaction.atomic
def refresh(actor: Actor, variant: Variant) -> TemplateJob:
    variant = _locked(variant)
    if not variant.template_code:
        raise Refused("CAMS does not know this language yet: submit it first.")
    _busy(variant)
    job = _job(actor, TemplateJob.Kind.REFRESH, variant.template, variant)
    record(actor, "template.refresh", variant.template, after={"language": variant.language})
    enqueue_on_commit("templates_app.jobs.refresh", job.pk)
    return job


@transaction.atomic
def delete_language(actor: Actor, variant: Variant) -> TemplateJob | None:
    """Delete at once what CAMS never saw; otherwise queue the DeleteChatappTemplate."""
    variant = _locked(variant)
    if not variant.template_code:
        lifecycle.remove_variant(actor, variant)
        return None
    _busy(variant)
    job = _job(actor, TemplateJob.Kind.DELETE_LANGUAGE, variant.template, variant)
    record(actor, "template.delete_requested", variant.template, before=variant.audit_values())
    enqueue_on_commit("templates_app.jobs.delete_language", job.pk)
    return job


@transaction.atomic
def delete_template(actor: Actor, template: Template) -> TemplateJob | None:
    template = Template.objects.select_for_update().get(pk=template.pk)
    if not template.is_submitted:
        lifecycle.remove_template(actor, template)
        return None
    if TemplateJob.objects.active().filter(template=template).exists():
        raise Refused("CAMS is still working on this template; wait for it to finish.")
    job = _job(actor, TemplateJob.Kind.DELETE_TEMPLATE, template, None)
    languages = list(template.variants.values_list("language", flat=True))
    record(actor, "template.delete_requested", template, before={"languages": languages})
    enqueue_on_commit("templates_app.jobs.delete_template", job.pk)
    return job


def _free_name(channel: Channel, name: str) -> str:
    taken = set(
        Template.objects.filter(channel=channel, name__startswith=name).values_list(
            "name", flat=True
        )
    )
    suffixes = ("_copy", *(f"_copy_{n}" for n in range(2, 1000)))
    return next(name[: 512 - len(s)] + s for s in suffixes if name[: 512 - len(s)] + s not in taken)


@transaction.atomic
def duplicate(actor: Actor, template: Template) -> Template:
    """A new draft template with every language of `template`, under a free name."""
    copy = Template.objects.create(
        channel=template.channel,
        name=_free_name(template.channel, template.name),
        category=template.category,
    )
    for original in template.variants.all():
        variant = Variant.objects.create(
            template=copy,
            language=original.language,
            components=original.components,
            example=original.example,
            message_send_ttl_seconds=original.message_send_ttl_seconds,
        )
        versions.keep(variant, Version.Source.DUPLICATE, actor.label)
        variant.save(update_fields=["version", "updated_at"])
    languages = {variant.language: variant.components for variant in copy.variants.all()}
    record(actor, "template.duplicate", copy, after={"from": template.name, "languages": languages})
    return copy


@transaction.atomic
def start_import(actor: Actor, channel: Channel) -> TemplateJob:
    if TemplateJob.objects.active().filter(kind=TemplateJob.Kind.IMPORT, channel=channel).exists():
        raise Refused("An import of this channel is already running.")
    job = TemplateJob.objects.create(
        kind=TemplateJob.Kind.IMPORT, channel=channel, requested_by=actor.user, label=str(channel)
    )
    record(actor, "template.import_requested", channel)
    enqueue_on_commit("templates_app.jobs.import_templates", job.pk)
    return job
