"""Every message the sandbox accepted, compact enough for a million of them.

Tests and benchmarks read the ledger to count what CAMS would really have sent: duplicates per
(To, TaskId) and per To, losses, arrival rates. It is also the sandbox's message history
(ListChatappMessage) and the source of receipts.

Layout: one row per accepted recipient, stored column-wise in typed arrays (~37 bytes a row).
Values shared by many rows live once in side tables: the message "descriptor" (account, sender,
channel, template...), the TaskId (one per call for a mass send), the GroupMessageId. A numeric
To is stored as an int. The MessageId is not stored at all: it is a per-process prefix plus the
row's sequence number, so it can be computed and parsed back.

Sequence numbers keep growing across resets, so a MessageId is never reused and a receipt
queued before a reset simply finds its row gone.
"""

from __future__ import annotations

import secrets
import threading
import time
from array import array
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

ACCEPTED, SENT, DELIVERED, READ, FAILED = range(5)
STATUS_NAMES = ("Accepted", "Sent", "Delivered", "Read", "Failed")
STATUS_BY_NAME = {name.lower(): code for code, name in enumerate(STATUS_NAMES)}
# A later status never replaces a more advanced one (receipts can arrive out of order);
# Failed is terminal. The status codes are ordered so that max() does exactly that.

INBOUND_KEPT = 100_000


@dataclass(frozen=True)
class Descriptor:
    """What was sent and by whom; shared by every recipient of one kind of message."""

    access_key_id: str
    channel_type: str
    sender: str
    frame: str  # MsgFrameType: "template" or "message"
    message_type: str  # the receipt's Type: TEMPLATE, TEXT, IMAGE, ...
    template_code: str = ""
    template_name: str = ""
    language: str = ""
    category: str = ""
    cust_space_id: str = ""


@dataclass(frozen=True)
class Entry:
    seq: int
    message_id: str
    to: str
    task_id: str
    group_message_id: str
    arrived: float
    status: int
    descriptor: Descriptor
    error_code: str

    @property
    def receipt_task_id(self) -> str:
        # Receipts carry the caller's TaskId, or the MessageId when none was given (§6.3).
        return self.task_id or self.message_id

    def as_json(self) -> dict[str, Any]:
        return {
            "MessageId": self.message_id,
            "To": self.to,
            "TaskId": self.task_id,
            "From": self.descriptor.sender,
            "GroupMessageId": self.group_message_id,
            "Time": round(self.arrived, 6),
            "Status": STATUS_NAMES[self.status],
            "ErrorCode": self.error_code,
            "MsgFrameType": self.descriptor.frame,
            "TemplateCode": self.descriptor.template_code,
            "Language": self.descriptor.language,
            "AccessKeyId": self.descriptor.access_key_id,
        }


