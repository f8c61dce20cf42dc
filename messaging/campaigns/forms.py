"""The campaign pages' input boundary: the campaign itself, the recipient file, the column
mapping, and the recipients table's filters."""

import datetime
import zoneinfo
from typing import Any

import phonenumbers
from django import forms
from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.utils import timezone

from camsconsole.cams.rules.messages import check_mass_send
from camsconsole.models import Channel, Sender
from messaging.campaigns.models import MASS_BATCH_MAX, MASS_BATCH_MIN, Campaign, CampaignImport
from messaging.csv_import import guess_recipient_column
from messaging.forms import quick_replies, usable_channels, usable_senders, variables
from messaging.models import State
from templates_app.models import Status, Variant

FALLBACK_RULES = [("", "—"), ("undelivered", "undelivered"), ("sentFailed", "sentFailed")]
VIBER_LABELS = [("", "—"), ("promotion", "promotion"), ("transaction", "transaction")]
# Per-call options by their API names, and the form fields that hold them.
OPTION_FIELDS = {
    "FallBackId": "fallback_id",
    "FallBackContent": "fallback_content",
    "FallBackDuration": "fallback_duration",
    "FallBackRule": "fallback_rule",
    "Label": "viber_label",
    "Ttl": "viber_ttl",
    "Tag": "viber_tag",
}


def approved_variants(channel: Channel | None) -> Any:
    variants = Variant.objects.select_related("template").filter(
        status=Status.PASS, template__channel__is_active=True
    )
    if channel is not None:
        variants = variants.filter(template__channel=channel)
    return variants.order_by("template__name", "language")


class VariantChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.template.name} [{obj.language}]"


