"""Our CamsClient against the sandbox over real HTTP: every typed helper, every error class."""

from __future__ import annotations

import socket

import pytest

from camsconsole.cams import errors
from camsconsole.cams.client import (
    CamsClient,
    MassSendResult,
    SendResult,
    TemplatePage,
    TemplateRef,
)
from camsconsole.cams.sandbox import SandboxHandle
from tests.cams.conftest import BODY, EXAMPLE, SENDER, USER


def test_it_creates_a_template(client: CamsClient) -> None:
    ref = client.create_template(
        template_type="WHATSAPP",
        name="order_update",
        language="en",
        category="UTILITY",
        components=BODY,
        example=EXAMPLE,
        message_send_ttl_seconds=3600,
        category_change_paused=True,
        cust_space_id="cams-1",
    )
    assert isinstance(ref, TemplateRef)
    assert ref.template_name == "order_update"
    assert len(ref.template_code) == 32
    assert ref.request_id


def test_it_modifies_a_template(sandbox: SandboxHandle, client: CamsClient) -> None:
    code = client.create_template(
        template_type="WHATSAPP",
        name="order_update",
        language="en",
        category="UTILITY",
        components=BODY,
        example=EXAMPLE,
    ).template_code
    sandbox.configure(review_delay=5)
    changed = [{"Type": "BODY", "Text": "Hi {{1}}, order {{2}} left our warehouse."}]
    ref = client.modify_template(
        template_code=code, language="en", components=changed, example=EXAMPLE
    )
    assert ref.template_code == code
    assert client.get_template(language="en", template_code=code)["AuditStatus"] == "auditing"


def test_it_reads_a_template(client: CamsClient, approved_template: str) -> None:
    detail = client.get_template(language="en", template_code=approved_template)
    assert detail["TemplateCode"] == approved_template
    assert detail["AuditStatus"] == "pass"
    assert detail["Components"] == BODY
    by_name = client.get_template(language="en", template_name="order_update")
    assert by_name["TemplateCode"] == approved_template


def test_it_lists_templates(client: CamsClient, approved_template: str) -> None:
    page = client.list_templates(page_index=1, page_size=10, audit_status="pass", language="en")
    assert isinstance(page, TemplatePage)
    assert page.total == 1
    assert page.templates[0]["TemplateCode"] == approved_template


def test_it_deletes_a_template(client: CamsClient, approved_template: str) -> None:
    body = client.delete_template(template_code=approved_template)
    assert body["Code"] == "OK"
    assert client.list_templates().total == 0


def test_it_sends_a_message(
    sandbox: SandboxHandle, client: CamsClient, approved_template: str
) -> None:
    result = client.send_message(
        channel_type="whatsapp",
        type="template",
        from_=SENDER,
        to=USER,
        template_code=approved_template,
        language="en",
        template_params={"1": "Alice", "2": "ORD-42"},
        task_id="8d1c2f0e-row-1",
        cust_space_id="cams-1",
    )
    assert isinstance(result, SendResult)
    entry = sandbox.entry(result.message_id)
    assert entry is not None
    assert entry.task_id == "8d1c2f0e-row-1"


def test_it_sends_to_many(
    sandbox: SandboxHandle, client: CamsClient, approved_template: str
) -> None:
    result = client.send_mass_message(
        channel_type="whatsapp",
        from_=SENDER,
        language="en",
        template_code=approved_template,
        sender_list=[{"To": f"6591{n:06d}", "TemplateParams": EXAMPLE} for n in range(1000)],
        task_id="campaign-1",
    )
    assert isinstance(result, MassSendResult)
    assert result.group_message_id
    assert sandbox.ledger()["messages"] == 1000


def test_it_queries_the_phone_numbers(client: CamsClient) -> None:
    numbers = client.query_phone_numbers(cust_space_id="cams-1")
    assert [n["PhoneNumber"] for n in numbers] == [SENDER]


def test_it_lists_messages(client: CamsClient, approved_template: str) -> None:
    sent = client.send_message(
        channel_type="whatsapp",
        type="template",
        from_=SENDER,
        to=USER,
        template_code=approved_template,
        language="en",
        template_params=EXAMPLE,
    )
    history = client.list_messages(
        cust_space_id="cams-1",
        channel_type="whatsapp",
        business_number=SENDER,
        user_number=USER,
        event_action="DOWN",
        template_code=approved_template,
        start_time=0,
        end_time=4_102_444_800_000,
    )
    assert [m["MessageId"] for m in history] == [sent.message_id]


def test_it_raises_a_permanent_error_for_a_refusal(client: CamsClient) -> None:
    with pytest.raises(errors.CamsApiError) as caught:
        client.get_template(language="en", template_code="missing")
    error = caught.value
    assert error.code == "DetailError.TemplateNotExist"
    assert not error.retryable
    assert not error.ambiguous
    assert error.request_id


def test_it_raises_a_retryable_error_when_throttled(
    sandbox: SandboxHandle, client: CamsClient
) -> None:
    sandbox.configure(qps={"ListChatappTemplate": 1})
    client.list_templates()
    with pytest.raises(errors.CamsThrottled) as caught:
        client.list_templates()
    assert caught.value.retryable


def test_it_raises_an_ambiguous_error_for_a_5xx(sandbox: SandboxHandle, client: CamsClient) -> None:
    sandbox.configure(error_5xx_ratio=1.0)
    with pytest.raises(errors.CamsAmbiguous) as caught:
        client.query_phone_numbers()
    assert caught.value.ambiguous


def test_it_raises_an_ambiguous_timeout_for_a_hang(
    sandbox: SandboxHandle, approved_template: str
) -> None:
    sandbox.configure(hang_ratio=1.0)
    with (
        CamsClient(
            access_key_id=sandbox.access_key_id,
            access_key_secret=sandbox.access_key_secret,
            endpoint=sandbox.url,
            timeout=(2.0, 0.3),
        ) as impatient,
        pytest.raises(errors.CamsAmbiguous) as caught,
    ):
        impatient.list_templates()
    assert caught.value.code == errors.TIMEOUT


def test_it_raises_unreachable_when_nothing_listens() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        CamsClient(
            access_key_id="x", access_key_secret="y", endpoint=f"http://127.0.0.1:{port}"
        ) as cams,
        pytest.raises(errors.CamsUnreachable) as caught,
    ):
        cams.list_templates()
    assert caught.value.retryable
    assert not caught.value.ambiguous


def test_it_raises_for_a_wrong_secret(sandbox: SandboxHandle) -> None:
    with (
        CamsClient(
            access_key_id=sandbox.access_key_id, access_key_secret="wrong", endpoint=sandbox.url
        ) as cams,
        pytest.raises(errors.CamsApiError) as caught,
    ):
        cams.list_templates()
    assert caught.value.code == "SignatureDoesNotMatch"
