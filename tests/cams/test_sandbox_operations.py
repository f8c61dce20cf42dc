"""Every CAMS operation the console calls: the happy path and the documented refusals."""

from __future__ import annotations

import time
from typing import Any

import pytest

from camsconsole.cams.client import CamsClient
from camsconsole.cams.errors import CamsApiError
from camsconsole.cams.sandbox import SandboxHandle, running_sandbox
from tests.cams.conftest import BODY, EXAMPLE, FAST, SENDER, USER, create_template, template_send


def refusal(client: CamsClient, action: str, params: dict[str, Any]) -> CamsApiError:
    with pytest.raises(CamsApiError) as caught:
        client.call(action, params)
    assert caught.value.http_status == 400
    return caught.value


# -- templates ------------------------------------------------------------------------------


def test_it_creates_a_template_in_review(sandbox: SandboxHandle, client: CamsClient) -> None:
    sandbox.configure(review_delay=0.5)
    body = client.call(
        "CreateChatappTemplate",
        {
            "TemplateType": "WHATSAPP",
            "Name": "order_update",
            "Language": "en",
            "Category": "UTILITY",
            "Components": BODY,
            "Example": EXAMPLE,
        },
    )
    assert body["Success"] is True
    code = body["Data"]["TemplateCode"]
    assert body["Data"]["TemplateName"] == "order_update"
    assert client.get_template(language="en", template_code=code)["AuditStatus"] == "auditing"
    time.sleep(0.55)
    detail = client.get_template(language="en", template_code=code)
    assert detail["AuditStatus"] == "pass"
    assert detail["Components"] == BODY
    assert detail["Example"] == EXAMPLE
    assert detail["Category"] == "UTILITY"
    assert detail["QualityScore"] == "GREEN"


def test_it_rejects_templates_named_reject(client: CamsClient) -> None:
    code = create_template(client, name="please_reject_me")
    detail = client.get_template(language="en", template_name="please_reject_me")
    assert detail["TemplateCode"] == code
    assert detail["AuditStatus"] == "fail"
    assert "reject" in detail["Reason"]


def test_it_refuses_a_duplicate_name_in_the_same_language(client: CamsClient) -> None:
    create_template(client)
    error = refusal(
        client,
        "CreateChatappTemplate",
        {
            "TemplateType": "WHATSAPP",
            "Name": "order_update",
            "Language": "en",
            "Category": "UTILITY",
            "Components": BODY,
            "Example": EXAMPLE,
        },
    )
    assert error.code == "InvalidParameter.TemplateNameExist"


def test_it_keeps_one_code_across_languages(client: CamsClient) -> None:
    english = create_template(client, language="en")
    indonesian = create_template(
        client, language="id", components=[{"Type": "BODY", "Text": "Halo {{1}}, pesanan {{2}}."}]
    )
    assert english == indonesian
    assert client.list_templates(code=english).total == 2


def test_it_validates_templates_with_the_rules(client: CamsClient) -> None:
    error = refusal(
        client,
        "CreateChatappTemplate",
        {
            "TemplateType": "WHATSAPP",
            "Name": "Bad Name",
            "Language": "en",
            "Category": "UTILITY",
            "Components": BODY,
            "Example": EXAMPLE,
        },
    )
    assert error.code == "InvalidParameter.CreateError"
    missing = refusal(client, "CreateChatappTemplate", {"TemplateType": "WHATSAPP"})
    assert missing.code == "MissingName"


def test_it_resubmits_a_modified_template(sandbox: SandboxHandle, client: CamsClient) -> None:
    code = create_template(client)
    sandbox.configure(review_delay=5)
    changed = [{"Type": "BODY", "Text": "Hello {{1}}, order {{2}} is on its way."}]
    ref = client.modify_template(template_code=code, language="en", components=changed)
    assert ref.template_code == code
    detail = client.get_template(language="en", template_code=code)
    assert detail["AuditStatus"] == "auditing"
    assert detail["Components"] == changed


def test_it_refuses_to_modify_an_unknown_template(client: CamsClient) -> None:
    error = refusal(
        client,
        "ModifyChatappTemplate",
        {"TemplateCode": "nope", "Language": "en", "Components": BODY, "Example": EXAMPLE},
    )
    assert error.code == "DetailError.TemplateNotExist"


def test_it_refuses_to_read_an_unknown_template(client: CamsClient) -> None:
    error = refusal(client, "GetChatappTemplateDetail", {"TemplateCode": "nope", "Language": "en"})
    assert error.code == "DetailError.TemplateNotExist"
    assert refusal(client, "GetChatappTemplateDetail", {"TemplateCode": "x"}).code == (
        "MissingLanguage"
    )


