"""The design page: one form for a new template, an edit, and a new language; and the live
check the page calls while the operator types."""

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from camsconsole.audit import Actor
from camsconsole.roles import Role, require_role
from templates_app import actions, components
from templates_app.forms import DesignForm
from templates_app.models import Template, Variant, Version


def _page(
    request: HttpRequest,
    form: DesignForm,
    *,
    title: str,
    source: str = Version.Source.EDIT,
) -> HttpResponse:
    submitting = request.POST.get("action") == "submit"
    if request.method == "POST" and form.is_valid():
        if submitting and form.problems:
            messages.error(request, "Fix the problems below before submitting.")
        else:
            actor = Actor.from_request(request)
            variant = actions.save_design(
                actor, form, template=form.template, variant=form.variant, source=source
            )
            if not submitting:
                messages.success(request, f"Saved {variant} as version {variant.version}.")
                return redirect(variant.get_absolute_url())
            try:
                actions.submit(actor, variant)
            except actions.Refused as exc:
                messages.error(request, f"Saved, but not submitted: {exc}")
            else:
                messages.success(request, f"Saved {variant} and sent it to CAMS for review.")
            return redirect(variant.get_absolute_url())
    context: dict[str, Any] = {
        "form": form,
        "title": title,
        "palette": components.palette(),
        "state": {
            "components": _json(form["components"].value(), []),
            "example": _json(form["example"].value(), {}),
            "errors": form.error_list() if form.is_bound else [],
        },
        "validate_url": _validate_url(form),
        "cancel_url": form.variant.get_absolute_url() if form.variant else "",
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "templates_app/design.html", context, status=status)


def _json(value: Any, default: Any) -> Any:
    """The editor's state as it was posted, or as stored; what cannot be read starts empty."""
    try:
        decoded = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return default
    return decoded if isinstance(decoded, type(default)) else default


def _validate_url(form: DesignForm) -> str:
    url = reverse("template-validate")
    if form.variant is not None:
        return f"{url}?variant={form.variant.pk}"
    if form.template is not None:
        return f"{url}?template={form.template.pk}"
    return url


@require_role(Role.OPERATOR)
def template_create(request: HttpRequest) -> HttpResponse:
    initial = {"channel": request.GET.get("channel")} if request.GET.get("channel") else {}
    form = DesignForm(request.POST or None, initial=initial)
    return _page(request, form, title="New template")


@require_role(Role.OPERATOR)
def variant_edit(request: HttpRequest, pk: int) -> HttpResponse:
    variant = get_object_or_404(Variant.objects.select_related("template__channel"), pk=pk)
    form = DesignForm(request.POST or None, template=variant.template, variant=variant)
    return _page(request, form, title=f"Edit {variant}")


@require_role(Role.OPERATOR)
def variant_translate(request: HttpRequest, pk: int) -> HttpResponse:
    """A new language of the template, starting from this one's design."""
    source = get_object_or_404(Variant.objects.select_related("template__channel"), pk=pk)
    form = DesignForm(request.POST or None, template=source.template, source=source)
    title = f"New language of {source.template.name}, from {source.language}"
    return _page(request, form, title=title, source=Version.Source.TRANSLATE)


@require_POST
@require_role(Role.OPERATOR)
def template_validate(request: HttpRequest) -> JsonResponse:
    """Every error of the design as it stands, each with the field it belongs next to."""
    variant = template = None
    if request.GET.get("variant"):
        variant = get_object_or_404(Variant, pk=request.GET["variant"])
        template = variant.template
    elif request.GET.get("template"):
        template = get_object_or_404(Template, pk=request.GET["template"])
    form = DesignForm(request.POST, template=template, variant=variant)
    valid = form.is_valid()
    errors = form.error_list()
    return JsonResponse({"valid": valid and not errors, "errors": errors})
