"""Receipts, pushed to the console's webhook as CAMS pushes them (reference §6).

One dispatcher thread keeps a due-time heap of events:

- a status step for a group of messages (Sent, Delivered, Read or Failed; the next step is
  scheduled when one is pushed, so the heap holds one event per group in flight, not three);
- a template review that ends (ChatAppAudit);
- a ready-made receipt (a user's inbound message, a duplicate copy);
- a failed push to retry.

Due receipts are grouped per callback URL and kind (CAMS pushes ChatAppStatus, ChatAppInbound
and ChatAppAudit separately) into JSON arrays of at most `receipt_batch_size`, and handed to one
pusher thread per URL, so a slow or dead receiver delays only its own receipts and the pushes to
one URL leave in order. A push succeeds on HTTP 200 with a JSON body whose `code` is numeric
(§6.6); otherwise it is retried after each of `receipt_retry_delays` (CAMS: 1 and 5 minutes;
seconds here) and then dropped, as CAMS drops it after three attempts.

Field names are exactly the documented ones (§6.3-6.5); TaskId is the caller's TaskId or, when
none was given, the MessageId.
"""

from __future__ import annotations

import heapq
import itertools
import json
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import requests

from camsconsole.cams.sandbox.config import SandboxConfig
from camsconsole.cams.sandbox.ledger import (
    DELIVERED,
    FAILED,
    READ,
    SENT,
    STATUS_NAMES,
    Entry,
    Ledger,
)
from camsconsole.cams.sandbox.templates import TemplateStore

STATUS_KIND = "ChatAppStatus"
INBOUND_KIND = "ChatAppInbound"
AUDIT_KIND = "ChatAppAudit"

# Pseudo-status in a chain: the user answers.
INBOUND_STEP = 100

# Meta delivery errors as CAMS relays them in ChatAppStatus (§5.3): code, description.
DELIVERY_FAILURES: tuple[tuple[str, str], ...] = (
    ("131026", "Receiver is incapable of receiving this message"),
    ("131049", "This message was not delivered to maintain healthy ecosystem engagement"),
    ("131000", "Something went wrong"),
    ("130472", "User's number is part of an experiment"),
)
OUTSIDE_WINDOW = (
    "131047",
    "Re-engagement message: more than 24 hours have passed since the recipient last replied",
)

# (status, seconds after the previous step, error code, error description)
Step = tuple[int, float, str, str]
Chain = tuple[Step, ...]

_EVENT_STATUS, _EVENT_AUDIT, _EVENT_RECEIPT, _EVENT_RETRY = range(4)


def status_chain(
    config: SandboxConfig, rng: random.Random, forced_failure: tuple[str, str] | None = None
) -> Chain:
    """The statuses one message will go through, with their delays."""
    if forced_failure is None and config.failure_ratio and rng.random() < config.failure_ratio:
        forced_failure = rng.choice(DELIVERY_FAILURES)
    if forced_failure is not None:
        code, text = forced_failure
        return ((FAILED, config.sent_delay, code, f"{code}:{text}"),)
    statuses = [SENT, DELIVERED]
    delays = [config.sent_delay, config.delivered_delay]
    if config.read_ratio >= 1.0 or rng.random() < config.read_ratio:
        statuses.append(READ)
        delays.append(config.read_delay)
        if config.inbound_ratio and rng.random() < config.inbound_ratio:
            statuses.append(INBOUND_STEP)
            delays.append(config.inbound_delay)
    if config.reorder and rng.random() < config.reorder:
        # Same moments, statuses swapped: e.g. Delivered pushed before Sent.
        swap = 0 if len(statuses) < 3 or rng.random() < 0.5 else 1
        statuses[swap], statuses[swap + 1] = statuses[swap + 1], statuses[swap]
    return tuple((status, delay, "", "") for status, delay in zip(statuses, delays, strict=True))


class Callbacks:
    """Receipt URLs: one per business number (From), and a default."""

    def __init__(self, default: str | None) -> None:
        self._lock = threading.Lock()
        self.default = default
        self._by_sender: dict[str, str] = {}

    def set(self, url: str | None, sender: str | None = None) -> None:
        with self._lock:
            if sender is None:
                self.default = url
            elif url:
                self._by_sender[sender] = url
            else:
                self._by_sender.pop(sender, None)

    def url_for(self, sender: str | None) -> str | None:
        if sender is not None:
            url = self._by_sender.get(sender)
            if url:
                return url
        return self.default

    def as_json(self) -> dict[str, Any]:
        with self._lock:
            return {"default": self.default, "senders": dict(self._by_sender)}


