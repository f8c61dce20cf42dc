"""The client against a real HTTP server on loopback: no mocks, every byte goes over a socket."""

import json
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from camsconsole.cams import errors, signing
from camsconsole.cams.client import (
    CamsClient,
    MassSendResult,
    SendResult,
    TemplatePage,
    TemplateRef,
    encode_params,
    wire_query,
)

KEY_ID = "LTAI-test-id"
SECRET = "test-secret"
VECTORS = json.loads(
    (Path(__file__).parent / "fixtures" / "signature-vectors.json").read_text(encoding="utf-8")
)
OK = {"Code": "OK", "Message": "OK", "RequestId": "REQ-1"}


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    peer: tuple[str, int]  # the client's end of the connection

    @property
    def query(self) -> dict[str, str]:
        raw = urllib.parse.urlsplit(self.path).query
        return dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))


@dataclass
class Reply:
    status: int = 200
    body: bytes | dict[str, Any] = field(default_factory=lambda: dict(OK))
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hang_up: bool = False  # read the request, then close the socket without answering
    then_close: bool = False  # answer (keeping alive, as far as the client knows), then close


class FakeCams(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[Recorded] = []
        self.replies: list[Reply] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)


class _Handler(BaseHTTPRequestHandler):
    server: FakeCams
    protocol_version = "HTTP/1.1"  # keep-alive, as CAMS's gateway

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append(
            Recorded(
                "POST",
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                body,
                self.client_address,
            )
        )
        reply = self.server.replies.pop(0) if self.server.replies else Reply()
        time.sleep(reply.delay)
        if reply.hang_up:
            self.close_connection = True
            return
        payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            self.close_connection = reply.then_close
        except OSError:
            pass  # the client gave up waiting (read-timeout tests)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def cams() -> Iterator[FakeCams]:
    server = FakeCams()
    # A short poll interval keeps shutdown() from costing half a second per test.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(cams: FakeCams) -> Iterator[CamsClient]:
    with CamsClient(
        access_key_id=KEY_ID, access_key_secret=SECRET, endpoint=cams.endpoint, timeout=(2, 2)
    ) as client:
        yield client


def _verifies(request: Recorded, secret: str) -> bool:
    _, key_id, names, sig = signing.parse_authorization(request.headers["authorization"])
    creq = signing.canonical_request(
        request.method,
        urllib.parse.urlsplit(request.path).path,
        request.query,
        request.headers,
        names,
        signing.hashed_payload(request.body),
    )
    return key_id == KEY_ID and signing.signature(secret, creq) == sig


def _call_raising(client: CamsClient) -> errors.CamsError:
    with pytest.raises(errors.CamsError) as caught:
        client.call("SendChatappMessage", {"To": "6590000001"})
    return caught.value


# --- wire shape -------------------------------------------------------------------------------


def test_it_posts_every_parameter_in_the_query_with_an_empty_body(
    cams: FakeCams, client: CamsClient
) -> None:
    client.call(
        "SendChatappMessage",
        {
            "ChannelType": "whatsapp",
            "Content": '{"text":"Olá & bye"}',
            "TemplateParams": {"2": "ORD-42", "1": "Zoë"},
            "Payload": ["yes", "no"],
            "FallBackDuration": 50,
            "CategoryChangePaused": True,
            "TaskId": None,
        },
    )

    [request] = cams.requests
    assert request.method == "POST"
    assert request.path.startswith("/?")
    assert request.body == b""
    assert request.headers["content-length"] == "0"
    assert request.query == {
        "ChannelType": "whatsapp",
        "Content": '{"text":"Olá & bye"}',
        "TemplateParams": '{"1":"Zoë","2":"ORD-42"}',
        "Payload": '["yes","no"]',
        "FallBackDuration": "50",
        "CategoryChangePaused": "True",
    }