def test_it_lists_templates_with_filters_and_pages(
    sandbox: SandboxHandle, client: CamsClient
) -> None:
    for n in range(3):
        create_template(client, name=f"notice_{n}")
    create_template(client, name="refund_reject")
    page = client.list_templates(page_index=1, page_size=2)
    assert page.total == 4
    assert len(page.templates) == 2
    assert set(page.templates[0]) == {
        "TemplateCode",
        "TemplateName",
        "Language",
        "Category",
        "AuditStatus",
        "Reason",
        "TemplateType",
        "LastUpdateTime",
    }
    assert client.list_templates(page_index=3, page_size=2).templates == []
    failed = client.list_templates(audit_status="fail")
    assert [t["TemplateName"] for t in failed.templates] == ["refund_reject"]
    assert client.list_templates(name="notice").total == 3


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"Page": '{"Index":0,"Size":10}'}, "InvalidParameter.PageInvalid"),
        ({"Page": "not json"}, "InvalidParameter.PageInvalid"),
        ({"AuditStatus": "approved"}, "InvalidParameter.AuditStatusNotSupport"),
        ({"TemplateType": "SMS"}, "InvalidParameter.TemplateTypeNotSupport"),
        ({"Language": "xx_YY"}, "InvalidParameter.LanguageNotSupport"),
    ],
)
def test_it_refuses_bad_list_filters(client: CamsClient, params: dict[str, Any], code: str) -> None:
    assert refusal(client, "ListChatappTemplate", params).code == code


def test_it_deletes_one_language_or_all(client: CamsClient) -> None:
    code = create_template(client, language="en")
    create_template(client, language="id")
    client.delete_template(template_code=code, language="id", template_type="WHATSAPP")
    assert client.list_templates(code=code).total == 1
    assert client.delete_template(template_code=code)["Success"] is True
    assert client.list_templates().total == 0
    error = refusal(client, "DeleteChatappTemplate", {"TemplateCode": code})
    assert error.code == "DelError.TemplateNotExist"


def test_it_keeps_templates_per_access_key() -> None:
    with running_sandbox(extra_keys=(("LTAI5tOtherKey", "other-secret"),), **FAST) as sandbox:
        owner = CamsClient(
            access_key_id=sandbox.access_key_id,
            access_key_secret=sandbox.access_key_secret,
            endpoint=sandbox.url,
        )
        other = CamsClient(
            access_key_id="LTAI5tOtherKey", access_key_secret="other-secret", endpoint=sandbox.url
        )
        code = create_template(owner)
        assert other.list_templates().total == 0
        with pytest.raises(CamsApiError) as caught:
            other.get_template(language="en", template_code=code)
        assert caught.value.code == "DetailError.TemplateNotExist"


# -- sending --------------------------------------------------------------------------------


def test_it_sends_a_template_message(
    sandbox: SandboxHandle, client: CamsClient, approved_template: str
) -> None:
    body = client.call("SendChatappMessage", template_send(approved_template, TaskId="task-1"))
    assert set(body) == {"RequestId", "Code", "Message", "MessageId"}
    entry = sandbox.entry(body["MessageId"])
    assert entry is not None
    assert (entry.to, entry.task_id, entry.descriptor.sender) == (USER, "task-1", SENDER)
    assert entry.descriptor.template_code == approved_template


def test_it_sends_a_free_form_message(sandbox: SandboxHandle, client: CamsClient) -> None:
    result = client.send_message(
        channel_type="whatsapp",
        type="message",
        from_=SENDER,
        to=USER,
        message_type="text",
        content={"text": "Your parcel is at the door."},
    )
    entry = sandbox.entry(result.message_id)
    assert entry is not None
    assert entry.descriptor.frame == "message"
    assert entry.descriptor.message_type == "TEXT"


def test_it_refuses_to_send_an_unknown_template(client: CamsClient) -> None:
    error = refusal(client, "SendChatappMessage", template_send("no-such-code"))
    assert error.code == "DetailError.TemplateNotExist"


def test_it_refuses_to_send_a_template_in_review(
    sandbox: SandboxHandle, client: CamsClient
) -> None:
    sandbox.configure(review_delay=5)
    code = create_template(client)
    error = refusal(client, "SendChatappMessage", template_send(code))
    assert error.code == "InvalidParameter.TemplateNotApproved"


def test_it_refuses_to_send_a_rejected_template(client: CamsClient) -> None:
    code = create_template(client, name="promo_reject")
    error = refusal(client, "SendChatappMessage", template_send(code))
    assert error.code == "InvalidParameter.TemplateNotApproved"
    assert "fail" in error.message


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"From": "+6580001111"}, "InvalidParameter.FromOnlyNumeric"),
        ({"To": "12"}, "InvalidParameter.PhoneNumberError"),
        ({"To": None}, "MissingTo"),
        ({"ChannelType": "sms"}, "InvalidParameter.ChannelTypeNotSupport"),
        ({"Language": None}, "InvalidParameter.LanguageNotEmpty"),
    ],
)
def test_it_answers_the_first_broken_rule(
    sandbox: SandboxHandle,
    client: CamsClient,
    approved_template: str,
    change: dict[str, Any],
    code: str,
) -> None:
    params = {**template_send(approved_template), **change}
    assert refusal(client, "SendChatappMessage", params).code == code
    assert sandbox.ledger()["messages"] == 0


