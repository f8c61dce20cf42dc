"""QPS limits: never more accepted calls than the limit in any one-second window."""

from __future__ import annotations

import threading
import time
from array import array
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from camsconsole.cams.client import CamsClient
from camsconsole.cams.errors import CamsThrottled
from camsconsole.cams.sandbox import SandboxHandle, running_sandbox
from camsconsole.cams.sandbox.throttle import QpsLimiter, max_in_window
from tests.cams.conftest import FAST, RawCall

LIST = "ListChatappTemplate"  # documented at 5 QPS
PAGE = {"Page": {"Index": 1, "Size": 10}}


def fire(raw_call: RawCall, count: int, action: str = LIST) -> list[requests.Response]:
    """`count` signed calls at once, from as many threads."""
    start = threading.Barrier(count)

    def one(_: int) -> requests.Response:
        start.wait()
        return raw_call(action, PAGE)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_it_refuses_calls_beyond_the_limit_with_limit_control(
    sandbox: SandboxHandle, raw_call: RawCall
) -> None:
    responses = fire(raw_call, 15)
    accepted = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code != 200]
    assert 1 <= len(accepted) <= 5
    assert refused
    assert {r.status_code for r in refused} == {400}
    assert {r.json()["Code"] for r in refused} == {"System.LimitControl"}
    calls = sandbox.ledger()["operations"][LIST]
    assert calls["accepted"] == len(accepted)
    assert calls["throttled"] == len(refused)
    assert calls["max_in_any_1s_window"] <= 5
    assert calls["limit"] == 5


def test_it_holds_the_limit_in_every_sliding_window(
    sandbox: SandboxHandle, raw_call: RawCall
) -> None:
    # Three times the limit per second for 1.5 s, spread out: the windows straddle seconds.
    stop = time.monotonic() + 1.5
    results: list[int] = []

    def hammer() -> None:
        while time.monotonic() < stop:
            results.append(raw_call(LIST, PAGE).status_code)
            time.sleep(0.2)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    calls = sandbox.ledger()["operations"][LIST]
    assert calls["max_in_any_1s_window"] <= 5
    assert calls["accepted"] + calls["throttled"] == len(results)
    assert results.count(200) == calls["accepted"]


def test_it_does_not_count_throttled_calls(sandbox: SandboxHandle, raw_call: RawCall) -> None:
    fire(raw_call, 12)
    time.sleep(1.05)
    statuses = [raw_call(LIST, PAGE).status_code for _ in range(5)]
    assert statuses == [200] * 5


def test_it_limits_each_access_key_separately() -> None:
    # A limit of 1 keeps the test independent of how fast this machine is.
    with running_sandbox(
        extra_keys=(("LTAI5tSecondKey", "second-secret"),), qps={LIST: 1}, **FAST
    ) as sandbox:
        clients = [
            CamsClient(
                access_key_id=sandbox.access_key_id,
                access_key_secret=sandbox.access_key_secret,
                endpoint=sandbox.url,
            ),
            CamsClient(
                access_key_id="LTAI5tSecondKey",
                access_key_secret="second-secret",
                endpoint=sandbox.url,
            ),
        ]
        for cams in clients:
            cams.list_templates()
        for cams in clients:
            with pytest.raises(CamsThrottled):
                cams.list_templates()


def test_it_applies_qps_overrides(sandbox: SandboxHandle, raw_call: RawCall) -> None:
    sandbox.configure(qps={LIST: 2})
    responses = fire(raw_call, 6)
    assert sum(r.status_code == 200 for r in responses) <= 2
    sandbox.configure(qps={LIST: None})
    assert sandbox.config.qps_limit(LIST) == 5


def test_it_tells_the_client_to_retry(sandbox: SandboxHandle, client: CamsClient) -> None:
    sandbox.configure(qps={LIST: 1})
    client.list_templates()
    with pytest.raises(CamsThrottled) as caught:
        client.list_templates()
    assert caught.value.retryable
    assert caught.value.code == "System.LimitControl"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@given(
    gaps=st.lists(st.floats(min_value=0.0, max_value=0.4), min_size=1, max_size=200),
    limit=st.integers(min_value=1, max_value=10),
)
def test_it_never_admits_more_than_the_limit_per_window(gaps: list[float], limit: int) -> None:
    clock = FakeClock()
    limiter = QpsLimiter(clock)
    admitted = array("d")
    for gap in gaps:
        clock.now += gap
        if limiter.admit("key", LIST, limit):
            admitted.append(clock.now)
    assert max_in_window(admitted) <= limit
    stats = limiter.stats()[LIST]
    assert stats["accepted"] == len(admitted)
    assert stats["accepted"] + stats["throttled"] == len(gaps)


def test_it_admits_again_once_the_oldest_call_leaves_the_window() -> None:
    clock = FakeClock()
    limiter = QpsLimiter(clock)
    assert all(limiter.admit("key", LIST, 2) for _ in range(2))
    clock.now = 0.999
    assert not limiter.admit("key", LIST, 2)
    clock.now = 1.0
    assert limiter.admit("key", LIST, 2)


def test_it_counts_the_busiest_window() -> None:
    assert max_in_window([0.0, 0.5, 0.99, 1.0, 1.5, 1.99]) == 3
    assert max_in_window([]) == 0