def test_it_sends_the_signed_headers(cams: FakeCams, client: CamsClient) -> None:
    client.call("ListChatappTemplate", {"Page": {"Index": 1, "Size": 20}})

    headers = cams.requests[0].headers
    assert headers["host"] == urllib.parse.urlsplit(cams.endpoint).netloc
    assert headers["x-acs-action"] == "ListChatappTemplate"
    assert headers["x-acs-version"] == "2020-06-06"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", headers["x-acs-date"])
    assert re.fullmatch(r"[0-9a-f]{32}", headers["x-acs-signature-nonce"])
    assert headers["x-acs-content-sha256"] == signing.EMPTY_PAYLOAD_HASH
    assert headers["accept"] == "application/json"
    assert headers["authorization"].startswith(
        f"ACS3-HMAC-SHA256 Credential={KEY_ID},SignedHeaders="
        "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
    )


def test_it_signs_requests_the_server_can_verify(cams: FakeCams, client: CamsClient) -> None:
    client.call(
        "SendChatappMessage",
        {"Content": '{"text":"a b+c~*/é"}', "SenderList": [{"To": "1"}], "Empty": ""},
    )

    [request] = cams.requests
    assert _verifies(request, SECRET)
    assert not _verifies(request, "another-secret")


def test_it_posts_to_the_root_without_a_query_when_there_are_no_parameters(
    cams: FakeCams, client: CamsClient
) -> None:
    client.call("QueryChatappPhoneNumbers", {})

    [request] = cams.requests
    assert request.path == "/"
    assert _verifies(request, SECRET)


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda case: case["id"])
def test_it_encodes_parameters_like_the_sdk(case: dict[str, Any]) -> None:
    encoded = encode_params(case["sdk_request_to_map"])

    assert encoded == case["inputs"]["query"]
    assert wire_query(encoded) == urllib.parse.urlsplit(case["expected"]["wire_url"]).query


# --- answers ----------------------------------------------------------------------------------


def test_it_returns_the_parsed_body_on_success(cams: FakeCams, client: CamsClient) -> None:
    cams.script(Reply(body={**OK, "MessageId": "msg-1"}))

    assert client.call("SendChatappMessage", {}) == {**OK, "MessageId": "msg-1"}


def test_it_raises_when_a_200_carries_an_error_code(cams: FakeCams, client: CamsClient) -> None:
    cams.script(
        Reply(body={"Code": "InvalidParameter.ContentError", "Message": "bad", "RequestId": "R2"})
    )

    error = _call_raising(client)

    assert isinstance(error, errors.CamsApiError)
    assert (error.code, error.message, error.request_id, error.http_status) == (
        "InvalidParameter.ContentError",
        "bad",
        "R2",
        200,
    )
    assert not error.retryable
    assert not error.ambiguous
    assert len(cams.requests) == 1


def test_it_marks_limit_control_as_retryable(cams: FakeCams, client: CamsClient) -> None:
    cams.script(Reply(400, {"Code": "System.LimitControl", "Message": "qps", "RequestId": "R3"}))

    error = _call_raising(client)

    assert isinstance(error, errors.CamsThrottled)
    assert (error.code, error.request_id, error.http_status) == ("System.LimitControl", "R3", 400)
    assert error.retryable
    assert not error.ambiguous
    assert len(cams.requests) == 1


def test_it_reads_the_gateway_retry_after_header(cams: FakeCams, client: CamsClient) -> None:
    cams.script(
        Reply(
            400, {"Code": "Throttling.User", "Message": "slow down"}, {"x-acs-retry-after": "1500"}
        )
    )

    error = _call_raising(client)

    assert isinstance(error, errors.CamsThrottled)
    assert error.retry_after == 1.5
    assert error.retryable
    assert len(cams.requests) == 1


def test_it_treats_a_business_code_as_permanent(cams: FakeCams, client: CamsClient) -> None:
    cams.script(Reply(400, {"Code": "InvalidParameter.PhoneNumberError", "Message": "bad number"}))

    error = _call_raising(client)

    assert type(error) is errors.CamsApiError
    assert error.code == "InvalidParameter.PhoneNumberError"
    assert error.plain == "The phone number is not valid."
    assert not error.retryable
    assert not error.ambiguous
    assert len(cams.requests) == 1


