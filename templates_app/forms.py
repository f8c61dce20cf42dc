"""Input boundary of Template Design: the design form, the list filter and the import form.

The design form takes the editor's components as JSON (components.parse), checks what a draft
needs (a channel, a valid unique name, a language), and keeps every documented rule the result
breaks in `problems`: a draft may be saved with problems, but not submitted.
"""

import json
from typing import Any

from django import forms
from django.db.models import Q, QuerySet

from camsconsole.cams import rules
from camsconsole.models import Channel, ChannelType
from templates_app import components
from templates_app.models import (
    TEMPLATE_TYPES,
    Category,
    Quality,
    Status,
    Template,
    Variant,
    VariantQuerySet,
)

TEMPLATE_CHANNEL_TYPES = (ChannelType.WHATSAPP, ChannelType.VIBER)
LANGUAGE_CHOICES = sorted(
    ((code, f"{label} ({code})") for code, label in rules.LANGUAGE_CODES.items()),
    key=lambda choice: choice[1],
)
# Form field -> the API parameter path its errors are reported under.
PATHS = {
    "channel": "Channel",
    "name": "Name",
    "category": "Category",
    "language": "Language",
    "message_send_ttl_seconds": "MessageSendTtlSeconds",
    "components": "Components",
    "example": "Example",
}


def styled(form: forms.BaseForm, size: str = "") -> None:
    """Bootstrap classes on every visible widget."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = f"form-select {'form-select-' + size if size else ''}"
        else:
            css = f"form-control {'form-control-' + size if size else ''}"
        if not widget.is_hidden:
            widget.attrs["class"] = css.strip()


def template_channels() -> QuerySet[Channel]:
    return Channel.objects.filter(is_active=True, channel_type__in=TEMPLATE_CHANNEL_TYPES)


class ChannelChoice(forms.ModelChoiceField):
    """The live channels that have templates."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=template_channels().select_related("account"), **kwargs)


class ChannelSelect(forms.Select):
    """Options carry their TemplateType (data-kind), so the editor knows Viber from WhatsApp."""

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-kind"] = TEMPLATE_TYPES[instance.channel_type]
        return option


