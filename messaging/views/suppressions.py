"""The suppression list: who must not get messages from which number."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from camsconsole.audit import Actor
from camsconsole.roles import Role, has_role, require_role
from messaging import actions
from messaging.forms import SuppressionForm
from messaging.models import Suppression

PAGE_SIZE = 200


@require_role(Role.VIEWER)
def suppression_list(request: HttpRequest) -> HttpResponse:
    rows = Suppression.objects.select_related("channel")
    show = request.GET.get("show", "active")
    if show != "all":
        rows = rows.filter(active=True)
    user = (request.GET.get("user") or "").strip().lstrip("+")
    if user:
        rows = rows.filter(user=user)
    form = SuppressionForm() if has_role(request.user, Role.OPERATOR) else None
    # Not "user": that would hide the logged-in user (and the navigation) from base.html.
    context = {"rows": rows[:PAGE_SIZE], "form": form, "show": show, "user_filter": user}
    return render(request, "messaging/suppressions.html", context)


@require_role(Role.OPERATOR)
def suppression_add(request: HttpRequest) -> HttpResponse:
    form = SuppressionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        entry = actions.suppress(
            Actor.from_request(request), data["sender"], data["user"], data["reason"]
        )
        messages.success(request, f"{entry.user} will get nothing from {entry.business_number}.")
        return redirect("suppression-list")
    return render(request, "messaging/suppression_form.html", {"form": form})


@require_POST
@require_role(Role.OPERATOR)
def suppression_lift(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(Suppression, pk=pk)
    actions.lift(Actor.from_request(request), entry)
    messages.success(request, f"{entry.user} may get messages from {entry.business_number} again.")
    return redirect("suppression-list")
