"""The official Alibaba Cloud SDK works against the sandbox: proof it speaks the real protocol."""

from __future__ import annotations

import pytest
from alibabacloud_cams20200606 import models
from alibabacloud_cams20200606.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config

from camsconsole.cams.sandbox import SandboxHandle
from tests.cams.conftest import SENDER, USER


def sdk(sandbox: SandboxHandle, secret: str | None = None, key_id: str | None = None) -> Client:
    return Client(
        Config(
            access_key_id=key_id or sandbox.access_key_id,
            access_key_secret=secret or sandbox.access_key_secret,
            endpoint=sandbox.endpoint,
            protocol="http",
        )
    )


def create(client: Client, name: str = "sdk_notice") -> str:
    response = client.create_chatapp_template(
        models.CreateChatappTemplateRequest(
            template_type="WHATSAPP",
            name=name,
            language="en",
            category="UTILITY",
            components=[
                models.CreateChatappTemplateRequestComponents(
                    type="BODY", text="Hello {{1}}, your code is {{2}}."
                ),
                models.CreateChatappTemplateRequestComponents(
                    type="BUTTONS",
                    buttons=[
                        models.CreateChatappTemplateRequestComponentsButtons(
                            type="QUICK_REPLY", text="Thanks"
                        )
                    ],
                ),
            ],
            example={"1": "Alice", "2": "1234"},
        )
    )
    assert response.status_code == 200
    assert response.body.code == "OK"
    assert response.body.data.template_name == name
    return str(response.body.data.template_code)


def test_it_creates_reads_and_lists_templates(sandbox: SandboxHandle) -> None:
    client = sdk(sandbox)
    code = create(client)
    detail = client.get_chatapp_template_detail(
        models.GetChatappTemplateDetailRequest(template_code=code, language="en")
    ).body
    assert detail.code == "OK"
    assert detail.data.audit_status == "pass"
    assert detail.data.components[0].text == "Hello {{1}}, your code is {{2}}."
    assert detail.data.components[1].buttons[0].type == "QUICK_REPLY"
    listed = client.list_chatapp_template(
        models.ListChatappTemplateRequest(
            page=models.ListChatappTemplateRequestPage(index=1, size=5)
        )
    ).body
    assert listed.total == 1
    assert listed.list_template[0].template_code == code


def test_it_sends_and_mass_sends(sandbox: SandboxHandle) -> None:
    client = sdk(sandbox)
    code = create(client)
    sent = client.send_chatapp_message(
        models.SendChatappMessageRequest(
            channel_type="whatsapp",
            type="template",
            from_=SENDER,
            to=USER,
            template_code=code,
            language="en",
            template_params={"1": "Al & Co", "2": "99 + 1"},
            payload=["thanks"],
            task_id="sdk task 1",
        )
    ).body
    assert sent.code == "OK"
    entry = sandbox.entry(sent.message_id)
    assert entry is not None
    assert entry.task_id == "sdk task 1"

    recipients = [
        models.SendChatappMassMessageRequestSenderList(
            to=f"6591{n:06d}", template_params={"1": f"Ünïcødé {n}", "2": str(n)}
        )
        for n in range(1000)
    ]
    group = client.send_chatapp_mass_message(
        models.SendChatappMassMessageRequest(
            channel_type="whatsapp",
            from_=SENDER,
            language="en",
            template_code=code,
            sender_list=recipients,
            task_id="sdk-campaign",
        )
    ).body
    assert group.code == "OK"
    assert group.group_message_id
    assert sandbox.ledger()["messages"] == 1001


def test_it_reads_numbers_and_history(sandbox: SandboxHandle) -> None:
    client = sdk(sandbox)
    numbers = client.query_chatapp_phone_numbers(
        models.QueryChatappPhoneNumbersRequest(cust_space_id="cams-1")
    ).body
    assert numbers.phone_numbers[0].phone_number == SENDER
    sandbox.inbound(USER, SENDER, message="hello")
    history = client.list_chatapp_message(
        models.ListChatappMessageRequest(
            cust_space_id="cams-1",
            channel_type="whatsapp",
            business_number=SENDER,
            page=models.ListChatappMessageRequestPage(index=1, size=10),
        )
    ).body
    assert history.data[0].event_action == "UP"


def test_it_gets_signature_does_not_match_for_a_wrong_secret(sandbox: SandboxHandle) -> None:
    with pytest.raises(ClientException) as caught:
        sdk(sandbox, secret="wrong-secret").list_chatapp_template(
            models.ListChatappTemplateRequest()
        )
    assert caught.value.code == "SignatureDoesNotMatch"
    assert caught.value.status_code == 400
    assert caught.value.request_id


def test_it_gets_not_found_for_an_unknown_key(sandbox: SandboxHandle) -> None:
    with pytest.raises(ClientException) as caught:
        sdk(sandbox, key_id="LTAI5tNobody").list_chatapp_template(
            models.ListChatappTemplateRequest()
        )
    assert caught.value.code == "InvalidAccessKeyId.NotFound"
    assert caught.value.status_code == 404


def test_it_gets_the_rules_code_for_a_bad_request(sandbox: SandboxHandle) -> None:
    client = sdk(sandbox)
    code = create(client)
    with pytest.raises(ClientException) as caught:
        client.send_chatapp_message(
            models.SendChatappMessageRequest(
                channel_type="whatsapp",
                type="template",
                from_="+65 8000 1111",
                to=USER,
                template_code=code,
                language="en",
            )
        )
    assert caught.value.code == "InvalidParameter.FromOnlyNumeric"
    with pytest.raises(ClientException) as caught:
        client.send_chatapp_message(
            models.SendChatappMessageRequest(
                channel_type="whatsapp",
                type="message",
                from_=SENDER,
                to=USER,
                message_type="text",
                content="{}",
            )
        )
    assert caught.value.code == "InvalidParameter.TextNotEmpty"


def test_it_gets_limit_control_beyond_the_qps(sandbox: SandboxHandle) -> None:
    sandbox.configure(qps={"ListChatappTemplate": 1})
    client = sdk(sandbox)
    request = models.ListChatappTemplateRequest()
    client.list_chatapp_template(request)
    with pytest.raises(ClientException) as caught:
        client.list_chatapp_template(request)
    assert caught.value.code == "System.LimitControl"
    assert caught.value.status_code == 400