def test_it_treats_a_server_error_as_ambiguous(cams: FakeCams, client: CamsClient) -> None:
    cams.script(Reply(500, {"Code": "InternalError", "Message": "oops", "RequestId": "R5"}))

    error = _call_raising(client)

    assert isinstance(error, errors.CamsAmbiguous)
    assert (error.code, error.request_id, error.http_status) == ("InternalError", "R5", 500)
    assert error.ambiguous
    assert not error.retryable
    assert len(cams.requests) == 1


@pytest.mark.parametrize(
    ("status", "ambiguous"),
    [(502, True), (404, False)],
)
def test_it_handles_an_error_page_that_is_not_json(
    cams: FakeCams, client: CamsClient, status: int, ambiguous: bool
) -> None:
    cams.script(Reply(status, b"<html>Bad Gateway</html>", {"x-acs-request-id": "R6"}))

    error = _call_raising(client)

    assert error.code == errors.HTTP_ERROR
    assert "Bad Gateway" in error.message
    assert (error.request_id, error.http_status) == ("R6", status)
    assert error.ambiguous is ambiguous
    assert not error.retryable
    assert len(cams.requests) == 1


def test_it_treats_an_unreadable_success_as_ambiguous(cams: FakeCams, client: CamsClient) -> None:
    cams.script(Reply(200, b"not json"))

    error = _call_raising(client)

    assert isinstance(error, errors.CamsAmbiguous)
    assert error.code == errors.BAD_RESPONSE
    assert len(cams.requests) == 1


# --- the network ------------------------------------------------------------------------------


def test_it_treats_a_read_timeout_as_ambiguous(cams: FakeCams) -> None:
    cams.script(Reply(delay=0.5))
    client = CamsClient(
        access_key_id=KEY_ID, access_key_secret=SECRET, endpoint=cams.endpoint, timeout=(2, 0.1)
    )

    error = _call_raising(client)

    assert isinstance(error, errors.CamsAmbiguous)
    assert error.code == errors.TIMEOUT
    assert not error.retryable
    assert len(cams.requests) == 1


def test_it_treats_a_refused_connection_as_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port once the probe is closed.
    client = CamsClient(
        access_key_id=KEY_ID, access_key_secret=SECRET, endpoint=f"http://127.0.0.1:{port}"
    )

    error = _call_raising(client)

    assert isinstance(error, errors.CamsUnreachable)
    assert error.code == errors.UNREACHABLE
    assert error.retryable
    assert not error.ambiguous


def test_it_treats_a_connection_closed_after_sending_as_ambiguous(
    cams: FakeCams, client: CamsClient
) -> None:
    cams.script(Reply(hang_up=True))

    error = _call_raising(client)

    assert isinstance(error, errors.CamsAmbiguous)
    assert error.code == errors.CONNECTION_BROKEN
    assert not error.retryable
    assert len(cams.requests) == 1


def test_it_treats_a_truncated_answer_as_ambiguous(cams: FakeCams, client: CamsClient) -> None:
    # Promise more body than is sent, then close: the read fails after CAMS has answered.
    cams.script(Reply(200, b'{"Code":', {"Content-Length": "500"}))

    error = _call_raising(client)

    assert error.ambiguous
    assert not error.retryable
    assert len(cams.requests) == 1


def test_it_keeps_the_connection_alive_between_calls(cams: FakeCams, client: CamsClient) -> None:
    client.call("ListChatappTemplate", {})
    client.call("ListChatappTemplate", {})

    assert len(cams.requests) == 2
    assert cams.requests[0].peer == cams.requests[1].peer


def test_it_does_not_write_into_a_connection_the_server_closed(
    cams: FakeCams, client: CamsClient
) -> None:
    # Writing into it would make the next call ambiguous although it was never sent.
    cams.script(Reply(then_close=True))
    client.call("ListChatappTemplate", {})
    time.sleep(0.1)  # the server's FIN arrives

    client.call("ListChatappTemplate", {})

    assert len(cams.requests) == 2
    assert cams.requests[0].peer != cams.requests[1].peer


# --- typed helpers ----------------------------------------------------------------------------


