"""Input boundary of messaging: the Send Message form, the reply box, the list filter and the
suppression form.

The send form grows the fields the chosen channel, Type, template and MessageType need (the page
re-renders it through htmx when one of those changes). Its `build()` composes the unsaved
Message, and validation runs `rules.check_send_message` on exactly the parameters that message
will send, putting each broken rule next to the field it is about.
"""

import json
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.urls import reverse

from camsconsole.cams import rules
from camsconsole.cams.rules.params import is_blank
from camsconsole.models import Channel, Sender
from messaging import compose, suppression, windows
from messaging.models import Kind, Message, State
from templates_app import components
from templates_app.forms import styled
from templates_app.models import Template, Variant

FALLBACK_RULES = [
    ("", "Default (undelivered)"),
    ("undelivered", "undelivered: when not delivered"),
    ("sentFailed", "sentFailed: also when the template or variables fail validation"),
]
VIBER_LABELS = [("transaction", "transaction"), ("promotion", "promotion")]
RECIPIENT_TYPES = [("", "individual (default)"), ("group", "group"), ("userId", "userId (BSUID)")]

# Fields that re-render the form when they change (see send.html).
REFRESHING = ("channel", "sender", "kind", "template", "language", "message_type")

# API parameter -> form field, for putting rule errors where they belong.
PARAMETER_FIELDS = {
    "ChannelType": "channel",
    "From": "sender",
    "To": "to",
    "Type": "kind",
    "MessageType": "message_type",
    "TemplateCode": "template",
    "TemplateName": "template",
    "Language": "language",
    "Payload": "payload_0",
    "ContextMessageId": "context_message_id",
    "FallBackId": "fallback_id",
    "FallBackContent": "fallback_content",
    "FallBackDuration": "fallback_duration",
    "FallBackRule": "fallback_rule",
    "Label": "label",
    "Ttl": "ttl",
    "TrackingData": "tracking_data",
    "Tag": "tag",
    "ProductAction": "product_action",
    "FlowAction": "flow_action_data",
    "RecipientType": "recipient_type",
}
# Advanced parameters: form field -> API name, and which channels have them.
OPTIONS = {
    "context_message_id": "ContextMessageId",
    "fallback_id": "FallBackId",
    "fallback_content": "FallBackContent",
    "fallback_duration": "FallBackDuration",
    "fallback_rule": "FallBackRule",
    "label": "Label",
    "ttl": "Ttl",
    "tracking_data": "TrackingData",
    "tag": "Tag",
    "product_action": "ProductAction",
    "recipient_type": "RecipientType",
}
VIBER_ONLY = ("label", "ttl", "tracking_data", "tag")
WHATSAPP_ONLY = ("product_action", "flow_token", "flow_action_data", "recipient_type")


class JsonObjectField(forms.CharField):
    """A JSON object typed into a textarea; cleans to a dict (None when blank)."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            return None
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"This is not valid JSON: {exc}.") from exc
        if not isinstance(parsed, dict):
            raise forms.ValidationError('Give a JSON object, in braces: {"key": "value"}.')
        return parsed

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False)
        return value


def usable_senders() -> QuerySet[Sender]:
    return Sender.objects.filter(
        is_active=True, channel__is_active=True, channel__account__is_active=True
    ).select_related("channel")


def usable_channels() -> QuerySet[Channel]:
    return Channel.objects.filter(
        is_active=True, account__is_active=True, senders__is_active=True
    ).distinct()


def usable_variants(channel: Channel) -> QuerySet[Variant]:
    return (
        Variant.objects.usable()
        .filter(template__channel=channel)
        .exclude(template_code="")
        .select_related("template")
    )


@dataclass(frozen=True)
class QuickReply:
    index: int
    text: str


def quick_replies(variant: Variant) -> list[QuickReply]:
    """The template's QUICK_REPLY buttons, in order: one Payload each (reference §3.2)."""
    buttons = components.by_type(variant.components).get("BUTTONS", {}).get("Buttons") or []
    replies = [b for b in buttons if isinstance(b, dict) and b.get("Type") == "QUICK_REPLY"]
    return [QuickReply(index, str(b.get("Text") or "")) for index, b in enumerate(replies)]


def variables(variant: Variant) -> list[int]:
    return components.variables(variant.components)


