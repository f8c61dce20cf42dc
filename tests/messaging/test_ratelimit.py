"""The shared rate limiter: GCRA reservations in Redis, slow-down after throttling, nothing sent
without Redis, and the sandbox's strict per-second limit never exceeded."""

import itertools
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from camsconsole.cams.client import CamsClient
from camsconsole.cams.sandbox import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET
from camsconsole.embedded_redis import embedded_redis
from messaging import ratelimit
from tests.messaging.conftest import USER, WA_NUMBER, Senders, redis_down_url

SEND = "SendChatappMessage"
MASS = "SendChatappMassMessage"


def slot(account_id: int, operation: str, qps: float) -> float:
    """When the reserved slot is, on this machine's clock."""
    return time.monotonic() + ratelimit.reserve(account_id, operation, qps)


def test_it_spaces_reservations_at_the_target_rate(settings: Any) -> None:
    settings.MESSAGING_RATE_TARGET = 0.5
    start = time.monotonic()
    slots = [slot(1, SEND, 100) for _ in range(5)]
    # 100 QPS at 50% is one slot every 20 ms, the first at once.
    assert slots[0] - start == pytest.approx(0, abs=0.005)
    for earlier, later in itertools.pairwise(slots):
        assert later - earlier == pytest.approx(0.02, abs=0.003)


def test_it_keeps_one_schedule_per_account_and_operation() -> None:
    ratelimit.reserve(1, SEND, 10)
    assert ratelimit.reserve(2, SEND, 10) == pytest.approx(0, abs=0.005)
    assert ratelimit.reserve(1, MASS, 10) == pytest.approx(0, abs=0.005)
    assert ratelimit.reserve(1, SEND, 10) > 0.09


def test_it_defaults_to_98_percent_of_the_limit() -> None:
    assert ratelimit.interval(250) == pytest.approx(1 / (250 * 0.98))


def test_it_reserves_nothing_beyond_the_longest_wait() -> None:
    for _ in range(3):
        ratelimit.reserve(1, SEND, 10)
    with pytest.raises(ratelimit.SlotTooFar) as refused:
        ratelimit.reserve(1, SEND, 10, max_wait=0.15)
    assert refused.value.wait == pytest.approx(3 * ratelimit.interval(10), abs=0.01)
    # The refused call took no slot: the next one is where it would have been.
    assert ratelimit.reserve(1, SEND, 10) == pytest.approx(3 * ratelimit.interval(10), abs=0.01)


def test_it_slows_every_caller_down_after_limit_control(senders: Senders, settings: Any) -> None:
    account = senders.account
    settings.MESSAGING_SLOWDOWN_SECONDS = 0.3
    first = slot(account.pk, SEND, 10)
    ratelimit.slow_down(account, SEND)
    assert ratelimit.slowdown_factor(account, SEND) == 2.0
    second = slot(account.pk, SEND, 10)
    third = slot(account.pk, SEND, 10)
    assert second - first == pytest.approx(ratelimit.interval(10), abs=0.005)
    assert third - second == pytest.approx(
        2 * ratelimit.interval(10), abs=0.005
    )  # twice the interval
    time.sleep(0.3)
    assert ratelimit.slowdown_factor(account, SEND) == 1.0


def test_it_refuses_to_hand_out_slots_without_redis(settings: Any) -> None:
    settings.REDIS_URL = redis_down_url()
    with pytest.raises(ratelimit.RateLimiterUnavailable):
        ratelimit.reserve(1, SEND, 10)


def test_it_refuses_when_redis_goes_away_mid_way(settings: Any) -> None:
    with embedded_redis(6397) as url:
        settings.REDIS_URL = url
        assert ratelimit.reserve(1, SEND, 10) == pytest.approx(0, abs=0.005)
    with pytest.raises(ratelimit.RateLimiterUnavailable):
        ratelimit.reserve(1, SEND, 10)


