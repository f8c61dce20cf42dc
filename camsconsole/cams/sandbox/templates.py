"""Message templates, per access key, with a simulated review.

A template is identified by its TemplateCode across languages (GetChatappTemplateDetail and
DeleteChatappTemplate take a code plus an optional Language, reference §3.6, §3.8), so one code
holds one translation per language. Creating the same name in a new language reuses the code.

Review: a new or modified translation is `auditing` until `review_delay` has passed, then
`pass`, or `fail` with a Reason when its name contains "reject". The status is settled lazily
whenever the template is read, so no thread is needed for correctness; the receipt engine only
pushes the ChatAppAudit receipt at the same moment. Every (re)submission bumps `review`, so a
receipt scheduled for a superseded review is skipped.

Modifying is allowed in any status (Meta lets approved templates be edited); the reference only
says "likely" for the stricter 2023 rule, so the sandbox does not invent a code for it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

AUDIT_STATUSES = ("pass", "fail", "auditing", "unaudit")

REJECT_MARKER = "reject"
REJECT_REASON = (
    "INVALID_FORMAT: the sandbox reviewer rejects every template whose name contains 'reject'."
)


@dataclass
class Translation:
    code: str
    name: str
    language: str
    category: str
    template_type: str
    components: list[Any]
    example: Any = None
    message_send_ttl_seconds: int | None = None
    category_change_paused: bool | None = None
    product_set_id: str | None = None
    audit_status: str = "auditing"
    reason: str = ""
    review: int = 0
    review_due: float = 0.0
    updated_ms: int = 0
    quality_score: str = "UNKNOWN"
    extra: dict[str, Any] = field(default_factory=dict)

    def settle(self, now: float) -> None:
        if self.audit_status == "auditing" and now >= self.review_due:
            if REJECT_MARKER in self.name.lower():
                self.audit_status, self.reason = "fail", REJECT_REASON
            else:
                self.audit_status, self.reason, self.quality_score = "pass", "", "GREEN"
            self.updated_ms = int(self.review_due * 1000)

    def quick_replies(self) -> list[str]:
        """Labels of the QUICK_REPLY buttons, in order (they match the send's Payload)."""
        labels = []
        for component in self.components:
            if isinstance(component, dict) and component.get("Type") == "BUTTONS":
                for button in component.get("Buttons") or []:
                    if isinstance(button, dict) and button.get("Type") == "QUICK_REPLY":
                        labels.append(str(button.get("Text", "")))
        return labels

    def detail(self) -> dict[str, Any]:
        """GetChatappTemplateDetail's Data."""
        data: dict[str, Any] = {
            "TemplateCode": self.code,
            "Name": self.name,
            "Language": self.language,
            "Category": self.category,
            "TemplateType": self.template_type,
            "AuditStatus": self.audit_status,
            "Reason": self.reason,
            "QualityScore": self.quality_score,
            "Components": self.components,
        }
        if self.category == "MARKETING":
            data["AllowSend"] = True
        optional = {
            "Example": self.example,
            "MessageSendTtlSeconds": self.message_send_ttl_seconds,
            "CategoryChangePaused": self.category_change_paused,
            "ProductSetId": self.product_set_id,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        return data

    def summary(self) -> dict[str, Any]:
        """One ListChatappTemplate item."""
        return {
            "TemplateCode": self.code,
            "TemplateName": self.name,
            "Language": self.language,
            "Category": self.category,
            "AuditStatus": self.audit_status,
            "Reason": self.reason,
            "TemplateType": self.template_type,
            "LastUpdateTime": self.updated_ms,
        }


class TemplateStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # access key -> code -> language -> translation
        self._by_key: dict[str, dict[str, dict[str, Translation]]] = {}
        # access key -> name -> code
        self._names: dict[str, dict[str, str]] = {}

    def reset(self) -> None:
        with self._lock:
            self._by_key.clear()
            self._names.clear()

    def _code_for(self, key: str, code: str | None, name: str | None) -> str | None:
        if code:
            return code if code in self._by_key.get(key, {}) else None
        if name:
            return self._names.get(key, {}).get(name)
        return None

    def create(
        self, key: str, translation: Translation, now: float, review_delay: float
    ) -> Translation | None:
        """Add a translation; None if this name already exists in this language."""
        with self._lock:
            names = self._names.setdefault(key, {})
            codes = self._by_key.setdefault(key, {})
            code = names.get(translation.name)
            if code is not None and translation.language in codes.get(code, {}):
                return None
            translation.code = code or uuid.uuid4().hex
            self._submit(translation, now, review_delay)
            names[translation.name] = translation.code
            codes.setdefault(translation.code, {})[translation.language] = translation
            return translation

    def modify(
        self,
        key: str,
        code: str | None,
        name: str | None,
        language: str,
        changes: dict[str, Any],
        now: float,
        review_delay: float,
    ) -> Translation | None:
        """Apply changes to one translation and resubmit it; None if there is no such one."""
        with self._lock:
            found = self._code_for(key, code, name)
            translation = self._by_key.get(key, {}).get(found or "", {}).get(language)
            if translation is None:
                return None
            for attribute, value in changes.items():
                if value is not None:
                    setattr(translation, attribute, value)
            translation.reason = ""
            self._submit(translation, now, review_delay)
            return translation

    @staticmethod
    def _submit(translation: Translation, now: float, review_delay: float) -> None:
        translation.audit_status = "auditing"
        translation.review += 1
        translation.review_due = now + review_delay
        translation.updated_ms = int(now * 1000)

    def get(
        self, key: str, code: str | None, name: str | None, language: str, now: float
    ) -> Translation | None:
        with self._lock:
            found = self._code_for(key, code, name)
            translation = self._by_key.get(key, {}).get(found or "", {}).get(language)
            if translation is not None:
                translation.settle(now)
            return translation

    def settle_review(
        self, key: str, code: str, language: str, review: int, now: float
    ) -> Translation | None:
        """Finish a review if it is still the current one; the translation, or None."""
        with self._lock:
            translation = self._by_key.get(key, {}).get(code, {}).get(language)
            if translation is None or translation.review != review:
                return None
            translation.settle(max(now, translation.review_due))
            return translation

    def all(self, key: str, now: float) -> Iterator[Translation]:
        with self._lock:
            translations = [
                translation
                for languages in self._by_key.get(key, {}).values()
                for translation in languages.values()
            ]
            for translation in translations:
                translation.settle(now)
        yield from translations

    def delete(self, key: str, code: str | None, name: str | None, language: str | None) -> int:
        """Remove one language, or every language of the code; the number removed."""
        with self._lock:
            found = self._code_for(key, code, name)
            codes = self._by_key.get(key, {})
            languages = codes.get(found or "")
            if not languages:
                return 0
            if language:
                removed = 1 if languages.pop(language, None) is not None else 0
            else:
                removed = len(languages)
                languages.clear()
            if not languages:
                codes.pop(found or "", None)
                names = self._names.get(key, {})
                for template_name, template_code in list(names.items()):
                    if template_code == found:
                        del names[template_name]
            return removed