class ReceiptEngine:
    def __init__(
        self,
        get_config: Callable[[], SandboxConfig],
        ledger: Ledger,
        templates: TemplateStore,
        rng: random.Random,
        waba_id: Callable[[str], str],
    ) -> None:
        self._config = get_config
        self._ledger = ledger
        self._templates = templates
        self._rng = rng
        self._waba_id = waba_id
        self.callbacks = Callbacks(get_config().callback_url)
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, int, Any]] = []
        self._order = itertools.count()
        self._replies: dict[int, tuple[str, str]] = {}  # seq -> (payload, button label)
        self._pushers: dict[str, _Pusher] = {}
        self._pushers_lock = threading.Lock()
        self._stopping = False
        self._processing = False  # events popped from the heap but not yet handed to pushers
        self._thread: threading.Thread | None = None
        self._stats_lock = threading.Lock()
        self._stats = _empty_stats()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sandbox-receipts", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._pushers_lock:
            pushers = list(self._pushers.values())
        for pusher in pushers:
            pusher.inbox.put(None)
        for pusher in pushers:
            pusher.join(timeout=self._config().receipt_timeout + 1)

    def reset(self) -> None:
        with self._cond:
            self._heap.clear()
            self._replies.clear()
        with self._pushers_lock:
            for pusher in self._pushers.values():
                pusher.drain()
        with self._stats_lock:
            self._stats = _empty_stats()

    def idle(self) -> bool:
        """Nothing queued and nothing being pushed."""
        with self._cond:
            if self._heap or self._processing:
                return False
        with self._pushers_lock:
            return all(pusher.idle() for pusher in self._pushers.values())

    def wait_idle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.idle():
                return True
            time.sleep(0.02)
        return self.idle()

    def stats(self) -> dict[str, Any]:
        with self._stats_lock:
            stats = dict(self._stats)
        with self._cond:
            stats["queued_events"] = len(self._heap)
        return stats

    def _count(self, name: str, amount: int = 1) -> None:
        with self._stats_lock:
            self._stats[name] += amount

    # -- scheduling ------------------------------------------------------------------------

    def _push_event(self, due: float, kind: int, payload: Any) -> None:
        with self._cond:
            heapq.heappush(self._heap, (due, next(self._order), kind, payload))
            self._cond.notify()

    def schedule_messages(
        self,
        first_seq: int,
        count: int,
        *,
        forced_failure: tuple[str, str] | None = None,
        payloads: Sequence[Sequence[str] | None] | None = None,
        quick_replies: Sequence[str] = (),
    ) -> None:
        """Plan the receipts of `count` messages recorded from `first_seq` on."""
        config = self._config()
        if not config.receipts:
            return
        now = time.monotonic()
        simple = (
            forced_failure is None
            and not config.failure_ratio
            and config.read_ratio >= 1.0
            and not config.reorder
            and not config.inbound_ratio
        )
        if simple:
            chain = status_chain(config, self._rng)
            seqs: Sequence[int] = range(first_seq, first_seq + count)
            self._push_event(now + chain[0][1], _EVENT_STATUS, (seqs, chain, 0))
            return
        groups: dict[Chain, list[int]] = {}
        for offset in range(count):
            seq = first_seq + offset
            chain = status_chain(config, self._rng, forced_failure)
            groups.setdefault(chain, []).append(seq)
            if chain[-1][0] == INBOUND_STEP:
                payload = payloads[offset] if payloads is not None else None
                if payload:
                    labels = list(quick_replies)
                    label = labels[0] if labels else "Reply"
                    self._replies[seq] = (str(payload[0]), label)
        for chain, members in groups.items():
            self._push_event(now + chain[0][1], _EVENT_STATUS, (members, chain, 0))

    def schedule_audit(self, access_key_id: str, code: str, language: str, review: int) -> None:
        config = self._config()
        self._push_event(
            time.monotonic() + config.review_delay,
            _EVENT_AUDIT,
            (access_key_id, code, language, review),
        )

    def push_receipt(
        self, kind: str, receipt: dict[str, Any], sender: str | None, delay: float = 0.0
    ) -> None:
        """Queue one ready-made receipt for the URL of `sender` (or the default)."""
        url = self.callbacks.url_for(sender)
        self._push_event(time.monotonic() + delay, _EVENT_RECEIPT, (url, kind, receipt))

    # -- the dispatcher --------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        break
                    timeout = self._heap[0][0] - now if self._heap else 1.0
                    self._cond.wait(min(timeout, 1.0))
                if self._stopping:
                    return
                due = []
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    due.append(heapq.heappop(self._heap))
                self._processing = True
            try:
                self._process(due)
            except Exception:  # a bad event must not kill the receipt thread
                self._count("internal_errors")
            finally:
                with self._cond:
                    self._processing = False

    def _process(self, events: Iterable[tuple[float, int, int, Any]]) -> None:
        config = self._config()
        outgoing: dict[tuple[str | None, str], list[dict[str, Any]]] = {}
        now_ms = int(time.time() * 1000)
        for _, _, kind, payload in events:
            if kind == _EVENT_STATUS:
                self._status_step(config, payload, now_ms, outgoing)
            elif kind == _EVENT_AUDIT:
                self._audit(payload, outgoing)
            elif kind == _EVENT_RECEIPT:
                url, receipt_kind, receipt = payload
                outgoing.setdefault((url, receipt_kind), []).append(receipt)
            elif kind == _EVENT_RETRY:
                url, receipt_kind, body, count, attempt = payload
                self._pusher(url).inbox.put((receipt_kind, body, count, attempt))
        for (url, receipt_kind), receipts in outgoing.items():
            self._send(config, url, receipt_kind, receipts)

    def _status_step(
        self,
        config: SandboxConfig,
        payload: tuple[Sequence[int], Chain, int],
        now_ms: int,
        outgoing: dict[tuple[str | None, str], list[dict[str, Any]]],
    ) -> None:
        seqs, chain, step = payload
        status, _, error_code, error_description = chain[step]
        for seq in seqs:
            entry = self._ledger.entry(seq)
            if entry is None:  # reset since
                continue
            sender = entry.descriptor.sender
            if status == INBOUND_STEP:
                reply = self._replies.pop(seq, None)
                receipt = inbound_receipt(
                    user=entry.to,
                    business_number=sender,
                    cust_space_id=entry.descriptor.cust_space_id,
                    waba_id=self._waba_id(entry.descriptor.access_key_id),
                    reply=reply,
                    timestamp_ms=now_ms,
                )
                self._ledger.record_inbound(receipt)
                kind = INBOUND_KIND
            else:
                self._ledger.set_status(seq, status, error_code)
                receipt = status_receipt(entry, status, error_code, error_description, now_ms)
                kind = STATUS_KIND
            url = self.callbacks.url_for(sender)
            outgoing.setdefault((url, kind), []).append(receipt)
            if config.duplicate_ratio and self._rng.random() < config.duplicate_ratio:
                self._count("duplicates_injected")
                self._push_event(
                    time.monotonic() + config.duplicate_delay,
                    _EVENT_RECEIPT,
                    (url, kind, dict(receipt)),
                )
        if step + 1 < len(chain):
            self._push_event(
                time.monotonic() + chain[step + 1][1], _EVENT_STATUS, (seqs, chain, step + 1)
            )

    def _audit(
        self,
        payload: tuple[str, str, str, int],
        outgoing: dict[tuple[str | None, str], list[dict[str, Any]]],
    ) -> None:
        access_key_id, code, language, review = payload
        translation = self._templates.settle_review(
            access_key_id, code, language, review, time.time()
        )
        if translation is None:  # deleted or resubmitted since
            return
        receipt = {
            "WabaId": self._waba_id(access_key_id),
            "TemplateCode": translation.code,
            "Language": translation.language,
            "AuditStatus": translation.audit_status,
            "Reason": translation.reason,
        }
        outgoing.setdefault((self.callbacks.url_for(None), AUDIT_KIND), []).append(receipt)

    def _send(
        self,
        config: SandboxConfig,
        url: str | None,
        kind: str,
        receipts: list[dict[str, Any]],
    ) -> None:
        if not config.receipts:
            self._count("receipts_suppressed", len(receipts))
            return
        if not url:
            self._count("receipts_without_url", len(receipts))
            return
        if config.reorder:
            self._rng.shuffle(receipts)
        size = config.receipt_batch_size
        pusher = self._pusher(url)
        for start in range(0, len(receipts), size):
            batch = receipts[start : start + size]
            body = json.dumps(batch, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            pusher.inbox.put((kind, body, len(batch), 0))

    def _pusher(self, url: str) -> _Pusher:
        with self._pushers_lock:
            pusher = self._pushers.get(url)
            if pusher is None:
                pusher = self._pushers[url] = _Pusher(self, url)
                pusher.start()
            return pusher

    # -- delivery (pusher threads) ---------------------------------------------------------

    def deliver(
        self, session: requests.Session, url: str, kind: str, body: bytes, count: int, attempt: int
    ) -> None:
        config = self._config()
        try:
            response = session.post(
                url,
                data=body,
                headers={"Content-Type": "application/json;charset=utf-8"},
                timeout=config.receipt_timeout,
            )
            ok = response.status_code == 200 and _acknowledged(response.content)
        except requests.RequestException:
            ok = False
        if ok:
            self._count("pushes_ok")
            self._count("receipts_pushed", count)
            self._count(f"{kind}_pushed", count)
            return
        self._count("pushes_failed")
        delays = config.receipt_retry_delays
        if attempt < len(delays):
            self._count("retries")
            self._push_event(
                time.monotonic() + delays[attempt],
                _EVENT_RETRY,
                (url, kind, body, count, attempt + 1),
            )
        else:
            self._count("batches_dropped")
            self._count("receipts_dropped", count)


def _acknowledged(content: bytes) -> bool:
    """CAMS's receiver contract: a JSON object with a numeric `code` (its value is not checked)."""
    try:
        answer = json.loads(content)
    except ValueError:
        return False
    if not isinstance(answer, dict):
        return False
    code = answer.get("code")
    if isinstance(code, bool):
        return False
    return isinstance(code, int) or (isinstance(code, str) and code.lstrip("-").isdigit())


def _empty_stats() -> dict[str, int]:
    return {
        "pushes_ok": 0,
        "pushes_failed": 0,
        "retries": 0,
        "batches_dropped": 0,
        "receipts_pushed": 0,
        "receipts_dropped": 0,
        "receipts_without_url": 0,
        "receipts_suppressed": 0,
        "duplicates_injected": 0,
        "internal_errors": 0,
        f"{STATUS_KIND}_pushed": 0,
        f"{INBOUND_KIND}_pushed": 0,
        f"{AUDIT_KIND}_pushed": 0,
    }


class _Pusher(threading.Thread):
    """Pushes one URL's batches in order, one at a time."""

    def __init__(self, engine: ReceiptEngine, url: str) -> None:
        super().__init__(name=f"sandbox-push {url}", daemon=True)
        self._engine = engine
        self.url = url
        self.inbox: queue.Queue[tuple[str, bytes, int, int] | None] = queue.Queue()

    def run(self) -> None:
        with requests.Session() as session:
            while True:
                item = self.inbox.get()
                try:
                    if item is None:
                        return
                    self._engine.deliver(session, self.url, *item)
                finally:
                    self.inbox.task_done()

    def idle(self) -> bool:
        # Counts items queued *and* the one being pushed (task_done comes after the push).
        return self.inbox.unfinished_tasks == 0

    def drain(self) -> None:
        try:
            while True:
                item = self.inbox.get_nowait()
                self.inbox.task_done()
                if item is None:
                    self.inbox.put(None)
                    return
        except queue.Empty:
            return


def status_receipt(
    entry: Entry, status: int, error_code: str, error_description: str, timestamp_ms: int
) -> dict[str, Any]:
    """One ChatAppStatus element (§6.3)."""
    desc = entry.descriptor
    receipt: dict[str, Any] = {
        "MessageId": entry.message_id,
        "TaskId": entry.receipt_task_id,
        "From": desc.sender,
        "To": entry.to,
        "Timestamp": timestamp_ms,
        "Status": STATUS_NAMES[status],
        "MsgFrameType": desc.frame,
        "Type": desc.message_type,
        "OriginPhoneNumber": desc.sender,
        "ConversationType": desc.category.lower() if desc.frame == "template" else "service",
        "ConversationId": f"{hash((desc.sender, entry.to)) & (2**64 - 1):016x}",
    }
    if status == FAILED:
        receipt["ErrorCode"] = error_code
        receipt["ErrorDescription"] = error_description
    if desc.frame == "template":
        receipt["TemplateCode"] = desc.template_code
        receipt["TemplateName"] = desc.template_name
        receipt["Language"] = desc.language
    return receipt


def inbound_receipt(
    *,
    user: str,
    business_number: str,
    cust_space_id: str,
    waba_id: str,
    reply: tuple[str, str] | None = None,
    text: str | None = None,
    message_type: str | None = None,
    message: Any = None,
    timestamp_ms: int | None = None,
    display_name: str = "Sandbox User",
) -> dict[str, Any]:
    """One ChatAppInbound element (§6.4): the user is From, the business number is To.

    `reply` makes a quick-reply click (Type REPLY, Message a JSON string with text and payload);
    otherwise a TEXT message, or any `message_type` with `message` as given.
    """
    if reply is not None:
        payload, label = reply
        kind = "REPLY"
        body: Any = json.dumps({"text": label, "payload": payload}, ensure_ascii=False)
    elif message_type is not None and message_type.upper() != "TEXT":
        kind = message_type.upper()
        body = (
            message
            if isinstance(message, str)
            else json.dumps(message or {}, ensure_ascii=False, separators=(",", ":"))
        )
    else:
        kind = "TEXT"
        body = text if text is not None else (message if isinstance(message, str) else "Thanks!")
    return {
        "MessageId": f"in{uuid.uuid4().hex[:22]}",
        "CustSpaceId": cust_space_id,
        "WabaId": waba_id,
        "From": user,
        "To": business_number,
        "Timestamp": timestamp_ms if timestamp_ms is not None else int(time.time() * 1000),
        "DisplayName": display_name,
        "Name": display_name,
        "NoticeType": "inbound",
        "Type": kind,
        "Message": body,
    }
