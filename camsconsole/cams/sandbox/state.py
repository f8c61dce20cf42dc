"""Everything one running sandbox remembers, in one object shared by all server threads.

The sandbox runs as one process with many threads (see server.py) precisely so that this state
(ledger, templates, QPS windows, nonces, receipt queue) is plain shared memory.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

from camsconsole.cams.sandbox.auth import Verifier
from camsconsole.cams.sandbox.config import SandboxConfig, apply_changes
from camsconsole.cams.sandbox.faults import Faults
from camsconsole.cams.sandbox.ledger import Ledger
from camsconsole.cams.sandbox.receipts import INBOUND_KIND, ReceiptEngine, inbound_receipt
from camsconsole.cams.sandbox.templates import TemplateStore
from camsconsole.cams.sandbox.throttle import QpsLimiter


class SandboxState:
    def __init__(self, config: SandboxConfig) -> None:
        self._config = config
        self._config_lock = threading.Lock()
        self.rng = random.Random(config.seed)
        self.stopping = threading.Event()
        self.verifier = Verifier(config.access_keys)
        self.limiter = QpsLimiter()
        self.ledger = Ledger()
        self.templates = TemplateStore()
        self.faults = Faults(self.rng, self.stopping)
        self.receipts = ReceiptEngine(
            lambda: self._config, self.ledger, self.templates, self.rng, self.waba_id
        )
        self._outcomes_lock = threading.Lock()
        self._outcomes: Counter[tuple[str, str]] = Counter()
        self.started_at = time.time()

    @property
    def config(self) -> SandboxConfig:
        return self._config

    def start(self) -> None:
        self.receipts.start()

    def stop(self) -> None:
        self.stopping.set()
        self.receipts.stop()

    def configure(self, changes: Mapping[str, Any]) -> SandboxConfig:
        """Apply runtime changes (faults, receipts, QPS...); ValueError if one is refused."""
        with self._config_lock:
            new = apply_changes(self._config, changes)
            if "seed" in changes and new.seed is not None:
                self.rng.seed(new.seed)
            if "callback_url" in changes:
                self.receipts.callbacks.set(new.callback_url)
            self._config = new
            return new

    def waba_id(self, access_key_id: str) -> str:
        """A stable, WABA-looking id (15 digits) per account."""
        digest = hashlib.sha256(access_key_id.encode()).hexdigest()
        return str(100_000_000_000_000 + int(digest[:12], 16) % 900_000_000_000_000)

    def count_outcome(self, operation: str, code: str) -> None:
        with self._outcomes_lock:
            self._outcomes[(operation, code)] += 1

    def reset(self, templates: bool = True) -> None:
        """Forget sends, counters, queued receipts and nonces (and templates unless told not to).

        Config and callback URLs stay.
        """
        self.receipts.reset()
        self.ledger.reset()
        self.limiter.reset()
        self.verifier.nonces.clear()
        self.faults.reset_counts()
        with self._outcomes_lock:
            self._outcomes.clear()
        if templates:
            self.templates.reset()

    def inbound(
        self,
        *,
        user: str,
        business_number: str,
        message_type: str = "TEXT",
        message: Any = None,
        payload: str | None = None,
        button_text: str | None = None,
        cust_space_id: str = "",
        access_key_id: str | None = None,
    ) -> dict[str, Any]:
        """A user writes to a business number now: opens the 24-hour window, pushes the receipt."""
        reply = None
        if message_type.upper() == "REPLY":
            reply = (payload or "", button_text or (message if isinstance(message, str) else ""))
        receipt = inbound_receipt(
            user=user,
            business_number=business_number,
            cust_space_id=cust_space_id,
            waba_id=self.waba_id(access_key_id or self._config.access_key_id),
            reply=reply,
            text=message if isinstance(message, str) and message_type.upper() == "TEXT" else None,
            message_type=message_type,
            message=message,
        )
        self.ledger.record_inbound(receipt)
        self.receipts.push_receipt(INBOUND_KIND, receipt, sender=business_number)
        return receipt

    def report(
        self,
        *,
        entries: bool = False,
        offset: int = 0,
        limit: int = 100,
        to: str | None = None,
        task_id: str | None = None,
    ) -> dict[str, Any]:
        """What /_sandbox/ledger answers: counts, per-operation calls, duplicates, rates."""
        report = self.ledger.stats()
        operations = self.limiter.stats()
        with self._outcomes_lock:
            outcomes = dict(self._outcomes)
        for (operation, code), count in outcomes.items():
            entry = operations.setdefault(
                operation, {"accepted": 0, "throttled": 0, "max_in_any_1s_window": 0}
            )
            if code == "OK":
                entry["ok"] = entry.get("ok", 0) + count
            else:
                entry.setdefault("errors", {})[code] = count
        for operation, entry in operations.items():
            entry.setdefault("ok", 0)
            entry.setdefault("errors", {})
            entry["limit"] = self._config.qps_limit(operation)
        report["operations"] = operations
        report["receipts"] = self.receipts.stats()
        report["faults"] = {**self.faults.counts, "hung_now": self.faults.hung}
        if entries:
            report["entries"] = self.ledger.entries(offset, limit, to=to, task_id=task_id)
            report["offset"], report["limit"] = offset, limit
        return report
