"""Faults on demand: latency, 5xx answers, hangs, throttle storms."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from camsconsole.cams import errors
from camsconsole.cams.client import CamsClient, SendResult
from camsconsole.cams.errors import CamsAmbiguous, CamsError, CamsThrottled
from camsconsole.cams.sandbox import SandboxHandle, running_sandbox
from tests.cams.conftest import FAST, template_send

SEND = "SendChatappMessage"


def wait_until(condition: object, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def impatient(sandbox: SandboxHandle, read_timeout: float) -> CamsClient:
    return CamsClient(
        access_key_id=sandbox.access_key_id,
        access_key_secret=sandbox.access_key_secret,
        endpoint=sandbox.url,
        timeout=(2.0, read_timeout),
    )


@pytest.mark.parametrize(("carried_out", "ledgered"), [(1.0, 1), (0.0, 0)])
def test_it_answers_a_5xx_that_may_hide_an_accepted_send(
    sandbox: SandboxHandle,
    client: CamsClient,
    approved_template: str,
    carried_out: float,
    ledgered: int,
) -> None:
    sandbox.configure(error_5xx_ratio=1.0, fault_accept_ratio=carried_out)
    with pytest.raises(CamsAmbiguous) as caught:
        client.call(SEND, template_send(approved_template))
    assert caught.value.http_status in (500, 503)
    assert caught.value.code in ("InternalError", "ServiceUnavailable")
    assert caught.value.request_id
    assert sandbox.ledger()["messages"] == ledgered
    assert sandbox.ledger()["faults"]["5xx"] == 1


def test_it_hangs_until_the_client_gives_up(sandbox: SandboxHandle, approved_template: str) -> None:
    sandbox.configure(hang_ratio=1.0, fault_accept_ratio=1.0)
    started = time.monotonic()
    with impatient(sandbox, 0.3) as cams, pytest.raises(CamsAmbiguous) as caught:
        cams.call(SEND, template_send(approved_template))
    assert caught.value.code == errors.TIMEOUT
    assert time.monotonic() - started < 5
    # Accepted, but the client never heard: the case reconciliation exists for.
    assert sandbox.ledger()["messages"] == 1
    # The hung worker notices the client left and frees itself.
    assert wait_until(lambda: sandbox.state.faults.hung == 0)


def test_it_caps_the_hung_connections(sandbox: SandboxHandle, approved_template: str) -> None:
    sandbox.configure(hang_ratio=1.0, max_hung=2)
    barrier = threading.Barrier(4)

    def send(n: int) -> SendResult | CamsError:
        with impatient(sandbox, 2.0) as cams:
            barrier.wait()
            try:
                return cams.send_message(
                    channel_type="whatsapp",
                    type="template",
                    from_="6580001111",
                    to=f"659000000{n}",
                    template_code=approved_template,
                    language="en",
                    template_params={"1": "A", "2": "B"},
                )
            except CamsError as error:
                return error

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(send, range(4)))
    timeouts = [o for o in outcomes if isinstance(o, CamsAmbiguous) and o.code == errors.TIMEOUT]
    answered = [o for o in outcomes if isinstance(o, SendResult)]
    assert (len(timeouts), len(answered)) == (2, 2)
    assert sandbox.ledger()["faults"]["hang_refused_cap"] == 2


def test_it_releases_a_hung_call_after_hang_seconds(
    sandbox: SandboxHandle, approved_template: str
) -> None:
    sandbox.configure(hang_ratio=1.0, hang_seconds=0.2)
    with impatient(sandbox, 5.0) as cams, pytest.raises(CamsAmbiguous) as caught:
        cams.call(SEND, template_send(approved_template))
    # Released before the client gave up: a 503 the client can see.
    assert caught.value.code == "ServiceUnavailable"


def test_it_stops_promptly_with_calls_hanging() -> None:
    outcome: list[CamsError] = []
    with running_sandbox(hang_ratio=1.0, **FAST) as sandbox:
        cams = impatient(sandbox, 30.0)

        def call() -> None:
            try:
                cams.list_templates()
            except CamsError as error:
                outcome.append(error)

        thread = threading.Thread(target=call)
        thread.start()
        assert wait_until(lambda: sandbox.state.faults.hung == 1)
        started = time.monotonic()
    assert time.monotonic() - started < 3
    thread.join(timeout=5)
    assert len(outcome) == 1
    assert outcome[0].ambiguous


def test_it_adds_latency(sandbox: SandboxHandle, client: CamsClient) -> None:
    sandbox.configure(latency_ms=150, jitter_ms=50)
    started = time.monotonic()
    client.list_templates()
    assert 0.15 <= time.monotonic() - started < 3.0


def test_it_throttles_everything_during_a_storm(sandbox: SandboxHandle, client: CamsClient) -> None:
    sandbox.configure(throttle_storm=1.0)
    for _ in range(3):
        with pytest.raises(CamsThrottled) as caught:
            client.list_templates()
        assert caught.value.code == "System.LimitControl"
    report = sandbox.ledger()
    assert report["operations"]["ListChatappTemplate"]["throttled"] == 3
    assert report["operations"]["ListChatappTemplate"]["accepted"] == 0
    assert report["faults"]["storm"] == 3


def test_it_storms_only_part_of_each_period(sandbox: SandboxHandle, client: CamsClient) -> None:
    sandbox.configure(
        throttle_storm=0.5, throttle_storm_period=0.4, qps={"ListChatappTemplate": 1000}
    )
    outcomes = []
    stop = time.monotonic() + 1.0
    while time.monotonic() < stop:
        try:
            client.list_templates()
            outcomes.append("ok")
        except CamsThrottled:
            outcomes.append("throttled")
        time.sleep(0.01)
    assert "ok" in outcomes
    assert "throttled" in outcomes


def test_it_limits_faults_to_the_chosen_operations(
    sandbox: SandboxHandle, client: CamsClient, approved_template: str
) -> None:
    sandbox.configure(error_5xx_ratio=1.0, fault_operations=[SEND])
    assert client.list_templates().total == 1
    with pytest.raises(CamsAmbiguous):
        client.call(SEND, template_send(approved_template))


def test_it_changes_faults_at_runtime_over_http(sandbox: SandboxHandle, client: CamsClient) -> None:
    changed = sandbox.admin("config", {"error_5xx_ratio": 1, "latency_ms": 5})
    assert changed["error_5xx_ratio"] == 1.0
    assert changed["access_key_secret"] == "***"
    with pytest.raises(CamsAmbiguous):
        client.list_templates()
    sandbox.admin("config", {"error_5xx_ratio": 0})
    assert client.list_templates().total == 0


@pytest.mark.parametrize(
    "change", [{"error_5xx_ratio": 2}, {"port": 1}, {"qps": {"NoSuchOperation": 1}}, {"nope": 1}]
)
def test_it_refuses_bad_runtime_changes(sandbox: SandboxHandle, change: dict[str, object]) -> None:
    response = requests.post(f"{sandbox.url}/_sandbox/config", json=change, timeout=5)
    assert response.status_code == 400
    assert "error" in response.json()