def test_it_sends_to_many_recipients(
    sandbox: SandboxHandle, client: CamsClient, approved_template: str
) -> None:
    result = client.send_mass_message(
        channel_type="whatsapp",
        from_=SENDER,
        language="en",
        template_code=approved_template,
        task_id="campaign-7",
        sender_list=[
            {"To": f"659000000{n}", "TemplateParams": {"1": f"User {n}", "2": f"O-{n}"}}
            for n in range(3)
        ],
    )
    entries = sandbox.ledger(entries=True)["entries"]
    assert [e["To"] for e in entries] == ["6590000000", "6590000001", "6590000002"]
    assert {e["GroupMessageId"] for e in entries} == {result.group_message_id}
    assert {e["TaskId"] for e in entries} == {"campaign-7"}
    assert len({e["MessageId"] for e in entries}) == 3


def test_it_refuses_more_than_a_thousand_recipients(
    sandbox: SandboxHandle, client: CamsClient, approved_template: str
) -> None:
    recipients = [{"To": f"6591{n:06d}"} for n in range(1001)]
    error = refusal(
        client,
        "SendChatappMassMessage",
        {
            "ChannelType": "whatsapp",
            "From": SENDER,
            "Language": "en",
            "TemplateCode": approved_template,
            "SenderList": recipients,
        },
    )
    assert error.code == "InvalidSenderList"
    assert sandbox.ledger()["messages"] == 0


def test_it_takes_a_thousand_recipients_in_the_url(
    sandbox: SandboxHandle, client: CamsClient, approved_template: str
) -> None:
    recipients = [
        {"To": f"6591{n:06d}", "TemplateParams": {"1": "Ünïcødé & ~+", "2": f"ORDER-{n:08d}"}}
        for n in range(1000)
    ]
    client.send_mass_message(
        channel_type="whatsapp",
        from_=SENDER,
        language="en",
        template_code=approved_template,
        sender_list=recipients,
    )
    assert sandbox.ledger()["messages"] == 1000


# -- numbers and history ----------------------------------------------------------------------


def test_it_lists_the_business_numbers(
    sandbox: SandboxHandle, client: CamsClient, approved_template: str
) -> None:
    client.call("SendChatappMessage", {**template_send(approved_template), "From": "6580009999"})
    numbers = client.query_phone_numbers()
    assert [n["PhoneNumber"] for n in numbers] == [SENDER, "6580009999"]
    assert numbers[0]["Status"] == "CONNECTED"
    assert client.query_phone_numbers(status="FLAGGED") == []


def test_it_lists_the_message_history(
    sandbox: SandboxHandle, client: CamsClient, approved_template: str
) -> None:
    first = client.call("SendChatappMessage", template_send(approved_template))["MessageId"]
    second = client.call("SendChatappMessage", template_send(approved_template, To="6590003333"))
    history = client.list_messages(
        cust_space_id="cams-1", channel_type="whatsapp", business_number=SENDER
    )
    assert [m["MessageId"] for m in history] == [second["MessageId"], first]
    assert history[0]["EventAction"] == "DOWN"
    assert history[0]["TemplateCode"] == approved_template
    only = client.list_messages(
        cust_space_id="cams-1",
        channel_type="whatsapp",
        business_number=SENDER,
        user_number=USER,
    )
    assert [m["MessageId"] for m in only] == [first]
    paged = client.list_messages(
        cust_space_id="cams-1",
        channel_type="whatsapp",
        business_number=SENDER,
        page_index=2,
        page_size=1,
    )
    assert [m["MessageId"] for m in paged] == [first]


def test_it_lists_a_mass_send_by_group_id(client: CamsClient, approved_template: str) -> None:
    client.call("SendChatappMessage", template_send(approved_template))
    result = client.send_mass_message(
        channel_type="whatsapp",
        from_=SENDER,
        language="en",
        template_code=approved_template,
        sender_list=[{"To": "6590000001"}, {"To": "6590000002"}],
    )
    history = client.list_messages(
        cust_space_id="cams-1",
        channel_type="whatsapp",
        business_number=SENDER,
        group_message_id=result.group_message_id,
    )
    assert sorted(m["UserNumber"] for m in history) == ["6590000001", "6590000002"]


def test_it_lists_inbound_messages(sandbox: SandboxHandle, client: CamsClient) -> None:
    sandbox.inbound(USER, SENDER, message="Where is my order?")
    history = client.list_messages(
        cust_space_id="cams-1", channel_type="whatsapp", business_number=SENDER, event_action="UP"
    )
    assert len(history) == 1
    assert history[0]["Message"] == "Where is my order?"
    assert history[0]["UserNumber"] == USER


@pytest.mark.parametrize(
    ("drop", "code"),
    [
        ("CustSpaceId", "MissingCustSpaceId"),
        ("BusinessNumber", "MissingBusinessNumber"),
        ("Page", "MissingPage"),
    ],
)
def test_it_requires_the_history_parameters(client: CamsClient, drop: str, code: str) -> None:
    params: dict[str, Any] = {
        "CustSpaceId": "cams-1",
        "ChannelType": "whatsapp",
        "BusinessNumber": SENDER,
        "Page": {"Index": 1, "Size": 10},
    }
    del params[drop]
    assert refusal(client, "ListChatappMessage", params).code == code