class _Interner:
    """Values kept once, referred to by a small int."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.index: dict[Any, int] = {}

    def ref(self, value: Any) -> int:
        ref = self.index.get(value)
        if ref is None:
            ref = self.index[value] = len(self.values)
            self.values.append(value)
        return ref


class Ledger:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._prefix = secrets.token_hex(4)
        self._next_seq = 1
        self._group_seq = 0
        self._group_prefix = f"{secrets.randbelow(900_000) + 100_000}"
        self._clear()

    def _clear(self) -> None:
        self._base = self._next_seq  # sequence number of row 0
        self._arrived = array("d")
        self._to = array("q")
        self._task_ref = array("i")
        self._task_fp = array("q")
        self._desc_ref = array("i")
        self._group_ref = array("i")
        self._status = bytearray()
        self._tasks = bytearray()
        self._task_offsets = array("q", [0])
        self._descriptors = _Interner()
        self._other_to = _Interner()  # recipients that are not plain numbers (PSIDs, BSUIDs)
        self._groups: list[str] = []
        self._group_index: dict[str, int] = {}
        self._errors: dict[int, str] = {}  # seq -> provider error code, failed rows only
        self._call_times = array("d")  # one per accepted send call
        self._calls_by_operation: Counter[str] = Counter()
        self._inbound: deque[dict[str, Any]] = deque(maxlen=INBOUND_KEPT)
        self._last_inbound: dict[tuple[str, str], float] = {}

    def reset(self) -> None:
        with self._lock:
            self._clear()

    # -- writing ----------------------------------------------------------------------------

    def message_id(self, seq: int) -> str:
        return f"{self._prefix}{seq:016x}"

    def seq_of(self, message_id: str) -> int | None:
        if len(message_id) != 24 or not message_id.startswith(self._prefix):
            return None
        try:
            return int(message_id[8:], 16)
        except ValueError:
            return None

    def record(
        self,
        descriptor: Descriptor,
        recipients: Sequence[str],
        task_id: str,
        *,
        mass: bool,
        now: float | None = None,
    ) -> tuple[int, str]:
        """Record one accepted send call; return the first row's seq and the GroupMessageId."""
        now = time.time() if now is None else now
        task_fp = hash(task_id) if task_id else 0
        encoded_to = [self._encode_to(to) for to in recipients]
        count = len(recipients)
        with self._lock:
            first = self._next_seq
            self._next_seq += count
            desc_ref = self._descriptors.ref(descriptor)
            if task_id:
                self._tasks += task_id.encode("utf-8")
                self._task_offsets.append(len(self._tasks))
                task_ref = len(self._task_offsets) - 2
            else:
                task_ref = -1
            group_id = ""
            group_ref = -1
            if mass:
                self._group_seq += 1
                group_id = f"{self._group_prefix}{self._group_seq:010d}"
                group_ref = len(self._groups)
                self._groups.append(group_id)
                self._group_index[group_id] = group_ref
            for code in encoded_to:
                self._to.append(self._to_code(code))
            self._arrived.extend([now] * count)
            self._task_ref.extend([task_ref] * count)
            self._task_fp.extend([task_fp] * count)
            self._desc_ref.extend([desc_ref] * count)
            self._group_ref.extend([group_ref] * count)
            self._status.extend(bytes(count))
            self._call_times.append(now)
            self._calls_by_operation[
                "SendChatappMassMessage" if mass else "SendChatappMessage"
            ] += 1
        return first, group_id

    @staticmethod
    def _encode_to(to: str) -> int | str:
        # Plain numbers (no leading zero, up to 18 digits) fit an int64 and round-trip exactly.
        if to.isdigit() and len(to) <= 18 and to.isascii() and to[0] != "0":
            return int(to)
        return to

    def _to_code(self, value: int | str) -> int:
        if isinstance(value, int):
            return value
        return -1 - self._other_to.ref(value)

    def _decode_to(self, code: int) -> str:
        return str(code) if code >= 0 else str(self._other_to.values[-1 - code])

    def set_status(self, seq: int, status: int, error_code: str = "") -> None:
        with self._lock:
            row = seq - self._base
            if 0 <= row < len(self._status) and status > self._status[row]:
                self._status[row] = status
                if error_code:
                    self._errors[seq] = error_code

    def record_inbound(self, receipt: dict[str, Any], now: float | None = None) -> None:
        """Remember a user's message: for ListChatappMessage and the 24-hour window."""
        now = time.time() if now is None else now
        with self._lock:
            self._inbound.append(dict(receipt))
            self._last_inbound[(str(receipt.get("To", "")), str(receipt.get("From", "")))] = now

    def last_inbound(self, business_number: str, user: str) -> float | None:
        return self._last_inbound.get((business_number, user))

    def senders(self, access_key_id: str) -> list[str]:
        """Business numbers this key has sent from, first use first."""
        with self._lock:
            return list(
                dict.fromkeys(
                    desc.sender
                    for desc in self._descriptors.values
                    if desc.access_key_id == access_key_id
                )
            )

    # -- reading ----------------------------------------------------------------------------

    def entry(self, seq: int) -> Entry | None:
        with self._lock:
            row = seq - self._base
            if not 0 <= row < len(self._status):
                return None
            return self._entry(row)

    def _entry(self, row: int) -> Entry:
        seq = self._base + row
        task_ref = self._task_ref[row]
        task_id = ""
        if task_ref >= 0:
            start, end = self._task_offsets[task_ref], self._task_offsets[task_ref + 1]
            task_id = self._tasks[start:end].decode("utf-8")
        group_ref = self._group_ref[row]
        return Entry(
            seq=seq,
            message_id=self.message_id(seq),
            to=self._decode_to(self._to[row]),
            task_id=task_id,
            group_message_id=self._groups[group_ref] if group_ref >= 0 else "",
            arrived=self._arrived[row],
            status=self._status[row],
            descriptor=self._descriptors.values[self._desc_ref[row]],
            error_code=self._errors.get(seq, ""),
        )

    def __len__(self) -> int:
        return len(self._status)

    def entries(
        self, offset: int = 0, limit: int = 100, to: str | None = None, task_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Rows in arrival order, optionally only one recipient's or one TaskId's."""
        with self._lock:
            rows: Iterable[int] = range(len(self._status))
            if to is not None:
                code = self._encode_to(to)
                if isinstance(code, str):
                    ref = self._other_to.index.get(code)
                    code = -1 - ref if ref is not None else 0
                rows = [row for row in rows if self._to[row] == code]
            if task_id is not None:
                fingerprint = hash(task_id) if task_id else 0
                rows = [row for row in rows if self._task_fp[row] == fingerprint]
            selected = list(rows)[offset : offset + limit]
            return [self._entry(row).as_json() for row in selected]

    def stats(self, top: int = 20) -> dict[str, Any]:
        with self._lock:
            to = array("q", self._to)
            fingerprints = array("q", self._task_fp)
            arrived = array("d", self._arrived)
            call_times = array("d", self._call_times)
            statuses = bytes(self._status)
            calls = dict(self._calls_by_operation)
            inbound = len(self._inbound)
            other_to = list(self._other_to.values)

        def show_to(code: int) -> str:
            return str(code) if code >= 0 else str(other_to[-1 - code])

        # Rows without a TaskId are never duplicates of each other by (To, TaskId): each has its
        # own MessageId, which is what receipts then carry.
        per_pair = Counter(
            (code, fingerprint)
            for code, fingerprint in zip(to, fingerprints, strict=True)
            if fingerprint
        )
        per_to = Counter(to)
        pair_dupes = [(pair, n) for pair, n in per_pair.items() if n > 1]
        to_dupes = [(code, n) for code, n in per_to.items() if n > 1]
        pair_dupes.sort(key=lambda item: -item[1])
        to_dupes.sort(key=lambda item: -item[1])
        per_second = Counter(int(moment) for moment in arrived)
        calls_per_second = Counter(int(moment) for moment in call_times)
        series = [
            [second, per_second.get(second, 0), calls_per_second.get(second, 0)]
            for second in sorted(set(per_second) | set(calls_per_second))
        ]
        return {
            "messages": len(statuses),
            "send_calls": calls,
            "statuses": {name: statuses.count(code) for code, name in enumerate(STATUS_NAMES)},
            "inbound": inbound,
            "duplicates": {
                "by_to_task": {
                    "keys": len(pair_dupes),
                    "extra": sum(n - 1 for _, n in pair_dupes),
                    "top": [
                        {"To": show_to(code), "TaskIdHash": fingerprint, "count": n}
                        for (code, fingerprint), n in pair_dupes[:top]
                    ],
                },
                "by_to": {
                    "keys": len(to_dupes),
                    "extra": sum(n - 1 for _, n in to_dupes),
                    "top": [{"To": show_to(code), "count": n} for code, n in to_dupes[:top]],
                },
            },
            "rate": {
                "max_messages_per_second": max(per_second.values(), default=0),
                "max_calls_per_second": max(calls_per_second.values(), default=0),
                "series": series,
                "series_columns": ["second", "messages", "calls"],
            },
        }

    # -- ListChatappMessage ------------------------------------------------------------------

    def history(
        self,
        *,
        access_key_id: str,
        business_number: str,
        channel_type: str,
        user_number: str | None = None,
        event_action: str | None = None,
        status: int | None = None,
        template_code: str | None = None,
        group_message_id: str | None = None,
        start: float | None = None,
        end: float | None = None,
        offset: int = 0,
        limit: int = 10,
    ) -> list[dict[str, Any]]:
        """One page of a number's messages, newest first, shaped as ListChatappMessage's Data."""
        wanted = offset + limit
        found: list[tuple[float, dict[str, Any]]] = []
        with self._lock:
            if event_action in (None, "DOWN"):
                found.extend(
                    self._outbound_history(
                        access_key_id,
                        business_number,
                        channel_type,
                        user_number,
                        status,
                        template_code,
                        group_message_id,
                        start,
                        end,
                        wanted,
                    )
                )
            # Inbound messages have no delivery status, template or group: any of those filters
            # selects outbound messages only.
            outbound_only = status is not None or group_message_id or template_code
            if event_action in (None, "UP") and not outbound_only:
                found.extend(
                    self._inbound_history(business_number, user_number, start, end, wanted)
                )
        found.sort(key=lambda item: -item[0])
        return [item for _, item in found[offset:wanted]]

    def _outbound_history(
        self,
        access_key_id: str,
        business_number: str,
        channel_type: str,
        user_number: str | None,
        status: int | None,
        template_code: str | None,
        group_message_id: str | None,
        start: float | None,
        end: float | None,
        wanted: int,
    ) -> list[tuple[float, dict[str, Any]]]:
        descriptors = {
            ref
            for ref, desc in enumerate(self._descriptors.values)
            if desc.access_key_id == access_key_id
            and desc.sender == business_number
            and desc.channel_type == channel_type
            and (template_code is None or desc.template_code == template_code)
        }
        if not descriptors:
            return []
        group_ref = None
        if group_message_id:
            group_ref = self._group_index.get(group_message_id)
            if group_ref is None:
                return []
        to_code = None
        if user_number:
            encoded = self._encode_to(user_number)
            if isinstance(encoded, str):
                ref = self._other_to.index.get(encoded)
                if ref is None:
                    return []
                encoded = -1 - ref
            to_code = encoded
        found: list[tuple[float, dict[str, Any]]] = []
        for row in range(len(self._status) - 1, -1, -1):
            if len(found) >= wanted:
                break
            if self._desc_ref[row] not in descriptors:
                continue
            if to_code is not None and self._to[row] != to_code:
                continue
            if group_ref is not None and self._group_ref[row] != group_ref:
                continue
            if status is not None and self._status[row] != status:
                continue
            arrived = self._arrived[row]
            if (start is not None and arrived < start) or (end is not None and arrived > end):
                continue
            found.append((arrived, _history_item(self._entry(row))))
        return found

    def _inbound_history(
        self,
        business_number: str,
        user_number: str | None,
        start: float | None,
        end: float | None,
        wanted: int,
    ) -> list[tuple[float, dict[str, Any]]]:
        found: list[tuple[float, dict[str, Any]]] = []
        for receipt in reversed(self._inbound):
            if len(found) >= wanted:
                break
            if receipt.get("To") != business_number:
                continue
            if user_number and receipt.get("From") != user_number:
                continue
            moment = float(receipt.get("Timestamp", 0)) / 1000
            if (start is not None and moment < start) or (end is not None and moment > end):
                continue
            message = receipt.get("Message", "")
            found.append(
                (
                    moment,
                    {
                        "MessageId": receipt.get("MessageId", ""),
                        "UniqueMessageId": receipt.get("MessageId", ""),
                        "EventAction": "UP",
                        "EventActionName": "UP",
                        "MessageType": str(receipt.get("Type", "")),
                        "MessageTypeName": str(receipt.get("Type", "")),
                        "Message": message if isinstance(message, str) else str(message),
                        "SendTime": _send_time(moment),
                        "UserNumber": receipt.get("From", ""),
                        "BusinessNumber": receipt.get("To", ""),
                        "ChannelType": "whatsapp",
                        "Type": "message",
                        "FailBackFlag": "N",
                    },
                )
            )
        return found


def _send_time(moment: float) -> str:
    # Undocumented format; Alibaba consoles show "YYYY-MM-DD HH:MM:SS". UTC here.
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(moment))


def _history_item(entry: Entry) -> dict[str, Any]:
    desc = entry.descriptor
    status = STATUS_NAMES[entry.status]
    return {
        "MessageId": entry.message_id,
        "UniqueMessageId": entry.message_id,
        "EventAction": "DOWN",
        "EventActionName": "DOWN",
        "MessageStatus": status,
        "MessageStatusName": status,
        "ClientReadStatus": "Read" if entry.status == READ else "Unread",
        "ClientReadStatusName": "Read" if entry.status == READ else "Unread",
        "MessageType": desc.message_type,
        "MessageTypeName": desc.message_type,
        "Message": "",
        "TemplateCode": desc.template_code,
        "TemplateName": desc.template_name,
        "LanguageCode": desc.language,
        "FailReason": entry.error_code,
        "FailBackFlag": "N",
        "SendTime": _send_time(entry.arrived),
        "Month": time.strftime("%Y%m", time.gmtime(entry.arrived)),
        "UserNumber": entry.to,
        "BusinessNumber": desc.sender,
        "ChannelType": desc.channel_type,
        "MessageSource": "API",
        "Type": desc.frame,
    }
