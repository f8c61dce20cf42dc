"""The audit history: browse with filters and keyset pages, export as CSV."""

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from camsconsole import actions, history
from camsconsole.audit import Actor
from camsconsole.csv_export import csv_response
from camsconsole.forms import HistoryFilterForm
from camsconsole.roles import Role, require_role


def _filters(request: HttpRequest) -> tuple[HistoryFilterForm, dict]:
    form = HistoryFilterForm(request.GET or None)
    return form, (form.cleaned_data if form.is_valid() else {})


@require_role(Role.VIEWER)
def history_list(request: HttpRequest) -> HttpResponse:
    form, data = _filters(request)
    try:
        before = int(request.GET["before"]) if request.GET.get("before") else None
    except ValueError:
        before = None
    page = history.page(history.filtered(data), before)
    query = request.GET.copy()
    query.pop("before", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "camsconsole/history.html", context)


@require_role(Role.VIEWER)
def history_export(request: HttpRequest) -> StreamingHttpResponse:
    _form, data = _filters(request)
    actions.record_export(Actor.from_request(request), "history", request.GET.dict())
    events = history.filtered(data).order_by("-id")
    header = [
        "time",
        "actor",
        "ip",
        "verb",
        "object_type",
        "object_id",
        "object",
        "before",
        "after",
    ]
    rows = (
        [
            e.created_at.isoformat(),
            e.actor_label,
            e.ip,
            e.verb,
            e.object_type,
            e.object_id,
            e.object_label,
            e.before,
            e.after,
        ]
        for e in events.iterator(chunk_size=2000)
    )
    return csv_response("audit-history.csv", header, rows)