class CampaignForm(forms.ModelForm):
    """Create or edit a campaign. The channel narrows the sender and template lists (the page
    reloads them when it changes)."""

    variant = VariantChoice(queryset=Variant.objects.none(), label="Approved template")
    fallback_id = forms.CharField(label="FallBackId", required=False, max_length=64)
    fallback_content = forms.CharField(label="FallBackContent", required=False, max_length=500)
    fallback_duration = forms.IntegerField(
        label="FallBackDuration (s)", required=False, min_value=60, max_value=43200
    )
    fallback_rule = forms.ChoiceField(label="FallBackRule", required=False, choices=FALLBACK_RULES)
    viber_label = forms.ChoiceField(label="Viber Label", required=False, choices=VIBER_LABELS)
    viber_ttl = forms.IntegerField(
        label="Viber Ttl (s)", required=False, min_value=30, max_value=1209600
    )
    viber_tag = forms.CharField(label="Viber Tag", required=False, max_length=64)
    schedule_date = forms.DateField(
        label="Send on", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    schedule_time = forms.TimeField(
        label="at", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    schedule_timezone = forms.ChoiceField(label="Time zone", required=False)

    class Meta:
        model = Campaign
        fields = ["name", "channel", "sender", "variant", "mode", "batch_size"]
        labels = {"batch_size": "Recipients per mass call"}
        help_texts = {
            "batch_size": f"{MASS_BATCH_MIN} to {MASS_BATCH_MAX} (SendChatappMassMessage takes "
            f"at most {MASS_BATCH_MAX:,}).",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = usable_channels()  # type: ignore[attr-defined]
        channel = self._chosen_channel()
        senders = usable_senders()
        if channel is not None:
            senders = senders.filter(channel=channel)
        self.fields["sender"].queryset = senders  # type: ignore[attr-defined]
        self.fields["variant"].queryset = approved_variants(channel)  # type: ignore[attr-defined]
        zones = sorted(zoneinfo.available_timezones())
        zone_field: forms.ChoiceField = self.fields["schedule_timezone"]  # type: ignore[assignment]
        zone_field.choices = [(zone, zone) for zone in zones]
        self.fields["schedule_timezone"].initial = settings.TIME_ZONE
        campaign: Campaign = self.instance
        for name, field in OPTION_FIELDS.items():
            if name in (campaign.options or {}):
                self.fields[field].initial = campaign.options[name]
        if campaign.scheduled_at:
            zone = zoneinfo.ZoneInfo(campaign.schedule_timezone or settings.TIME_ZONE)
            local = campaign.scheduled_at.astimezone(zone)
            self.fields["schedule_date"].initial = local.date()
            self.fields["schedule_time"].initial = local.time().replace(second=0, microsecond=0)
            self.fields["schedule_timezone"].initial = zone.key

    def _chosen_channel(self) -> Channel | None:
        raw = self.data.get("channel") if self.is_bound else None
        if raw:
            return Channel.objects.filter(pk=raw).first() if str(raw).isdigit() else None
        if self.instance.channel_id:
            return self.instance.channel
        return None

    def clean_batch_size(self) -> int:
        size = int(self.cleaned_data["batch_size"] or MASS_BATCH_MAX)
        if not MASS_BATCH_MIN <= size <= MASS_BATCH_MAX:
            raise forms.ValidationError(
                f"Between {MASS_BATCH_MIN} and {MASS_BATCH_MAX:,} recipients a call."
            )
        return size

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        channel: Channel | None = data.get("channel")
        sender: Sender | None = data.get("sender")
        variant: Variant | None = data.get("variant")
        if channel and sender and sender.channel_id != channel.pk:
            self.add_error("sender", "This sender belongs to another channel.")
        if channel and variant and variant.template.channel_id != channel.pk:
            self.add_error("variant", "This template belongs to another channel.")
        options = {
            name: data.get(field)
            for name, field in OPTION_FIELDS.items()
            if data.get(field) not in (None, "")
        }
        if channel and channel.channel_type != "viber":
            for name in ("Label", "Ttl", "Tag"):
                if name in options:
                    self.add_error(OPTION_FIELDS[name], "Only Viber campaigns take this option.")
                    options.pop(name)
        if channel and sender and variant and not self.errors:
            self._check_rules(channel, sender, variant, options)
        self.instance.options = options
        self.instance.scheduled_at = self._scheduled_at(data)
        self.instance.schedule_timezone = data.get("schedule_timezone") or ""
        return data

    def _check_rules(
        self, channel: Channel, sender: Sender, variant: Variant, options: dict[str, Any]
    ) -> None:
        """The same rules the sandbox applies to SendChatappMassMessage (rules.py)."""
        sample = "6590000000" if channel.channel_type in ("whatsapp", "viber") else "1234567890"
        params = {
            "ChannelType": channel.channel_type,
            "From": sender.sender_id,
            "Language": variant.language,
            "TemplateCode": variant.template_code or "pending",
            "SenderList": [{"To": sample}],
            **options,
        }
        fields = {api: form for api, form in OPTION_FIELDS.items()}
        for error in check_mass_send(params):
            name = (error.field or "").split(".")[0].split("[")[0]
            self.add_error(fields.get(name), error.message)

    def _scheduled_at(self, data: dict[str, Any]) -> datetime.datetime | None:
        day, moment = data.get("schedule_date"), data.get("schedule_time")
        if not day and not moment:
            return None
        if not (day and moment):
            self.add_error("schedule_time", "Give both a date and a time, or neither.")
            return None
        zone = zoneinfo.ZoneInfo(data.get("schedule_timezone") or settings.TIME_ZONE)
        when = datetime.datetime.combine(day, moment, tzinfo=zone)
        if when <= timezone.now() and not self.instance.pk:
            self.add_error("schedule_date", "The scheduled time has passed.")
        return when


class CappedUpload(FileUploadHandler):
    """Stops reading an upload as soon as it passes the size limit, so an oversized file is
    refused without first landing on disk in full. Goes first in request.upload_handlers, in
    front of Django's own handlers (memory for small files, a temporary file for the rest)."""

    def __init__(self, limit: int, request: Any = None) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def handle_raw_input(
        self, input_data: Any, meta: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> None:
        if content_length and content_length > self.limit + 64 * 1024:
            self.exceeded = True
            raise StopUpload(connection_reset=False)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


class UploadForm(forms.Form):
    file = forms.FileField(label="Recipients (CSV)")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.CAMPAIGN_UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is larger than the {limit // (1024 * 1024)} MB allowed."
            )
        return upload


def region_choices() -> list[tuple[str, str]]:
    choices = [("", "None: numbers are international (with or without +)")]
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        code = phonenumbers.country_code_for_region(region)
        choices.append((region, f"{region} (+{code})"))
    return choices


class MappingForm(forms.Form):
    """Which column holds the numbers, which fill the template's variables and payloads."""

    default_region = forms.ChoiceField(
        label="Default country for national numbers", required=False, choices=()
    )

    def __init__(self, imp: CampaignImport, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.imp = imp
        campaign = imp.campaign
        columns = [(str(index), name) for index, name in enumerate(imp.columns)]
        ids = campaign.channel.channel_type in ("messenger", "instagram")
        self.fields["recipient"] = forms.ChoiceField(
            label="Recipient id column" if ids else "Phone number column", choices=columns
        )
        guess = guess_recipient_column(imp.columns)
        self.fields["recipient"].initial = str(guess if guess is not None else 0)
        if ids:
            del self.fields["default_region"]
        else:
            regions: forms.ChoiceField = self.fields["default_region"]  # type: ignore[assignment]
            regions.choices = region_choices()
        self.variable_names: list[str] = []
        self.payload_names: list[str] = []
        others = [index for index, _ in enumerate(imp.columns) if index != guess]
        variant = campaign.variant
        for position, number in enumerate(variables(variant) if variant else []):
            name = f"var_{number}"
            self.fields[name] = forms.ChoiceField(label=f"{{{{{number}}}}}", choices=columns)
            if position < len(others):
                self.fields[name].initial = str(others[position])
            self.variable_names.append(name)
        optional = [("", "— no payload —"), *columns]
        for position, reply in enumerate(quick_replies(variant) if variant else []):
            name = f"payload_{position}"
            self.fields[name] = forms.ChoiceField(
                label=f"Payload of “{reply.text}”", choices=optional, required=False
            )
            self.payload_names.append(name)

    def mapping(self) -> dict[str, Any]:
        data = self.cleaned_data
        payload = [int(data[name]) for name in self.payload_names if data.get(name)]
        return {
            "recipient": int(data["recipient"]),
            "variables": {name[4:]: int(data[name]) for name in self.variable_names},
            "payload": payload,
            "default_region": data.get("default_region") or "",
        }


class RecipientFilterForm(forms.Form):
    state = forms.ChoiceField(
        required=False, choices=[("", "Any state"), *State.choices], label="State"
    )
    to = forms.CharField(required=False, label="To starts with", max_length=32)

    def clean_to(self) -> str:
        value: str = self.cleaned_data.get("to") or ""
        return "".join(ch for ch in value if ch.isdigit())