@dataclass
class Helper:
    call: Callable[[CamsClient], Any]
    action: str
    query: dict[str, str]
    reply: dict[str, Any]
    result: Any


COMPONENTS = [{"Type": "BODY", "Text": "Hi {{1}}"}]
HELPERS = {
    "send_message": Helper(
        lambda c: c.send_message(
            channel_type="whatsapp",
            type="template",
            from_="6580001111",
            to="6590002222",
            template_code="T1",
            language="en_US",
            template_params={"1": "Alice"},
            fall_back_duration=120,
            cust_space_id="cams-1",
        ),
        "SendChatappMessage",
        {
            "ChannelType": "whatsapp",
            "Type": "template",
            "From": "6580001111",
            "To": "6590002222",
            "TemplateCode": "T1",
            "Language": "en_US",
            "TemplateParams": '{"1":"Alice"}',
            "FallBackDuration": "120",
            "CustSpaceId": "cams-1",
        },
        {"MessageId": "m-1"},
        SendResult(message_id="m-1", request_id="REQ-1"),
    ),
    "send_mass_message": Helper(
        lambda c: c.send_mass_message(
            channel_type="whatsapp",
            from_="6580001111",
            language="en_US",
            template_name="order_ready",
            sender_list=[{"To": "6590000001", "TemplateParams": {"1": "Bo"}}],
            task_id="task-1",
        ),
        "SendChatappMassMessage",
        {
            "ChannelType": "whatsapp",
            "From": "6580001111",
            "Language": "en_US",
            "TemplateName": "order_ready",
            "SenderList": '[{"TemplateParams":{"1":"Bo"},"To":"6590000001"}]',
            "TaskId": "task-1",
        },
        {"GroupMessageId": "g-1"},
        MassSendResult(group_message_id="g-1", request_id="REQ-1"),
    ),
    "create_template": Helper(
        lambda c: c.create_template(
            template_type="WHATSAPP",
            name="order_ready",
            language="en",
            category="UTILITY",
            components=COMPONENTS,
            example={"1": "Alice"},
            category_change_paused=False,
        ),
        "CreateChatappTemplate",
        {
            "TemplateType": "WHATSAPP",
            "Name": "order_ready",
            "Language": "en",
            "Category": "UTILITY",
            "Components": '[{"Text":"Hi {{1}}","Type":"BODY"}]',
            "Example": '{"1":"Alice"}',
            "CategoryChangePaused": "False",
        },
        {"Data": {"TemplateCode": "847", "TemplateName": "order_ready"}},
        TemplateRef(template_code="847", template_name="order_ready", request_id="REQ-1"),
    ),
    "modify_template": Helper(
        lambda c: c.modify_template(
            template_code="847",
            language="en",
            components=COMPONENTS,
            message_send_ttl_seconds=600,
        ),
        "ModifyChatappTemplate",
        {
            "TemplateCode": "847",
            "Language": "en",
            "Components": '[{"Text":"Hi {{1}}","Type":"BODY"}]',
            "MessageSendTtlSeconds": "600",
        },
        {"Data": {"TemplateCode": "847"}},
        TemplateRef(template_code="847", template_name=None, request_id="REQ-1"),
    ),
    "get_template": Helper(
        lambda c: c.get_template(template_code="847", language="en", template_type="WHATSAPP"),
        "GetChatappTemplateDetail",
        {"TemplateCode": "847", "Language": "en", "TemplateType": "WHATSAPP"},
        {"Data": {"TemplateCode": "847", "AuditStatus": "pass"}},
        {"TemplateCode": "847", "AuditStatus": "pass"},
    ),
    "list_templates": Helper(
        lambda c: c.list_templates(page_index=2, page_size=20, audit_status="pass"),
        "ListChatappTemplate",
        {"Page": '{"Index":2,"Size":20}', "AuditStatus": "pass"},
        {"ListTemplate": [{"TemplateCode": "847"}], "Total": 21},
        TemplatePage(templates=[{"TemplateCode": "847"}], total=21, request_id="REQ-1"),
    ),
    "delete_template": Helper(
        lambda c: c.delete_template(template_code="847", language="en", template_type="WHATSAPP"),
        "DeleteChatappTemplate",
        {"TemplateCode": "847", "Language": "en", "TemplateType": "WHATSAPP"},
        {"Success": True},
        {**OK, "Success": True},
    ),
    "query_phone_numbers": Helper(
        lambda c: c.query_phone_numbers(cust_space_id="cams-1"),
        "QueryChatappPhoneNumbers",
        {"CustSpaceId": "cams-1"},
        {"PhoneNumbers": [{"PhoneNumber": "6580001111", "Status": "CONNECTED"}]},
        [{"PhoneNumber": "6580001111", "Status": "CONNECTED"}],
    ),
    "list_messages": Helper(
        lambda c: c.list_messages(
            cust_space_id="cams-1",
            channel_type="whatsapp",
            business_number="6580001111",
            group_message_id="g-1",
            start_time=1736929800000,
        ),
        "ListChatappMessage",
        {
            "CustSpaceId": "cams-1",
            "ChannelType": "whatsapp",
            "BusinessNumber": "6580001111",
            "Page": '{"Index":1,"Size":10}',
            "GroupMessageId": "g-1",
            "StartTime": "1736929800000",
        },
        {"Data": [{"MessageId": "m-1"}]},
        [{"MessageId": "m-1"}],
    ),
}


