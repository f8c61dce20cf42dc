"""Reading templates: the list, a template's page, a language's versions, live status."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from camsconsole import history
from camsconsole.roles import Role, require_role
from templates_app import components, preview, versions
from templates_app.forms import FilterForm
from templates_app.models import MODIFIABLE, Template, TemplateJob, Variant

PAGE_SIZE = 50


@require_role(Role.VIEWER)
def template_list(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    variants = form.filter(
        Variant.objects.select_related("template__channel__account").order_by(
            "template__name", "language"
        )
    )
    usable = set(variants.usable().values_list("pk", flat=True))
    page = Paginator(variants, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "usable": usable, "query": query.urlencode()}
    return render(request, "templates_app/list.html", context)


def _status_context(variant: Variant) -> dict[str, object]:
    jobs = list(variant.jobs.all()[:3])
    whatsapp = variant.template.template_type == "WHATSAPP"
    return {
        "variant": variant,
        "jobs": jobs,
        "polling": variant.in_review or any(not job.finished for job in jobs),
        "problems": components.problems(variant.template, variant),
        # CAMS changes a template only before review or after a rejection (reference §3.5).
        "can_submit": not variant.template_code or (whatsapp and variant.status in MODIFIABLE),
    }


@require_role(Role.VIEWER)
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(Template.objects.select_related("channel__account"), pk=pk)
    variants = list(template.variants.all())
    chosen = next((v for v in variants if v.language == request.GET.get("language")), None)
    variant = chosen or (variants[0] if variants else None)
    context: dict[str, object] = {
        "template": template,
        "variants": variants,
        "events": history.for_object(template),
        "template_jobs": template.jobs.filter(variant=None)[:3],
    }
    if variant is not None:
        context |= _status_context(variant)
        context["preview"] = preview.build(
            template.template_type, template.category, variant.components, variant.example
        )
    return render(request, "templates_app/detail.html", context)


@require_role(Role.VIEWER)
def variant_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The review status and CAMS jobs of one language, polled by htmx while they move."""
    variant = get_object_or_404(Variant.objects.select_related("template__channel"), pk=pk)
    context = _status_context(variant)
    response = render(request, "templates_app/_status.html", context)
    if request.headers.get("HX-Request") and not context["polling"]:
        # Settled: reload the page once, so everything on it (tabs, buttons) shows the outcome.
        response["HX-Refresh"] = "true"
    return response


@require_role(Role.VIEWER)
def variant_versions(request: HttpRequest, pk: int) -> HttpResponse:
    variant = get_object_or_404(Variant.objects.select_related("template__channel"), pk=pk)
    context = {
        "variant": variant,
        "template": variant.template,
        "versions": versions.history(variant),
    }
    return render(request, "templates_app/versions.html", context)


@require_role(Role.VIEWER)
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    """One job's progress, polled by htmx until it ends (the import page uses it)."""
    job = get_object_or_404(TemplateJob.objects.select_related("channel"), pk=pk)
    return render(request, "templates_app/_job.html", {"job": job, "poll": True})