class SendForm(forms.Form):
    channel = forms.ModelChoiceField(queryset=Channel.objects.none(), empty_label="Choose…")
    sender = forms.ModelChoiceField(
        queryset=Sender.objects.none(), label="From", empty_label="Choose…"
    )
    to = forms.CharField(
        label="To",
        max_length=64,
        help_text="WhatsApp and Viber: the phone number in international form, digits only "
        "(6591234567). Messenger: the user's PSID. Instagram: the user's IGSID.",
    )
    kind = forms.ChoiceField(
        label="Type", choices=Kind.choices, initial=Kind.TEMPLATE, widget=forms.RadioSelect
    )
    context_message_id = forms.CharField(
        label="ContextMessageId",
        required=False,
        max_length=64,
        help_text="Reply to this message: its MessageId.",
    )
    fallback_id = forms.CharField(label="FallBackId", required=False, max_length=64)
    fallback_content = forms.CharField(
        label="FallBackContent",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    fallback_duration = forms.IntegerField(
        label="FallBackDuration (seconds)",
        required=False,
        min_value=rules.FALLBACK_DURATION.low,
        max_value=rules.FALLBACK_DURATION.high,
        help_text="Fall back to SMS when no Delivered receipt comes within this time "
        "(60 to 43,200).",
    )
    fallback_rule = forms.ChoiceField(label="FallBackRule", choices=FALLBACK_RULES, required=False)
    label = forms.ChoiceField(label="Label", choices=VIBER_LABELS, initial="transaction")
    ttl = forms.IntegerField(
        label="Ttl (seconds)",
        required=False,
        min_value=rules.VIBER_TTL.low,
        max_value=rules.VIBER_TTL.high,
        help_text="How long Viber keeps trying to deliver (30 to 1,209,600).",
    )
    tracking_data = forms.CharField(label="TrackingData", required=False, max_length=200)
    tag = forms.CharField(label="Tag", required=False, max_length=100)
    product_action = JsonObjectField(
        label="ProductAction (JSON)",
        required=False,
        help_text='{"ThumbnailProductRetailerId": "...", "Sections": [{"Title": "...", '
        '"ProductItems": [{"ProductRetailerId": "..."}]}]}',
    )
    flow_token = forms.CharField(label="FlowAction: FlowToken", required=False, max_length=200)
    flow_action_data = JsonObjectField(label="FlowAction: FlowActionData (JSON)", required=False)
    recipient_type = forms.ChoiceField(
        label="RecipientType", choices=RECIPIENT_TYPES, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        channels = usable_channels()
        cast(forms.ModelChoiceField, self.fields["channel"]).queryset = channels
        self.chosen_channel: Channel | None = self._chosen("channel", channels)
        senders = (
            usable_senders().filter(channel=self.chosen_channel) if self.chosen_channel else None
        )
        cast(forms.ModelChoiceField, self.fields["sender"]).queryset = (
            senders if senders is not None else Sender.objects.none()
        )
        self.chosen_sender: Sender | None = self._chosen("sender", senders) if senders else None
        if senders is not None and self.chosen_sender is None and len(senders) == 1:
            self.chosen_sender = senders[0]
            self.initial["sender"] = self.chosen_sender.pk
        self.channel_type = self.chosen_channel.channel_type if self.chosen_channel else ""
        self.chosen_kind = self._raw("kind") or Kind.TEMPLATE
        self.template: Template | None = None
        self.variant: Variant | None = None
        self.variables: list[int] = []
        self.replies: list[QuickReply] = []
        self.inputs: tuple[compose.Input, ...] = ()
        self.message_type = ""
        self.has_templates = False
        if self.chosen_channel is not None and self.chosen_kind == Kind.TEMPLATE:
            self._template_fields(self.chosen_channel)
        elif self.chosen_channel is not None and self.chosen_kind == Kind.MESSAGE:
            self._message_fields(self.channel_type)
        for name in VIBER_ONLY:
            if self.channel_type != "viber":
                del self.fields[name]
        for name in WHATSAPP_ONLY:
            if self.channel_type != "whatsapp":
                del self.fields[name]
        refresh = {
            "hx-get": reverse("message-send"),
            "hx-include": "#send-form",
            "hx-target": "#send-form",
            "hx-select": "#send-form",
            "hx-swap": "outerHTML",
            "hx-sync": "#send-form:replace",
        }
        for name in REFRESHING:
            if name in self.fields:
                self.fields[name].widget.attrs.update(refresh)
        self.fields["to"].widget.attrs.update(
            {
                "hx-get": reverse("message-window"),
                "hx-trigger": "load, input changed delay:400ms",
                "hx-include": "#send-form [name=sender], #send-form [name=to]",
                "hx-target": "#window-state",
                "autocomplete": "off",
            }
        )
        styled(self)
        self.fields["kind"].widget.attrs["class"] = "form-check-input"

    # -- reading what was chosen so far (bound or not) -------------------------------------

    def _raw(self, name: str) -> str:
        value = self.data.get(self.add_prefix(name)) if self.is_bound else self.initial.get(name)
        if value is None and not self.is_bound:
            value = self.fields[name].initial if name in self.fields else None
        return "" if value is None else str(value).strip()

    def _chosen(self, name: str, queryset: QuerySet[Any] | None) -> Any:
        raw = self._raw(name)
        if queryset is None or not raw.isdigit():
            return None
        return queryset.filter(pk=int(raw)).first()

    def _template_fields(self, channel: Channel) -> None:
        variants = list(usable_variants(channel).order_by("template__name", "language"))
        templates = {variant.template_id: variant.template for variant in variants}
        self.has_templates = bool(templates)
        self.fields["template"] = forms.ChoiceField(
            label="Template",
            choices=[("", "Choose…")] + [(str(pk), t.name) for pk, t in templates.items()],
            help_text="Approved templates of this channel.",
        )
        raw = self._raw("template")
        self.template = templates.get(int(raw)) if raw.isdigit() else None
        if self.template is None and len(templates) == 1:
            self.template = next(iter(templates.values()))
            self.initial["template"] = str(self.template.pk)
        if self.template is None:
            return
        languages = [v for v in variants if v.template_id == self.template.pk]
        self.fields["language"] = forms.ChoiceField(
            label="Language",
            choices=[("", "Choose…")] + [(v.language, v.language) for v in languages],
        )
        chosen = self._raw("language")
        self.variant = next((v for v in languages if v.language == chosen), None)
        if self.variant is None and len(languages) == 1:
            self.variant = languages[0]
            self.initial["language"] = self.variant.language
        if self.variant is None:
            return
        self.variables = variables(self.variant)
        for number in self.variables:
            self.fields[f"var_{number}"] = forms.CharField(
                label=f"Variable {{{{{number}}}}}",
                max_length=1024,
                widget=forms.TextInput(attrs={"data-variable": str(number)}),
            )
        self.replies = quick_replies(self.variant)
        for reply in self.replies:
            self.fields[f"payload_{reply.index}"] = forms.CharField(
                label=f"Payload of “{reply.text}”",
                required=False,
                max_length=1000,
                help_text="Comes back when the user taps the button; the button's text if empty.",
            )

    def _message_fields(self, channel_type: str) -> None:
        types = compose.message_types(channel_type)
        self.fields["message_type"] = forms.ChoiceField(
            label="MessageType", choices=[("", "Choose…")] + [(t, t) for t in types]
        )
        self.message_type = self._raw("message_type")
        if self.message_type not in types:
            self.message_type = ""
            return
        self.inputs = compose.inputs(channel_type, self.message_type)
        for item in self.inputs:
            self.fields[item.field_name] = _field_for(item)

    # -- validation ------------------------------------------------------------------------

    @property
    def content_fields(self) -> list[forms.BoundField]:
        return [self[item.field_name] for item in self.inputs]

    @property
    def variable_fields(self) -> list[forms.BoundField]:
        return [self[f"var_{number}"] for number in self.variables]

    @property
    def payload_fields(self) -> list[forms.BoundField]:
        return [self[f"payload_{reply.index}"] for reply in self.replies]

    def clean_to(self) -> str:
        return str(self.cleaned_data["to"]).strip()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        sender = self.chosen_sender
        if sender is None or "to" not in data:
            return data
        if self.chosen_kind == Kind.TEMPLATE and self.variant is None:
            if "template" not in self.errors and "language" not in self.errors:
                self.add_error("template", "Choose an approved template and its language.")
            return data
        # The rules judge what would be sent, also when some fields are still wrong, so the
        # operator sees every problem at once (each field keeps its own error first).
        message = self.build()
        for problem in rules.check_send_message(message.api_params()):
            self._add_rule_error(problem)
        if self.errors:
            return data
        if suppression.is_suppressed(sender, message.to):
            self.add_error(
                "to",
                f"{message.to} is on this number's suppression list (opted out); remove them "
                "from the list first if they asked to hear from you again.",
            )
        refusal = windows.refusal(sender, message.to, message.kind)
        if refusal:
            self.add_error("kind", refusal)
        return data

    def _add_rule_error(self, problem: rules.RuleError) -> None:
        head, _, rest = problem.field.partition(".")
        name: str | None = None
        if head == "Content":
            key = rest.split(".")[0].split("[")[0]
            candidates = [f"content_{key}", f"content_{compose.RAW}"]
            name = next((c for c in candidates if c in self.fields), None)
        elif head == "TemplateParams" and rest:
            name = f"var_{rest}"
        else:
            name = PARAMETER_FIELDS.get(head.split("[")[0])
        if name not in self.fields:
            name = None
        if name is not None and (name in self.errors or name not in self.cleaned_data):
            return  # the field's own check already said what is wrong
        self.add_error(name, problem.message)

    # -- the result ------------------------------------------------------------------------

    def build(self) -> Message:
        """The unsaved message these values describe (cleaned_data must be there)."""
        data = self.cleaned_data
        channel, sender = self.chosen_channel, self.chosen_sender
        assert channel is not None
        assert sender is not None
        message = Message(channel=channel, sender=sender, to=data.get("to", ""))
        message.kind = self.chosen_kind
        if self.chosen_kind == Kind.TEMPLATE and self.variant is not None:
            message.variant = self.variant
            message.template_code = self.variant.template_code
            message.template_name = self.variant.template.name
            message.language = self.variant.language
            message.template_params = {
                str(number): data.get(f"var_{number}", "") for number in self.variables
            }
            payloads = [data.get(f"payload_{reply.index}") or "" for reply in self.replies]
            if any(payloads):
                message.payload = [
                    payload or reply.text
                    for payload, reply in zip(payloads, self.replies, strict=True)
                ]
        else:
            message.message_type = self.message_type
            values = {item.key: data.get(item.field_name) for item in self.inputs}
            message.content = compose.content(self.channel_type, self.message_type, values)
        options = {
            api: data.get(name) for name, api in OPTIONS.items() if not is_blank(data.get(name))
        }
        if data.get("flow_token") or data.get("flow_action_data"):
            flow: dict[str, Any] = {}
            if data.get("flow_token"):
                flow["FlowToken"] = data["flow_token"]
            if data.get("flow_action_data"):
                flow["FlowActionData"] = data["flow_action_data"]
            options["FlowAction"] = flow
        message.options = options
        message.state = State.PENDING
        return message


def _field_for(item: compose.Input) -> forms.Field:
    common: dict[str, Any] = {"label": item.label, "required": item.required}
    if item.help:
        common["help_text"] = item.help
    if item.kind == compose.TEXTAREA:
        return forms.CharField(max_length=4096, widget=forms.Textarea(attrs={"rows": 3}), **common)
    if item.kind == compose.URL:
        return forms.URLField(max_length=2000, assume_scheme="https", **common)
    if item.kind == compose.INTEGER:
        low, high = item.min_value, item.max_value
        return forms.IntegerField(
            min_value=None if low is None else int(low),
            max_value=None if high is None else int(high),
            **common,
        )
    if item.kind == compose.DECIMAL:
        return forms.FloatField(min_value=item.min_value, max_value=item.max_value, **common)
    if item.kind == compose.JSON:
        return JsonObjectField(**common)
    if item.kind == compose.CHOICE:
        choices = [("", "Choose…")] + [(choice, choice) for choice in item.choices]
        return forms.ChoiceField(choices=choices, **common)
    return forms.CharField(max_length=1024, **common)


class ReplyForm(forms.Form):
    """The reply box of a conversation: a free-form text inside the 24-hour window."""

    text = forms.CharField(label="Reply", max_length=4096, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, sender: Sender, user: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sender = sender
        self.user = user
        styled(self)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        message = self.build()
        for problem in rules.check_send_message(message.api_params()):
            self.add_error("text", problem.message)
        if suppression.is_suppressed(self.sender, self.user):
            self.add_error("text", "This user is on this number's suppression list.")
        refusal = windows.refusal(self.sender, self.user, Kind.MESSAGE)
        if refusal:
            self.add_error("text", refusal)
        return data

    def build(self) -> Message:
        options = {"Label": "transaction"} if self.sender.channel.channel_type == "viber" else {}
        return Message(
            channel=self.sender.channel,
            sender=self.sender,
            to=self.user,
            kind=Kind.MESSAGE,
            message_type="text",
            content={"text": self.cleaned_data["text"]},
            options=options,
        )


class MessageFilterForm(forms.Form):
    channel = forms.ModelChoiceField(
        queryset=Channel.objects.all(), required=False, empty_label="All channels"
    )
    sender = forms.ModelChoiceField(
        queryset=Sender.objects.all(), required=False, empty_label="All senders"
    )
    state = forms.ChoiceField(
        label="Status", choices=[("", "Any status"), *State.choices], required=False
    )
    to = forms.CharField(label="To", required=False, max_length=64)
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="Until", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        styled(self, "sm")


class SuppressionForm(forms.Form):
    sender = forms.ModelChoiceField(queryset=Sender.objects.none(), label="Number (From)")
    user = forms.CharField(label="User", max_length=64, help_text="Phone number, PSID or IGSID.")
    reason = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["sender"]
        ).queryset = Sender.objects.select_related("channel")
        styled(self)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        sender, user = data.get("sender"), str(data.get("user") or "").strip().lstrip("+")
        if sender is not None and user:
            problem = rules.check_recipient_id(sender.channel.channel_type, user)
            if problem is not None:
                self.add_error("user", problem.message.replace("To ", "The user ", 1))
            data["user"] = user
        return data