class Remote:
    """A sandbox in a process of its own, as CAMS is: its clock and its GIL are not ours."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.access_key_id = DEMO_ACCESS_KEY_ID
        self.access_key_secret = DEMO_ACCESS_KEY_SECRET

    def admin(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        if payload is None:
            return requests.get(f"{self.url}/_sandbox/{path}", timeout=10).json()
        return requests.post(f"{self.url}/_sandbox/{path}", json=payload, timeout=10).json()

    def ledger(self) -> dict[str, Any]:
        ledger: dict[str, Any] = self.admin("ledger")
        return ledger


@pytest.fixture
def remote() -> Iterator[Remote]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "camsconsole.cams.sandbox", "--port", str(port)]
    command += ["--no-receipts", "--review-delay", "0"]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    sandbox = Remote(port)
    try:
        for _ in range(200):
            try:
                sandbox.admin("health")
                break
            except requests.RequestException:
                time.sleep(0.05)
        yield sandbox
    finally:
        process.terminate()
        process.wait(timeout=10)


def _hammer(
    sandbox: Remote,
    senders: Senders,
    operation: str,
    seconds: float,
    threads: int,
    call: Any,
) -> None:
    account = senders.account
    stop = time.monotonic() + seconds
    errors: list[BaseException] = []

    def run() -> None:
        with CamsClient(
            access_key_id=sandbox.access_key_id,
            access_key_secret=sandbox.access_key_secret,
            endpoint=sandbox.url,
        ) as client:
            while time.monotonic() < stop:
                try:
                    ratelimit.acquire(account, operation)
                    call(client)
                except BaseException as exc:
                    errors.append(exc)
                    return

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors, errors


@pytest.mark.parametrize("limit", [20, 60])
def test_it_never_exceeds_the_sandbox_limit_in_any_second(
    limit: int, remote: Remote, senders: Senders
) -> None:
    """Four workers send as fast as the limiter lets them; CAMS's strict count is never hit."""
    account = senders.account
    account.endpoint = remote.url
    account.qps_limits = {**account.qps_limits, SEND: limit}
    account.save()
    remote.admin("config", {"qps": {SEND: limit}})
    approved_code = _approve(remote)

    def send(client: CamsClient) -> None:
        client.send_message(
            channel_type="whatsapp",
            type="template",
            from_=WA_NUMBER,
            to=USER,
            template_code=approved_code,
            language="en",
            template_params={"1": "A", "2": "B"},
        )

    _hammer(remote, senders, SEND, 3.2, 4, send)
    stats = remote.ledger()["operations"][SEND]
    assert stats["throttled"] == 0
    assert stats["max_in_any_1s_window"] <= limit
    # How close to the limit it gets is a timing figure, measured by bench/dispatch.py; here only
    # that the workers did send, rather than sit on the limiter.
    assert stats["accepted"] >= limit


def test_it_paces_mass_sends_at_their_own_limit(remote: Remote, senders: Senders) -> None:
    account = senders.account
    account.endpoint = remote.url
    account.save()
    approved_code = _approve(remote)

    def send(client: CamsClient) -> None:
        client.send_mass_message(
            channel_type="whatsapp",
            from_=WA_NUMBER,
            language="en",
            template_code=approved_code,
            sender_list=[{"To": USER, "TemplateParams": {"1": "A", "2": "B"}}],
        )

    _hammer(remote, senders, MASS, 2.5, 3, send)
    stats = remote.ledger()["operations"][MASS]
    assert stats["throttled"] == 0
    assert stats["max_in_any_1s_window"] <= 10
    assert stats["accepted"] >= 20


def _approve(sandbox: Remote) -> str:
    with CamsClient(
        access_key_id=sandbox.access_key_id,
        access_key_secret=sandbox.access_key_secret,
        endpoint=sandbox.url,
    ) as cams:
        ref = cams.create_template(
            template_type="WHATSAPP",
            name="pace",
            language="en",
            category="UTILITY",
            components=[{"Type": "BODY", "Text": "Hi {{1}}, your code {{2}} is ready."}],
            example={"1": "A", "2": "B"},
        )
        for _ in range(100):
            detail = cams.get_template(template_code=ref.template_code, language="en")
            if detail.get("AuditStatus") == "pass":
                break
            time.sleep(0.02)
    return ref.template_code
