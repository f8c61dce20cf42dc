"""Every state change of accounts, channels, senders and users, each with its audit event
written in the same transaction. Views call these and never save these rows themselves."""

from typing import Any

from django.db import transaction
from django.forms import ModelForm
from django.utils import timezone

from camsconsole.audit import SYSTEM, Actor, record, snapshot
from camsconsole.cams.errors import CamsError
from camsconsole.models import Account, Channel, Sender, new_hook_token
from camsconsole.queue import enqueue_on_commit
from camsconsole.roles import Role, assign_role, granted_role


@transaction.atomic
def save_form(actor: Actor, form: ModelForm, extra_after: dict[str, Any] | None = None) -> Any:
    """Create or edit the form's object and record `<model>.create` or `<model>.edit`."""
    obj = form.instance
    creating = obj._state.adding
    before = None if creating else snapshot(type(obj)._default_manager.get(pk=obj.pk))
    obj = form.save()
    after = snapshot(obj) | (extra_after or {})
    verb = f"{obj._meta.model_name}.{'create' if creating else 'edit'}"
    record(actor, verb, obj, before=before, after=after)
    return obj


@transaction.atomic
def set_active(actor: Actor, obj: Account | Channel | Sender, active: bool) -> None:
    """Disable or re-enable: nothing that may have been used is ever hard-deleted."""
    locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
    if locked.is_active == active:
        return
    before = snapshot(locked)
    locked.is_active = active
    locked.save(update_fields=["is_active", "updated_at"])
    verb = f"{obj._meta.model_name}.{'enable' if active else 'disable'}"
    record(actor, verb, locked, before=before, after=snapshot(locked))


@transaction.atomic
def save_account(actor: Actor, form: ModelForm, new_secret: str | None) -> Account:
    if new_secret:
        form.instance.set_secret(new_secret)
    # The history says that the secret changed, never what it is.
    return save_form(actor, form, {"access_key_secret": "changed"} if new_secret else None)


@transaction.atomic
def start_connection_check(actor: Actor, account: Account) -> None:
    Account.objects.filter(pk=account.pk).update(checked_at=None, check_ok=None, check_message="")
    record(actor, "account.test_connection", account)
    # By dotted name: the jobs module imports this one.
    enqueue_on_commit("camsconsole.jobs.check_connection", account.pk)


def finish_connection_check(account: Account) -> None:
    """Ask CAMS for one template: the cheapest read that proves endpoint and credentials."""
    try:
        account.client().list_templates(page_index=1, page_size=1)
    except CamsError as exc:
        ok, message = False, f"{exc.code}: {exc.message}"
    else:
        ok, message = True, "CAMS accepted the credentials."
    with transaction.atomic():
        Account.objects.filter(pk=account.pk).update(
            checked_at=timezone.now(), check_ok=ok, check_message=message[:500]
        )
        record(SYSTEM, "account.connection_checked", account, after={"ok": ok, "message": message})


@transaction.atomic
def rotate_hook_token(actor: Actor, channel: Channel) -> None:
    """The old token keeps working until the next rotation, so CAMS can be repointed at leisure."""
    locked = Channel.objects.select_for_update().get(pk=channel.pk)
    locked.hook_token_previous = locked.hook_token
    locked.hook_token = new_hook_token()
    locked.save(update_fields=["hook_token", "hook_token_previous", "updated_at"])
    # Tokens are credentials: the history records the rotation, not the values.
    record(actor, "channel.rotate_token", locked)


def _user_snapshot(user: Any) -> dict[str, Any]:
    role = granted_role(user)
    return snapshot(user, ("username", "email", "is_active")) | {
        "role": role.group_name if role else None
    }


@transaction.atomic
def save_user(actor: Actor, form: ModelForm, role: Role, password: str | None) -> Any:
    user = form.instance
    creating = user._state.adding
    before = None if creating else _user_snapshot(type(user).objects.get(pk=user.pk))
    if password:
        user.set_password(password)
    user = form.save()
    assign_role(user, role)
    after = _user_snapshot(user) | ({"password": "changed"} if password else {})
    record(actor, f"user.{'create' if creating else 'edit'}", user, before=before, after=after)
    return user


@transaction.atomic
def set_user_active(actor: Actor, user: Any, active: bool) -> None:
    if user.is_active == active:
        return
    before = _user_snapshot(user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    verb = "user.enable" if active else "user.disable"
    record(actor, verb, user, before=before, after=_user_snapshot(user))


def record_export(actor: Actor, what: str, filters: dict[str, Any]) -> None:
    """Exports change nothing, but who took which data out belongs in the history."""
    record(actor, f"{what}.export", after={"filters": filters})
