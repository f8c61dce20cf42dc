"""Misbehaviour on demand: latency, jitter, 5xx answers, hangs and throttle storms.

A 5xx or a hang is decided per call. Whether CAMS nevertheless carried the call out is a second
draw against `fault_accept_ratio`: at 1.0 every such send is ledgered and gets receipts although
the client saw only an error or a timeout ("accepted, but the client never heard", the case
ambiguous-error handling exists for); at 0.0 the call never happened.

A hung call holds a server worker thread, so at most `max_hung` hang at once (the rest are
answered normally) and each is released as soon as the client disconnects, after
`hang_seconds`, or when the sandbox stops.

A throttle storm answers System.LimitControl to every call during the first `throttle_storm`
share of each `throttle_storm_period` seconds, measured from the sandbox's start.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from camsconsole.cams.sandbox.config import SandboxConfig

HANG_POLL = 0.05


@dataclass(frozen=True)
class FaultPlan:
    delay: float = 0.0  # seconds to wait before answering
    kind: str | None = None  # None, "5xx" or "hang"
    carried_out: bool = True  # whether the operation takes effect anyway

    @property
    def runs_operation(self) -> bool:
        return self.kind is None or self.carried_out


NO_FAULT = FaultPlan()


class Faults:
    def __init__(self, rng: random.Random, stopping: threading.Event) -> None:
        self._rng = rng
        self._stopping = stopping
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._hung = 0
        self.counts = {"5xx": 0, "hang": 0, "storm": 0, "hang_refused_cap": 0}

    @staticmethod
    def applies(config: SandboxConfig, operation: str) -> bool:
        return not config.fault_operations or operation in config.fault_operations

    def in_storm(self, config: SandboxConfig, operation: str) -> bool:
        if config.throttle_storm <= 0 or not self.applies(config, operation):
            return False
        phase = (time.monotonic() - self._started) % config.throttle_storm_period
        if phase < config.throttle_storm * config.throttle_storm_period:
            with self._lock:
                self.counts["storm"] += 1
            return True
        return False

    def plan(self, config: SandboxConfig, operation: str) -> FaultPlan:
        calm = not (
            config.latency_ms or config.jitter_ms or config.error_5xx_ratio or config.hang_ratio
        )
        if calm or not self.applies(config, operation):
            return NO_FAULT
        delay = config.latency_ms / 1000
        if config.jitter_ms:
            delay += self._rng.random() * config.jitter_ms / 1000
        kind = None
        draw = self._rng.random()
        if draw < config.error_5xx_ratio:
            kind = "5xx"
        elif draw < config.error_5xx_ratio + config.hang_ratio:
            kind = "hang"
        if kind is None:
            return FaultPlan(delay=delay) if delay else NO_FAULT
        with self._lock:
            if kind == "hang":
                if self._hung >= config.max_hung:
                    self.counts["hang_refused_cap"] += 1
                    return FaultPlan(delay=delay)
                self._hung += 1
            self.counts[kind] += 1
        carried_out = self._rng.random() < config.fault_accept_ratio
        return FaultPlan(delay=delay, kind=kind, carried_out=carried_out)

    def hang(self, config: SandboxConfig, client_gone: Callable[[], bool] | None) -> None:
        """Hold the calling thread until the client leaves, time runs out or we stop.

        Only for a plan whose kind is "hang": it releases the slot `plan` took.
        """
        deadline = time.monotonic() + config.hang_seconds
        try:
            while time.monotonic() < deadline:
                if client_gone is not None and client_gone():
                    return
                if self._stopping.wait(HANG_POLL):
                    return
        finally:
            with self._lock:
                self._hung -= 1

    @property
    def hung(self) -> int:
        return self._hung

    def reset_counts(self) -> None:
        with self._lock:
            for name in self.counts:
                self.counts[name] = 0
