"""The nine CAMS operations the console calls, as CAMS answers them (reference §3).

Each handler takes the caller's AccessKey ID and the decoded query parameters (every value a
string; nested ones JSON text) and returns the operation's own response fields; the app adds
RequestId, Code and Message. A refusal is an `errors.ApiError`. Validation is `rules.py`'s, the
very functions the console's forms use, and the first broken rule is the answer, as CAMS answers
one error at a time.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from camsconsole.cams import rules
from camsconsole.cams.rules.params import as_array, as_bool, as_int, as_object, is_blank
from camsconsole.cams.sandbox import errors
from camsconsole.cams.sandbox.ledger import STATUS_BY_NAME, Descriptor
from camsconsole.cams.sandbox.receipts import OUTSIDE_WINDOW
from camsconsole.cams.sandbox.templates import AUDIT_STATUSES, Translation

if TYPE_CHECKING:
    from camsconsole.cams.sandbox.state import SandboxState

Params = Mapping[str, str]
Handler = Callable[["SandboxState", str, Params], dict[str, Any]]

SERVICE_WINDOW = 24 * 3600
PAGE_SIZE_MAX = 100


def _refuse_first(problems: Sequence[rules.RuleError]) -> None:
    if problems:
        first = problems[0]
        raise errors.business(first.code, first.message)


def _text(params: Params, name: str) -> str:
    return (params.get(name) or "").strip()


def _page(params: Params, required: bool) -> tuple[int, int]:
    """Page {"Index": n, "Size": m} as (offset, limit). Defaults 1 and 10 (§3.7)."""
    raw = params.get("Page")
    if is_blank(raw):
        if required:
            raise errors.missing("Page")
        return 0, 10
    page = as_object(raw)
    index = as_int(page.get("Index")) if page is not None else None
    size = as_int(page.get("Size")) if page is not None else None
    if index is None or size is None or index < 1 or not 1 <= size <= PAGE_SIZE_MAX:
        raise errors.page_invalid(
            f'Page must be {{"Index": n, "Size": m}} with n >= 1 and 1 <= m <= {PAGE_SIZE_MAX}.'
        )
    return (index - 1) * size, size


def _approved_template(state: SandboxState, key: str, params: Params) -> Translation:
    translation = state.templates.get(
        key,
        _text(params, "TemplateCode") or None,
        _text(params, "TemplateName") or None,
        _text(params, "Language"),
        time.time(),
    )
    if translation is None:
        raise errors.template_not_found("DetailError")
    if translation.audit_status != "pass":
        raise errors.template_not_approved(translation.audit_status)
    return translation


def _template_descriptor(key: str, params: Params, translation: Translation) -> Descriptor:
    return Descriptor(
        access_key_id=key,
        channel_type=_text(params, "ChannelType"),
        sender=_text(params, "From"),
        frame="template",
        message_type="TEMPLATE",
        template_code=translation.code,
        template_name=translation.name,
        language=translation.language,
        category=translation.category,
        cust_space_id=_text(params, "CustSpaceId"),
    )


def _payload(value: object) -> list[str] | None:
    items = as_array(value)
    return [str(item) for item in items] if items else None


def send_message(state: SandboxState, key: str, params: Params) -> dict[str, Any]:
    _refuse_first(rules.check_send_message(params))
    config = state.config
    channel = _text(params, "ChannelType")
    sender, recipient = _text(params, "From"), _text(params, "To")
    forced_failure = None
    quick_replies: Sequence[str] = ()
    if _text(params, "Type") == "template":
        translation = _approved_template(state, key, params)
        descriptor = _template_descriptor(key, params, translation)
        quick_replies = translation.quick_replies()
    else:
        descriptor = Descriptor(
            access_key_id=key,
            channel_type=channel,
            sender=sender,
            frame="message",
            message_type=_text(params, "MessageType").upper(),
            cust_space_id=_text(params, "CustSpaceId"),
        )
        if config.service_window and channel == "whatsapp":
            # Free-form WhatsApp needs an open customer-service window (§4.1). CAMS accepts the
            # call; Meta refuses delivery with 131047, which arrives as a Failed receipt.
            last = state.ledger.last_inbound(sender, recipient)
            if last is None or time.time() - last > SERVICE_WINDOW:
                forced_failure = OUTSIDE_WINDOW
    first, _ = state.ledger.record(descriptor, [recipient], _text(params, "TaskId"), mass=False)
    state.receipts.schedule_messages(
        first,
        1,
        forced_failure=forced_failure,
        payloads=[_payload(params.get("Payload"))],
        quick_replies=quick_replies,
    )
    return {"MessageId": state.ledger.message_id(first)}


def send_mass_message(state: SandboxState, key: str, params: Params) -> dict[str, Any]:
    _refuse_first(rules.check_mass_send(params))
    translation = _approved_template(state, key, params)
    recipients = as_array(params.get("SenderList")) or []
    tos = [str(item["To"]).strip() for item in recipients]
    first, group_id = state.ledger.record(
        _template_descriptor(key, params, translation), tos, _text(params, "TaskId"), mass=True
    )
    payloads = (
        [_payload(item.get("Payload")) for item in recipients]
        if state.config.inbound_ratio
        else None
    )
    state.receipts.schedule_messages(
        first, len(tos), payloads=payloads, quick_replies=translation.quick_replies()
    )
    return {"GroupMessageId": group_id}


def _json_param(params: Params, name: str) -> Any:
    raw = params.get(name)
    if is_blank(raw):
        return None
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None


def _template_fields(params: Params) -> dict[str, Any]:
    return {
        "components": _json_param(params, "Components"),
        "example": _json_param(params, "Example"),
        "message_send_ttl_seconds": as_int(params.get("MessageSendTtlSeconds")),
        "category_change_paused": as_bool(params.get("CategoryChangePaused")),
        "product_set_id": _text(params, "ProductSetId") or None,
    }


def create_template(state: SandboxState, key: str, params: Params) -> dict[str, Any]:
    _refuse_first(rules.check_template(params))
    config = state.config
    fields = _template_fields(params)
    translation = Translation(
        code="",
        name=_text(params, "Name"),
        language=_text(params, "Language"),
        category=_text(params, "Category"),
        template_type=_text(params, "TemplateType"),
        components=fields.pop("components") or [],
        **fields,
    )
    created = state.templates.create(key, translation, time.time(), config.review_delay)
    if created is None:
        raise errors.template_name_exists()
    state.receipts.schedule_audit(key, created.code, created.language, created.review)
    return {"Data": {"TemplateCode": created.code, "TemplateName": created.name}}


def modify_template(state: SandboxState, key: str, params: Params) -> dict[str, Any]:
    code, name = _text(params, "TemplateCode") or None, _text(params, "TemplateName") or None
    language = _text(params, "Language")
    now = time.time()
    current = state.templates.get(key, code, name, language, now) if language else None
    # What the call leaves out is kept from the stored template, and the rules (category
    # rules, samples for the variables) judge the result.
    merged: dict[str, Any] = dict(params)
    if current is not None:
        merged.setdefault("Category", current.category)
        merged.setdefault("TemplateType", current.template_type)
        if current.example is not None:
            merged.setdefault("Example", current.example)
    _refuse_first(rules.check_template(merged, modify=True))
    changes = _template_fields(params)
    changes["category"] = _text(params, "Category") or None
    changes["template_type"] = _text(params, "TemplateType") or None
    modified = state.templates.modify(
        key, code, name, language, changes, now, state.config.review_delay
    )
    if modified is None:
        raise errors.template_not_found("DetailError")
    state.receipts.schedule_audit(key, modified.code, modified.language, modified.review)
    return {"Data": {"TemplateCode": modified.code, "TemplateName": modified.name}}


def get_template_detail(state: SandboxState, key: str, params: Params) -> dict[str, Any]:
    language = _text(params, "Language")
    if not language:
        raise errors.missing("Language")
    code, name = _text(params, "TemplateCode"), _text(params, "TemplateName")
    if not code and not name:
        raise errors.business(
            "InvalidParameter.TemplateCodeNotEmpty", "Give the TemplateCode or the TemplateName."
        )
    translation = state.templates.get(key, code or None, name or None, language, time.time())
    template_type = _text(params, "TemplateType")
    if translation is None or (template_type and template_type != translation.template_type):
        raise errors.template_not_found("DetailError")
    return {"Data": translation.detail()}


def list_templates(state: SandboxState, key: str, params: Params) -> dict[str, Any]:
    offset, limit = _page(params, required=False)
    audit_status = _text(params, "AuditStatus")
    if audit_status and audit_status not in AUDIT_STATUSES:
        raise errors.audit_status_not_supported(audit_status)
    template_type = _text(params, "TemplateType")
    if template_type and template_type not in rules.TEMPLATE_TYPES:
        raise errors.business(
            "InvalidParameter.TemplateTypeNotSupport", f"TemplateType {template_type} is unknown."
        )
    language = _text(params, "Language")
    if language:
        problem = rules.check_language(language)
        if problem is not None:
            raise errors.business(problem.code, problem.message)
    name, code, category = _text(params, "Name"), _text(params, "Code"), _text(params, "Category")
    matches = [
        translation
        for translation in state.templates.all(key, time.time())
        if (not audit_status or translation.audit_status == audit_status)
        and (not template_type or translation.template_type == template_type)
        and (not language or translation.language == language)
        and (not name or name.lower() in translation.name.lower())
        and (not code or translation.code == code)
        and (not category or translation.category == category)
    ]
    matches.sort(key=lambda t: (-t.updated_ms, t.name, t.language))
    return {
        "ListTemplate": [t.summary() for t in matches[offset : offset + limit]],
        "Total": len(matches),
    }


def delete_template(state: SandboxState, key: str, params: Params) -> dict[str, Any]:
    code, name = _text(params, "TemplateCode"), _text(params, "TemplateName")
    if not code and not name:
        raise errors.business(
            "InvalidParameter.TemplateCodeNotEmpty", "Give the TemplateCode or the TemplateName."
        )
    removed = state.templates.delete(
        key, code or None, name or None, _text(params, "Language") or None
    )
    if not removed:
        raise errors.template_not_found("DelError")
    return {}


def query_phone_numbers(state: SandboxState, key: str, params: Params) -> dict[str, Any]:
    wanted_status = _text(params, "Status")
    numbers = list(dict.fromkeys([*state.config.phone_numbers, *state.ledger.senders(key)]))
    if wanted_status and wanted_status != "CONNECTED":
        numbers = []
    account = hashlib.sha256(key.encode()).hexdigest()[:10]
    result = []
    for number in numbers:
        url = state.receipts.callbacks.url_for(number) or ""
        result.append(
            {
                "PhoneNumber": number,
                "VerifiedName": "CAMS Sandbox",
                "Status": "CONNECTED",
                "QualityRating": "GREEN",
                "MessagingLimitTier": "TIER_1000",
                "CodeVerificationStatus": "VERIFIED",
                "NameStatus": "Approval",
                "NewNameStatus": "Approval",
                "StatusCallbackUrl": url,
                "UpCallbackUrl": url,
                "StatusQueue": f"Alicom-Queue-{account}-ChatAppStatus",
                "UpQueue": f"Alicom-Queue-{account}-ChatAppInbound",
                "IsOfficial": "N",
            }
        )
    return {"PhoneNumbers": result}


def _moment(params: Params, millis_name: str, text_name: str) -> float | None:
    millis = _text(params, millis_name)
    if millis:
        value = as_int(millis)
        if value is None:
            raise errors.invalid(millis_name, "Give a UNIX time in milliseconds.")
        return value / 1000
    text = _text(params, text_name)
    if text:
        try:
            return float(calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M:%S")))
        except ValueError as exc:
            raise errors.invalid(text_name, "Use the format YYYY-MM-DD HH:MM:SS.") from exc
    return None


def list_messages(state: SandboxState, key: str, params: Params) -> dict[str, Any]:
    for name in ("CustSpaceId", "ChannelType", "BusinessNumber"):
        if not _text(params, name):
            raise errors.missing(name)
    offset, limit = _page(params, required=True)
    channel = _text(params, "ChannelType")
    if channel not in ("whatsapp", "viber"):
        raise errors.business(
            "InvalidParameter.ChannelTypeNotSupport", "ChannelType must be whatsapp or viber."
        )
    event_action = _text(params, "EventAction") or None
    if event_action not in (None, "DOWN", "UP"):
        raise errors.invalid("EventAction", "Use DOWN or UP.")
    status_name = _text(params, "MessageStatus")
    status = None
    if status_name:
        status = STATUS_BY_NAME.get(status_name.lower())
        if status is None:
            raise errors.invalid("MessageStatus")
    data = state.ledger.history(
        access_key_id=key,
        business_number=_text(params, "BusinessNumber"),
        channel_type=channel,
        user_number=_text(params, "UserNumber") or None,
        event_action=event_action,
        status=status,
        template_code=_text(params, "TemplateCode") or None,
        group_message_id=_text(params, "GroupMessageId") or None,
        start=_moment(params, "StartTime", "StartTimeStr"),
        end=_moment(params, "EndTime", "EndTimeStr"),
        offset=offset,
        limit=limit,
    )
    return {"Data": data}


OPERATIONS: dict[str, Handler] = {
    "SendChatappMessage": send_message,
    "SendChatappMassMessage": send_mass_message,
    "CreateChatappTemplate": create_template,
    "ModifyChatappTemplate": modify_template,
    "GetChatappTemplateDetail": get_template_detail,
    "ListChatappTemplate": list_templates,
    "DeleteChatappTemplate": delete_template,
    "QueryChatappPhoneNumbers": query_phone_numbers,
    "ListChatappMessage": list_messages,
}

# Operations whose SDK response model has a Success field.
WITH_SUCCESS = frozenset(OPERATIONS) - {"SendChatappMessage", "SendChatappMassMessage"}
