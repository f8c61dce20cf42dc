"""Operator actions on templates that go to CAMS or change the set of templates."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from camsconsole.audit import Actor
from camsconsole.roles import Role, require_role
from templates_app import actions
from templates_app.forms import ImportForm
from templates_app.models import Template, TemplateJob, Variant


def _variant(pk: int) -> Variant:
    return get_object_or_404(Variant.objects.select_related("template__channel"), pk=pk)


@require_POST
@require_role(Role.OPERATOR)
def variant_submit(request: HttpRequest, pk: int) -> HttpResponse:
    variant = _variant(pk)
    try:
        actions.submit(Actor.from_request(request), variant)
    except actions.Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Sent {variant} to CAMS for review.")
    return redirect(variant.get_absolute_url())


@require_POST
@require_role(Role.OPERATOR)
def variant_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    variant = _variant(pk)
    try:
        actions.refresh(Actor.from_request(request), variant)
    except actions.Refused as exc:
        messages.error(request, str(exc))
    return redirect(variant.get_absolute_url())


@require_role(Role.OPERATOR)
def variant_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes (in CAMS too, by a job, when CAMS has it)."""
    variant = _variant(pk)
    if request.method != "POST":
        context = {"template": variant.template, "variant": variant}
        return render(request, "templates_app/delete.html", context)
    template = variant.template
    try:
        job = actions.delete_language(Actor.from_request(request), variant)
    except actions.Refused as exc:
        messages.error(request, str(exc))
        return redirect(variant.get_absolute_url())
    if job is not None:
        messages.info(request, f"Deleting {variant} in CAMS.")
        return redirect(variant.get_absolute_url())
    messages.success(request, f"Deleted {variant}.")
    if Template.objects.filter(pk=template.pk).exists():
        return redirect(template)
    return redirect("template-list")


@require_role(Role.OPERATOR)
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(Template.objects.select_related("channel"), pk=pk)
    if request.method != "POST":
        return render(request, "templates_app/delete.html", {"template": template})
    try:
        job = actions.delete_template(Actor.from_request(request), template)
    except actions.Refused as exc:
        messages.error(request, str(exc))
        return redirect(template)
    if job is not None:
        messages.info(request, f"Deleting {template} in CAMS, in every language.")
        return redirect(template)
    messages.success(request, f"Deleted {template}.")
    return redirect("template-list")


@require_POST
@require_role(Role.OPERATOR)
def template_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(Template.objects.select_related("channel"), pk=pk)
    copy = actions.duplicate(Actor.from_request(request), template)
    messages.success(request, f"Made {copy}, a draft copy of {template}.")
    return redirect(copy)


@require_role(Role.OPERATOR)
def template_import(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, initial={"channel": request.GET.get("channel")})
    if request.method == "POST" and form.is_valid():
        try:
            job = actions.start_import(Actor.from_request(request), form.cleaned_data["channel"])
        except actions.Refused as exc:
            messages.error(request, str(exc))
        else:
            return redirect(f"{reverse('template-import')}?job={job.pk}")
    shown = TemplateJob.objects.filter(
        pk=request.GET.get("job") or 0, kind=TemplateJob.Kind.IMPORT
    ).first()
    status = 400 if request.method == "POST" else 200
    return render(request, "templates_app/import.html", {"form": form, "job": shown}, status=status)
