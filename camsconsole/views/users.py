"""Users and their roles (admins only)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from camsconsole import actions, history
from camsconsole.audit import Actor
from camsconsole.forms import UserForm
from camsconsole.roles import Role, granted_role, require_role
from camsconsole.views.forms import form_page

User = get_user_model()


@require_role(Role.ADMIN)
def user_list(request: HttpRequest) -> HttpResponse:
    users = User.objects.prefetch_related("groups").order_by("username")
    rows = [(user, granted_role(user)) for user in users]
    return render(request, "camsconsole/user_list.html", {"rows": rows})


@require_role(Role.ADMIN)
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    context = {
        "subject": user,
        "subject_role": granted_role(user),
        "events": history.for_object(user),
    }
    return render(request, "camsconsole/user_detail.html", context)


@require_role(Role.ADMIN)
def user_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = get_object_or_404(User, pk=pk) if pk else User()
    form = UserForm(request.POST or None, instance=user, role=granted_role(user) if pk else None)
    return form_page(
        request,
        form,
        title=f"Edit {user}" if pk else "New user",
        save=lambda: actions.save_user(
            Actor.from_request(request),
            form,
            form.cleaned_data["role"],
            form.cleaned_data["password"],
        ),
        done_url=lambda saved: reverse("user-detail", args=[saved.pk]),
    )


@require_POST
@require_role(Role.ADMIN)
def user_toggle_active(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    active = request.POST.get("active") == "1"
    if user == request.user and not active:
        messages.error(request, "You cannot disable your own account.")
    else:
        actions.set_user_active(Actor.from_request(request), user, active)
        messages.success(request, f"{'Enabled' if active else 'Disabled'} {user}.")
    return redirect("user-detail", pk=user.pk)