class DesignForm(forms.Form):
    channel = ChannelChoice(widget=ChannelSelect)
    name = forms.CharField(
        max_length=rules.TEMPLATE_NAME_MAX_LENGTH,
        help_text="Lowercase letters, digits and _ only, e.g. spring_sale_2026.",
    )
    category = forms.ChoiceField(choices=Category.choices)
    language = forms.ChoiceField(choices=LANGUAGE_CHOICES, initial="en_US")
    message_send_ttl_seconds = forms.IntegerField(
        label="Message validity (seconds)",
        required=False,
        min_value=1,
        help_text="How long WhatsApp keeps trying to deliver; empty for its default.",
    )
    components = forms.CharField(widget=forms.HiddenInput, required=False)
    example = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        template: Template | None = None,
        variant: Variant | None = None,
        source: Variant | None = None,
        **kwargs: Any,
    ) -> None:
        """`template` and `variant` are edited; `source` is the variant a new language starts
        from (its template is then `template`, and `variant` is None)."""
        self.template, self.variant = template, variant
        content = variant or source
        initial = kwargs.setdefault("initial", {})
        if template is not None:
            initial.update(channel=template.channel_id, name=template.name)
            initial.update(category=template.category)
        if content is not None:
            initial.update(
                components=json.dumps(content.components),
                example=json.dumps(content.example),
                message_send_ttl_seconds=content.message_send_ttl_seconds,
            )
        if variant is not None:
            initial["language"] = variant.language
        elif template is not None:
            taken = set(template.variants.values_list("language", flat=True))
            initial["language"] = next(c for c, _ in LANGUAGE_CHOICES if c not in taken)
        super().__init__(*args, **kwargs)
        if template is not None and (variant is None or template.is_submitted):
            # A language joins an existing template; a submitted name is CAMS's key.
            self.fields["channel"].disabled = self.fields["name"].disabled = True
        if variant is not None and variant.template_code:
            self.fields["language"].disabled = True
        for name, path in PATHS.items():
            self.fields[name].widget.attrs["data-path"] = path
        styled(self)
        self.problems: list[rules.RuleError] = []

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not rules.TEMPLATE_NAME_PATTERN.fullmatch(name):
            raise forms.ValidationError("Use lowercase letters, digits and _ only.")
        return name

    def clean_components(self) -> list[dict[str, Any]]:
        try:
            return components.parse(self.cleaned_data["components"] or "[]")
        except components.MalformedComponents as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        channel, name, language = data.get("channel"), data.get("name"), data.get("language")
        if channel and name:
            clash = Template.objects.filter(channel=channel, name=name)
            if self.template is not None:
                clash = clash.exclude(pk=self.template.pk)
            if clash.exists():
                self.add_error("name", "This channel already has a template with this name.")
        if self.template is not None and language:
            taken = self.template.variants.filter(language=language)
            if self.variant is not None:
                taken = taken.exclude(pk=self.variant.pk)
            if taken.exists():
                self.add_error("language", "This template already has this language.")
        if "components" in data:
            try:
                data["example"] = components.parse_example(
                    data.get("example") or "{}", data["components"]
                )
            except components.MalformedComponents as exc:
                self.add_error("example", str(exc))
        if channel and data.get("category") and "components" in data and "example" in data:
            # Checked even while the name is missing or wrong, so the editor can show the
            # components' problems from the first keystroke.
            template, variant = self.draft()
            if variant.message_send_ttl_seconds is not None and not self.ttl_applies(template):
                data["message_send_ttl_seconds"] = variant.message_send_ttl_seconds = None
            self.problems = components.problems(template, variant)
        return data

    @staticmethod
    def ttl_applies(template: Template) -> bool:
        kind = components.palette()["kinds"][template.template_type][template.category]
        return kind["ttl"] is not None

    def draft(self) -> tuple[Template, Variant]:
        """The template and variant as the form describes them, unsaved."""
        data = self.cleaned_data
        template = Template(
            channel=data["channel"], name=data.get("name") or "", category=data["category"]
        )
        variant = Variant(
            template=template,
            language=data.get("language") or "",
            components=data["components"],
            example=data["example"],
            message_send_ttl_seconds=data.get("message_send_ttl_seconds"),
        )
        return template, variant

    def error_list(self) -> list[dict[str, str]]:
        """Every error, each with the path of the field it belongs next to."""
        found = [
            {"field": PATHS.get(field, ""), "message": str(message), "code": "form"}
            for field, messages in self.errors.items()
            for message in messages
        ]
        reported = {error["field"] for error in found}
        found += [
            {"field": p.field, "message": p.message, "code": p.code}
            for p in self.problems
            if p.field not in reported  # a missing name is said once, by the form
        ]
        return found


class FilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    channel = forms.ModelChoiceField(
        queryset=Channel.objects.filter(channel_type__in=TEMPLATE_CHANNEL_TYPES), required=False
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *Status.choices], required=False)
    category = forms.ChoiceField(choices=[("", "Any category"), *Category.choices], required=False)
    language = forms.ChoiceField(choices=[("", "Any language"), *LANGUAGE_CHOICES], required=False)
    quality = forms.ChoiceField(choices=[("", "Any quality"), *Quality.choices], required=False)
    usable = forms.BooleanField(required=False, label="Usable now")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        styled(self, "sm")

    def filter(self, variants: VariantQuerySet) -> VariantQuerySet:
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("q"):
            text = data["q"]
            variants = variants.filter(
                Q(template__name__icontains=text)
                | Q(template_code=text)
                | Q(components__icontains=text)
            )
        for field, lookup in (
            ("channel", "template__channel"),
            ("status", "status"),
            ("category", "template__category"),
            ("language", "language"),
            ("quality", "quality_score"),
        ):
            if data.get(field):
                variants = variants.filter(**{lookup: data[field]})
        if data.get("usable"):
            variants = variants.usable()
        return variants


class ImportForm(forms.Form):
    channel = ChannelChoice(
        help_text="Every template of this channel in CAMS is brought in; templates already "
        "here are updated, local changes not yet submitted are kept."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        styled(self)
