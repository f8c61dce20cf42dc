"""The one add-or-edit page every console object uses."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render


def form_page(
    request: HttpRequest,
    form: BaseForm,
    *,
    title: str,
    save: Callable[[], Any],
    template: str = "camsconsole/form.html",
    cancel_url: str = "",
    done_url: Callable[[Any], str] = lambda obj: obj.get_absolute_url(),
) -> HttpResponse:
    """Render `form`; on a valid POST call `save()` (an action) and go to the saved object."""
    if request.method == "POST" and form.is_valid():
        obj = save()
        messages.success(request, f"Saved {obj}.")
        return redirect(done_url(obj))
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "title": title, "cancel_url": cancel_url}
    return render(request, template, context, status=status)
