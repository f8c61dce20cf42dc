"""Input boundary for accounts, channels, senders, users and the history filter."""

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password

from camsconsole.cams import rules
from camsconsole.cams.limits import DOCUMENTED_QPS
from camsconsole.models import DEFAULT_ENDPOINT, Account, Channel, Sender
from camsconsole.roles import Role

QPS_PREFIX = "qps_"


class AccountForm(forms.ModelForm):
    endpoint = forms.URLField(
        assume_scheme="https",
        initial=DEFAULT_ENDPOINT,
        help_text="CAMS: https://cams.ap-southeast-1.aliyuncs.com. The local sandbox: "
        "http://127.0.0.1:8900.",
    )
    # Write-only: never rendered back (render_value=False); blank on edit keeps the stored one.
    access_key_secret = forms.CharField(
        label="AccessKey secret",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        required=False,
        strip=True,
    )

    class Meta:
        model = Account
        fields = ("name", "endpoint", "access_key_id")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        editing = self.instance.pk is not None
        self.fields["access_key_secret"].required = not editing
        if editing:
            self.fields[
                "access_key_secret"
            ].help_text = f"Stored: {self.instance.masked_secret}. Leave blank to keep it."
        for operation, documented in DOCUMENTED_QPS.items():
            self.fields[QPS_PREFIX + operation] = forms.IntegerField(
                label=f"{operation} QPS",
                min_value=1,
                max_value=100_000,
                initial=self.instance.qps(operation) if editing else documented,
                help_text=f"Documented: {documented}/s",
            )

    def qps_fields(self) -> list[forms.BoundField]:
        return [self[QPS_PREFIX + operation] for operation in DOCUMENTED_QPS]

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("name", "endpoint", "access_key_id", "access_key_secret")]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        limits = {op: data.get(QPS_PREFIX + op) for op in DOCUMENTED_QPS}
        if all(limits.values()):
            self.instance.qps_limits = limits
        return data


class ChannelForm(forms.ModelForm):
    class Meta:
        model = Channel
        fields = ("account", "channel_type", "cust_space_id", "name")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.filter(is_active=True)  # type: ignore[attr-defined]
        # Senders' ids are validated per channel type, so the type is fixed once there are any.
        if self.instance.pk and self.instance.senders.exists():
            self.fields["channel_type"].disabled = True
            self.fields["channel_type"].help_text = "Fixed: this channel has senders."


class SenderForm(forms.ModelForm):
    class Meta:
        model = Sender
        fields = (
            "channel",
            "sender_id",
            "display_name",
            "status",
            "quality_rating",
            "messaging_tier",
        )
        help_texts = {
            "sender_id": "WhatsApp: phone number in international form, digits only "
            "(e.g. 6591234567). Viber: service id. Messenger: Facebook page id. "
            "Instagram: Instagram account id."
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.filter(is_active=True)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        channel, sender_id = data.get("channel"), data.get("sender_id")
        if channel and sender_id:
            error = rules.check_sender_id(channel.channel_type, sender_id)
            if error:
                self.add_error("sender_id", error.message)
        return data


class UserForm(forms.ModelForm):
    role = forms.ChoiceField(choices=Role.choices())
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        required=False,
        strip=False,
    )

    class Meta:
        model = get_user_model()
        fields = ("username", "email")

    def __init__(self, *args: Any, role: Role | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = False
        if role:
            self.fields["role"].initial = role.group_name
        if self.instance.pk:
            self.fields["password"].help_text = "Leave blank to keep the current password."
        else:
            self.fields["password"].required = True

    def clean_role(self) -> Role:
        return Role.from_name(self.cleaned_data["role"])

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password") or ""
        if password:
            validate_password(password, self.instance)
        return password


class HistoryFilterForm(forms.Form):
    actor = forms.CharField(required=False)
    verb = forms.CharField(required=False)
    object_type = forms.CharField(required=False, label="Object type")
    object_id = forms.CharField(required=False, widget=forms.HiddenInput)
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data
