"""A small, honest CAMS client: one signed POST per call, never a retry.

Wire shape (reference §2.2, §2.3): POST / with every parameter in the query string, nested
parameters as compact JSON strings, an empty body, and an ACS3-HMAC-SHA256 signature over host
and the five x-acs-* headers. Retrying is the caller's decision, made from the error's
`retryable` and `ambiguous` flags (see errors.py), because only the caller knows whether a
repeated send would be harmless.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from camsconsole.cams import errors, signing, transport

API_VERSION = "2020-06-06"
DEFAULT_ENDPOINT = "https://cams.ap-southeast-1.aliyuncs.com"
DEFAULT_TIMEOUT = (5.0, 15.0)  # (connect, read) seconds

JsonDict = dict[str, Any]


def encode_params(params: Mapping[str, object]) -> dict[str, str]:
    """Turn API parameters into query values exactly as the official Python SDK does.

    None is dropped; lists and dicts become compact JSON with sorted keys and raw UTF-8; scalars
    go through str(), so True becomes "True" (an SDK quirk CAMS accepts) and 50 becomes "50".
    """
    encoded: dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, Mapping | list | tuple):
            encoded[name] = json.dumps(
                value, ensure_ascii=False, separators=(",", ":"), sort_keys=True
            )
        else:
            encoded[name] = str(value)
    return encoded


def wire_query(query: Mapping[str, str]) -> str:
    """The URL query as the SDK writes it (space as '+'); CAMS decodes it before verifying."""
    return urllib.parse.urlencode(sorted(query.items()))


@dataclass(frozen=True)
class PreparedCall:
    """A signed call, ready to send (CamsClient.prepare)."""

    action: str
    target: str  # path and query, encoded
    headers: dict[str, str]


@dataclass(frozen=True)
class SendResult:
    message_id: str
    request_id: str


@dataclass(frozen=True)
class MassSendResult:
    # CAMS returns no per-recipient ids for a mass send; receipts carry To and TaskId instead.
    group_message_id: str
    request_id: str


@dataclass(frozen=True)
class TemplateRef:
    template_code: str
    template_name: str | None
    request_id: str


@dataclass(frozen=True)
class TemplatePage:
    templates: list[JsonDict]
    total: int
    request_id: str


class CamsClient:
    """Calls CAMS with one AccessKey pair.

    Its kept-alive connections (transport.Connections) may be shared by a few threads. Each
    worker process should build its own client: a connection must not cross a fork.
    """

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        endpoint: str = DEFAULT_ENDPOINT,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        parts = urllib.parse.urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"CAMS endpoint must be an http(s) base URL, got {endpoint!r}")
        if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
            # The signature covers path "/" and the query; anything extra would break it.
            raise ValueError(f"CAMS endpoint must not have a path or query, got {endpoint!r}")
        self.access_key_id = access_key_id
        self._access_key_secret = access_key_secret
        self.endpoint = f"{parts.scheme}://{parts.netloc}"
        self._host = parts.netloc
        self._connections = transport.Connections(self.endpoint, timeout)

    def __repr__(self) -> str:
        # Never the secret: clients end up in logs and tracebacks.
        return f"CamsClient(access_key_id={self.access_key_id!r}, endpoint={self.endpoint!r})"

    def close(self) -> None:
        self._connections.close()

    def __enter__(self) -> CamsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def call(self, action: str, params: Mapping[str, object]) -> JsonDict:
        """Call one operation; return its JSON body when Code is OK, raise CamsError otherwise."""
        return self.send(self.prepare(action, params))

    def prepare(self, action: str, params: Mapping[str, object]) -> PreparedCall:
        """Encode and sign a call without sending it, so a caller that waits for a rate-limit
        slot can send at the slot with nothing left to compute. Send it within seconds: the
        signature carries the time (the gateway allows 15 minutes of skew)."""
        query = encode_params(params)
        headers = signing.sign_headers(
            access_key_id=self.access_key_id,
            access_key_secret=self._access_key_secret,
            host=self._host,
            action=action,
            version=API_VERSION,
            query=query,
        )
        headers["accept"] = "application/json"
        return PreparedCall(action, f"/?{wire_query(query)}" if query else "/", headers)

    def send(self, prepared: PreparedCall) -> JsonDict:
        """Send a prepared call once; its JSON body when Code is OK, CamsError otherwise."""
        return _parse(self._connections.post(prepared.target, prepared.headers))

    # Typed helpers. Keyword names are the API's own, in snake_case; `from_` because `from` is
    # reserved. Nested values (dicts, lists) are encoded by `call`.

    def send_message(
        self,
        *,
        channel_type: str,
        type: str,
        from_: str,
        to: str,
        message_type: str | None = None,
        content: str | Mapping[str, Any] | None = None,
        template_code: str | None = None,
        template_name: str | None = None,
        language: str | None = None,
        template_params: Mapping[str, str] | None = None,
        payload: Sequence[str] | None = None,
        context_message_id: str | None = None,
        task_id: str | None = None,
        fall_back_id: str | None = None,
        fall_back_content: str | None = None,
        fall_back_duration: int | None = None,
        fall_back_rule: str | None = None,
        label: str | None = None,
        ttl: int | None = None,
        tracking_data: str | None = None,
        tag: str | None = None,
        product_action: Mapping[str, Any] | None = None,
        flow_action: Mapping[str, Any] | None = None,
        recipient_type: str | None = None,
        category: str | None = None,
        cust_space_id: str | None = None,
    ) -> SendResult:
        body = self.call(
            "SendChatappMessage",
            {
                "ChannelType": channel_type,
                "Type": type,
                "From": from_,
                "To": to,
                "MessageType": message_type,
                "Content": content,
                "TemplateCode": template_code,
                "TemplateName": template_name,
                "Language": language,
                "TemplateParams": template_params,
                "Payload": _list(payload),
                "ContextMessageId": context_message_id,
                "TaskId": task_id,
                "FallBackId": fall_back_id,
                "FallBackContent": fall_back_content,
                "FallBackDuration": fall_back_duration,
                "FallBackRule": fall_back_rule,
                "Label": label,
                "Ttl": ttl,
                "TrackingData": tracking_data,
                "Tag": tag,
                "ProductAction": product_action,
                "FlowAction": flow_action,
                "RecipientType": recipient_type,
                "Category": category,
                "CustSpaceId": cust_space_id,
            },
        )
        return SendResult(message_id=_required(body, "MessageId"), request_id=_request_id(body))

    def send_mass_message(
        self,
        *,
        channel_type: str,
        from_: str,
        language: str,
        sender_list: Sequence[Mapping[str, Any]],
        template_code: str | None = None,
        template_name: str | None = None,
        task_id: str | None = None,
        fall_back_id: str | None = None,
        fall_back_content: str | None = None,
        fall_back_duration: int | None = None,
        fall_back_rule: str | None = None,
        label: str | None = None,
        ttl: int | None = None,
        tag: str | None = None,
        cust_space_id: str | None = None,
    ) -> MassSendResult:
        body = self.call(
            "SendChatappMassMessage",
            {
                "ChannelType": channel_type,
                "From": from_,
                "Language": language,
                "SenderList": _list(sender_list),
                "TemplateCode": template_code,
                "TemplateName": template_name,
                "TaskId": task_id,
                "FallBackId": fall_back_id,
                "FallBackContent": fall_back_content,
                "FallBackDuration": fall_back_duration,
                "FallBackRule": fall_back_rule,
                "Label": label,
                "Ttl": ttl,
                "Tag": tag,
                "CustSpaceId": cust_space_id,
            },
        )
        return MassSendResult(
            group_message_id=_required(body, "GroupMessageId"), request_id=_request_id(body)
        )

    def create_template(
        self,
        *,
        template_type: str,
        name: str,
        language: str,
        category: str,
        components: Sequence[Mapping[str, Any]],
        example: Mapping[str, str] | None = None,
        message_send_ttl_seconds: int | None = None,
        category_change_paused: bool | None = None,
        product_set_id: str | None = None,
        cust_space_id: str | None = None,
    ) -> TemplateRef:
        body = self.call(
            "CreateChatappTemplate",
            {
                "TemplateType": template_type,
                "Name": name,
                "Language": language,
                "Category": category,
                "Components": _list(components),
                "Example": example,
                "MessageSendTtlSeconds": message_send_ttl_seconds,
                "CategoryChangePaused": category_change_paused,
                "ProductSetId": product_set_id,
                "CustSpaceId": cust_space_id,
            },
        )
        return _template_ref(body)

    def modify_template(
        self,
        *,
        language: str,
        components: Sequence[Mapping[str, Any]],
        template_code: str | None = None,
        template_name: str | None = None,
        category: str | None = None,
        template_type: str | None = None,
        example: Mapping[str, str] | None = None,
        message_send_ttl_seconds: int | None = None,
        category_change_paused: bool | None = None,
        product_set_id: str | None = None,
        cust_space_id: str | None = None,
    ) -> TemplateRef:
        body = self.call(
            "ModifyChatappTemplate",
            {
                "TemplateCode": template_code,
                "TemplateName": template_name,
                "Language": language,
                "Components": _list(components),
                "Category": category,
                "TemplateType": template_type,
                "Example": example,
                "MessageSendTtlSeconds": message_send_ttl_seconds,
                "CategoryChangePaused": category_change_paused,
                "ProductSetId": product_set_id,
                "CustSpaceId": cust_space_id,
            },
        )
        return _template_ref(body)

    def get_template(
        self,
        *,
        language: str,
        template_code: str | None = None,
        template_name: str | None = None,
        template_type: str | None = None,
        cust_space_id: str | None = None,
    ) -> JsonDict:
        """The template's `Data` object: AuditStatus, Reason, QualityScore, Components, ..."""
        body = self.call(
            "GetChatappTemplateDetail",
            {
                "Language": language,
                "TemplateCode": template_code,
                "TemplateName": template_name,
                "TemplateType": template_type,
                "CustSpaceId": cust_space_id,
            },
        )
        data = body.get("Data")
        return data if isinstance(data, dict) else {}

    def list_templates(
        self,
        *,
        page_index: int = 1,
        page_size: int = 10,
        audit_status: str | None = None,
        name: str | None = None,
        code: str | None = None,
        language: str | None = None,
        category: str | None = None,
        template_type: str | None = None,
        cust_space_id: str | None = None,
    ) -> TemplatePage:
        body = self.call(
            "ListChatappTemplate",
            {
                "Page": {"Index": page_index, "Size": page_size},
                "AuditStatus": audit_status,
                "Name": name,
                "Code": code,
                "Language": language,
                "Category": category,
                "TemplateType": template_type,
                "CustSpaceId": cust_space_id,
            },
        )
        templates = body.get("ListTemplate")
        return TemplatePage(
            templates=templates if isinstance(templates, list) else [],
            total=int(body.get("Total") or 0),
            request_id=_request_id(body),
        )

    def delete_template(
        self,
        *,
        template_code: str | None = None,
        template_name: str | None = None,
        language: str | None = None,
        template_type: str | None = None,
        cust_space_id: str | None = None,
    ) -> JsonDict:
        return self.call(
            "DeleteChatappTemplate",
            {
                "TemplateCode": template_code,
                "TemplateName": template_name,
                "Language": language,
                "TemplateType": template_type,
                "CustSpaceId": cust_space_id,
            },
        )

    def query_phone_numbers(
        self, *, cust_space_id: str | None = None, status: str | None = None
    ) -> list[JsonDict]:
        body = self.call(
            "QueryChatappPhoneNumbers", {"CustSpaceId": cust_space_id, "Status": status}
        )
        numbers = body.get("PhoneNumbers")
        return numbers if isinstance(numbers, list) else []

    def list_messages(
        self,
        *,
        cust_space_id: str,
        channel_type: str,
        business_number: str,
        page_index: int = 1,
        page_size: int = 10,
        user_number: str | None = None,
        event_action: str | None = None,
        message_status: str | None = None,
        client_accept_status: str | None = None,
        template_code: str | None = None,
        group_message_id: str | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        start_time_str: str | None = None,
        end_time_str: str | None = None,
    ) -> list[JsonDict]:
        """One page of message history. CAMS returns no total count for this operation."""
        body = self.call(
            "ListChatappMessage",
            {
                "CustSpaceId": cust_space_id,
                "ChannelType": channel_type,
                "BusinessNumber": business_number,
                "Page": {"Index": page_index, "Size": page_size},
                "UserNumber": user_number,
                "EventAction": event_action,
                "MessageStatus": message_status,
                "ClientAcceptStatus": client_accept_status,
                "TemplateCode": template_code,
                "GroupMessageId": group_message_id,
                "StartTime": start_time,
                "EndTime": end_time,
                "StartTimeStr": start_time_str,
                "EndTimeStr": end_time_str,
            },
        )
        data = body.get("Data")
        return data if isinstance(data, list) else []