@pytest.mark.parametrize("helper", HELPERS.values(), ids=HELPERS.keys())
def test_it_maps_each_typed_helper_to_its_operation(
    cams: FakeCams, client: CamsClient, helper: Helper
) -> None:
    cams.script(Reply(body={**OK, **helper.reply}))

    result = helper.call(client)

    [request] = cams.requests
    assert request.headers["x-acs-action"] == helper.action
    assert request.query == helper.query
    assert result == helper.result


def test_it_treats_an_ok_send_without_a_message_id_as_ambiguous(
    cams: FakeCams, client: CamsClient
) -> None:
    cams.script(Reply(body=OK))

    with pytest.raises(errors.CamsAmbiguous):
        HELPERS["send_message"].call(client)


# --- construction -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    ["cams.ap-southeast-1.aliyuncs.com", "ftp://x", "https://x/api", "https://x/?a=1"],
)
def test_it_rejects_an_endpoint_that_cannot_be_signed(endpoint: str) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        CamsClient(access_key_id=KEY_ID, access_key_secret=SECRET, endpoint=endpoint)


def test_it_keeps_the_secret_out_of_its_repr() -> None:
    client = CamsClient(access_key_id=KEY_ID, access_key_secret=SECRET)

    assert SECRET not in repr(client)
    assert client.endpoint == "https://cams.ap-southeast-1.aliyuncs.com"


def test_it_describes_codes_in_plain_words() -> None:
    assert errors.describe("System.LimitControl").startswith("CAMS is rate limiting")
    assert errors.describe("Throttling.Api") == errors.describe("Throttling")
    assert errors.describe("MissingTo") == "A required parameter is missing."
    assert "Nope.Nothing" in errors.describe("Nope.Nothing")


def test_it_reaches_an_https_endpoint_through_the_proxy_of_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bytes] = []
    with socket.socket() as proxy:
        proxy.bind(("127.0.0.1", 0))
        proxy.listen()

        def refuse() -> None:
            conn, _ = proxy.accept()
            with conn:
                seen.append(conn.recv(4096).split(b"\r\n")[0])
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

        thread = threading.Thread(target=refuse, daemon=True)
        thread.start()
        monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{proxy.getsockname()[1]}")
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        client = CamsClient(
            access_key_id=KEY_ID, access_key_secret=SECRET, endpoint="https://cams.example.com"
        )

        error = _call_raising(client)
        thread.join(5)

    assert len(seen) == 1
    assert seen[0].startswith(b"CONNECT cams.example.com:443 HTTP/")
    # The proxy refused the tunnel: nothing reached CAMS, so trying again is safe.
    assert isinstance(error, errors.CamsUnreachable)