def _parse(response: transport.Answer) -> JsonDict:
    """Return the body of a successful answer, or raise the error that says what to do next."""
    try:
        decoded = json.loads(response.content)
    except ValueError:
        decoded = None
    body: JsonDict = decoded if isinstance(decoded, dict) else {}
    code = str(body.get("Code") or "")
    status = response.status
    if 200 <= status < 300 and code == "OK":
        return body

    # Non-JSON bodies (a proxy's HTML page) still say something useful in their first lines.
    message = str(body.get("Message") or "") or response.text[:200]
    request_id = body.get("RequestId") or response.headers.get("x-acs-request-id")
    retry_after = response.headers.get("x-acs-retry-after")
    if retry_after is not None or errors.is_throttling(code) or status == 429:
        raise errors.CamsThrottled(
            code or "Throttling",
            message,
            request_id=request_id,
            http_status=status,
            retry_after=_seconds(retry_after),
        )
    error: type[errors.CamsError]
    if status >= 500:
        error, code = errors.CamsAmbiguous, code or errors.HTTP_ERROR
    elif code:
        error = errors.CamsApiError
    elif 200 <= status < 300:
        # An OK status with an unreadable body may still mean CAMS did the work.
        error, code = errors.CamsAmbiguous, errors.BAD_RESPONSE
    else:
        error, code = errors.CamsApiError, errors.HTTP_ERROR
    raise error(code, message, request_id=request_id, http_status=status)


def _seconds(milliseconds: str | None) -> float | None:
    try:
        return int(milliseconds) / 1000 if milliseconds is not None else None
    except ValueError:
        return None


def _list(items: Sequence[Any] | None) -> list[Any] | None:
    # Sequences other than list and tuple (a generator's output, a custom type) would otherwise
    # be sent through str(); pin them to JSON.
    return None if items is None else list(items)


def _request_id(body: JsonDict) -> str:
    return str(body.get("RequestId") or "")


def _required(body: JsonDict, field: str, within: JsonDict | None = None) -> str:
    value = (body if within is None else within).get(field)
    if not value:
        # Code was OK, so CAMS acted on the call; without the id the outcome cannot be tracked.
        raise errors.CamsAmbiguous(
            errors.BAD_RESPONSE, f"{field} missing from an OK answer", request_id=_request_id(body)
        )
    return str(value)


def _template_ref(body: JsonDict) -> TemplateRef:
    data = body.get("Data")
    data = data if isinstance(data, dict) else {}
    name = data.get("TemplateName")
    return TemplateRef(
        template_code=_required(body, "TemplateCode", within=data),
        template_name=str(name) if name else None,
        request_id=_request_id(body),
    )
