"""Every knob of the sandbox, in one frozen dataclass.

The same table of options feeds the command line (`manage.py cams_sandbox`, `python -m
camsconsole.cams.sandbox`), the environment (`CAMS_SANDBOX_<OPTION>`, e.g. CAMS_SANDBOX_PORT or
CAMS_SANDBOX_NO_RECEIPTS=1) and the runtime endpoint `POST /_sandbox/config`, so the three can
never disagree. Precedence: command line, then environment, then the dataclass default.

The config is immutable: a runtime change builds a new one with `dataclasses.replace` and swaps
the reference, so a request always sees one consistent set of values.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from camsconsole.cams.limits import DOCUMENTED_QPS

# Fake credentials (the well-known "LTAI5t" prefix plus an obvious marker) so that `make run`
# works out of the box. The sandbox is loopback-only by default; these guard nothing real.
DEMO_ACCESS_KEY_ID = "LTAI5tDemoSandboxKey0001"
DEMO_ACCESS_KEY_SECRET = "DemoSandboxSecret000000000000001"  # noqa: S105 - a published demo value

ENV_PREFIX = "CAMS_SANDBOX_"


@dataclass(frozen=True)
class SandboxConfig:
    # Where to listen.
    host: str = "127.0.0.1"
    port: int = 8900
    threads: int = 24

    # Credentials the gateway accepts; `extra_keys` adds more (id, secret) pairs. Templates,
    # QPS buckets and the message history are kept per access key, as CAMS keeps them per account.
    access_key_id: str = DEMO_ACCESS_KEY_ID
    access_key_secret: str = DEMO_ACCESS_KEY_SECRET
    extra_keys: tuple[tuple[str, str], ...] = ()
    # Business numbers QueryChatappPhoneNumbers lists (plus every From the key has used).
    phone_numbers: tuple[str, ...] = ("6580001111",)

    # Receipts (reference §6): where they go and how they behave.
    callback_url: str | None = None
    receipts: bool = True
    sent_delay: float = 0.3
    delivered_delay: float = 0.7
    read_delay: float = 1.5
    read_ratio: float = 1.0
    failure_ratio: float = 0.0
    duplicate_ratio: float = 0.0
    duplicate_delay: float = 0.5
    reorder: float = 0.0
    inbound_ratio: float = 0.0
    inbound_delay: float = 1.0
    receipt_batch_size: int = 100
    receipt_timeout: float = 3.0
    # CAMS retries a failed push after 1 and 5 minutes, then drops it; seconds here.
    receipt_retry_delays: tuple[float, ...] = (1.0, 5.0)
    # Free-form WhatsApp messages outside the 24-hour window fail with Meta's 131047.
    service_window: bool = True

    # Template review: `auditing` for this long, then `pass` (or `fail` if the name has "reject").
    review_delay: float = 2.0

    # Faults. `fault_operations` limits them to some operations (empty: all).
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_5xx_ratio: float = 0.0
    hang_ratio: float = 0.0
    max_hung: int = 8
    hang_seconds: float = 300.0
    throttle_storm: float = 0.0
    throttle_storm_period: float = 10.0
    fault_operations: tuple[str, ...] = ()
    # Of the calls answered with a 5xx or a hang, the share CAMS nevertheless carried out
    # (ledgered, receipts pushed): 1.0 is "accepted, but the client never heard".
    fault_accept_ratio: float = 0.5

    # Per-operation QPS overrides on top of the documented limits.
    qps: Mapping[str, int] = field(default_factory=dict)

    # Seed for the random choices (failures, faults, ...) so a test can be repeatable.
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in (
            "read_ratio",
            "failure_ratio",
            "duplicate_ratio",
            "reorder",
            "inbound_ratio",
            "error_5xx_ratio",
            "hang_ratio",
            "throttle_storm",
            "fault_accept_ratio",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        for name in (
            "sent_delay",
            "delivered_delay",
            "read_delay",
            "duplicate_delay",
            "inbound_delay",
            "receipt_timeout",
            "review_delay",
            "latency_ms",
            "jitter_ms",
            "hang_seconds",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if any(delay < 0 for delay in self.receipt_retry_delays):
            raise ValueError("receipt_retry_delays must not be negative")
        if self.throttle_storm_period <= 0:
            raise ValueError("throttle_storm_period must be positive")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port out of range: {self.port}")
        if self.threads < 2 or self.max_hung < 0 or self.receipt_batch_size < 1:
            raise ValueError("threads must be >= 2, max_hung >= 0, receipt_batch_size >= 1")
        if self.max_hung >= self.threads:
            # Hung requests hold a worker thread each; keep some for everyone else.
            raise ValueError("max_hung must be smaller than threads")
        for operation, limit in self.qps.items():
            if operation not in DOCUMENTED_QPS:
                raise ValueError(f"unknown operation in qps: {operation}")
            if limit < 1:
                raise ValueError(f"qps for {operation} must be at least 1")
        unknown = set(self.fault_operations) - set(DOCUMENTED_QPS)
        if unknown:
            raise ValueError(f"unknown operations in fault_operations: {sorted(unknown)}")

    @property
    def access_keys(self) -> dict[str, str]:
        keys = dict(self.extra_keys)
        keys[self.access_key_id] = self.access_key_secret
        return keys

    def qps_limit(self, operation: str) -> int:
        return self.qps.get(operation, DOCUMENTED_QPS[operation])

    def public(self) -> dict[str, Any]:
        """The config as JSON for /_sandbox/config: every field, secrets left out."""
        data = dataclasses.asdict(self)
        data["access_key_secret"] = "***"  # noqa: S105 - a mask, not a secret
        data["extra_keys"] = [key_id for key_id, _ in self.extra_keys]
        data["qps"] = {op: self.qps_limit(op) for op in DOCUMENTED_QPS}
        return data


# Fields a running sandbox may change through POST /_sandbox/config. Listening address,
# threads and credentials are fixed once the server is up.
RUNTIME_FIELDS = frozenset(
    f.name
    for f in dataclasses.fields(SandboxConfig)
    if f.name not in {"host", "port", "threads", "access_key_id", "access_key_secret", "extra_keys"}
)


# ---------------------------------------------------------------------------------------------
# Parsing values from text (command line, environment) and from JSON (runtime endpoint).


def parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def parse_qps(value: object) -> dict[str, int]:
    """`Operation=N` items, comma-separated in one string or as a list; or a JSON object."""
    if isinstance(value, Mapping):
        return {str(op): int(limit) for op, limit in value.items()}
    items: Iterable[object] = value if isinstance(value, list | tuple) else str(value).split(",")
    result: dict[str, int] = {}
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        operation, sep, limit = text.partition("=")
        if not sep:
            raise ValueError(f"--qps wants Operation=N, got {text!r}")
        result[operation.strip()] = int(limit)
    return result


def parse_keys(value: object) -> tuple[tuple[str, str], ...]:
    """`ID:SECRET` items, comma-separated in one string or as a list."""
    items: Iterable[object] = value if isinstance(value, list | tuple) else str(value).split(",")
    keys = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        key_id, sep, secret = text.partition(":")
        if not sep or not key_id or not secret:
            raise ValueError(f"--extra-key wants ID:SECRET, got {text!r}")
        keys.append((key_id, secret))
    return tuple(keys)


def parse_strings(value: object) -> tuple[str, ...]:
    items: Iterable[object] = value if isinstance(value, list | tuple) else str(value).split(",")
    return tuple(text for item in items if (text := str(item).strip()))


def parse_floats(value: object) -> tuple[float, ...]:
    items: Iterable[object] = value if isinstance(value, list | tuple) else str(value).split(",")
    return tuple(float(text) for item in items if (text := str(item).strip()))


def parse_optional_str(value: object) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value).strip()


@dataclass(frozen=True)
class Option:
    """One command-line option and the field it sets."""

    field: str
    flag: str
    parse: Callable[[Any], Any]
    help: str
    metavar: str | None = None
    # "store_false" options (--no-receipts) set the field to False when given.
    negate: bool = False
    # Repeatable options (--qps A=1 --qps B=2) collect a list.
    repeat: bool = False
    # An option that may be given without a value (--reorder alone means 0.3).
    const: object = None

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.flag.lstrip("-").upper().replace("-", "_")


OPTIONS: tuple[Option, ...] = (
    Option("host", "--host", str, "address to listen on (default 127.0.0.1)"),
    Option("port", "--port", int, "port to listen on (default 8900; 0 picks a free one)"),
    Option("threads", "--threads", int, "worker threads of the HTTP server (default 24)"),
    Option("access_key_id", "--access-key-id", str, "AccessKey ID the gateway accepts"),
    Option("access_key_secret", "--access-key-secret", str, "its AccessKey secret"),
    Option(
        "extra_keys",
        "--extra-key",
        parse_keys,
        "another accepted key pair, ID:SECRET (repeatable)",
        metavar="ID:SECRET",
        repeat=True,
    ),
    Option(
        "phone_numbers",
        "--phone-numbers",
        parse_strings,
        "business numbers QueryChatappPhoneNumbers lists, comma-separated",
    ),
    Option(
        "callback_url",
        "--callback-url",
        parse_optional_str,
        "default receipt URL (POST /_sandbox/callbacks sets one per sender)",
    ),
    Option("receipts", "--no-receipts", parse_bool, "push no receipts at all", negate=True),
    Option("sent_delay", "--sent-delay", float, "seconds from accept to Sent (default 0.3)"),
    Option("delivered_delay", "--delivered-delay", float, "seconds from Sent to Delivered"),
    Option("read_delay", "--read-delay", float, "seconds from Delivered to Read"),
    Option("read_ratio", "--read-ratio", float, "share of delivered messages that get read"),
    Option("failure_ratio", "--failure-ratio", float, "share of messages that fail (0..1)"),
    Option("duplicate_ratio", "--duplicate-ratio", float, "share of receipts pushed twice"),
    Option("duplicate_delay", "--duplicate-delay", float, "seconds before the second copy"),
    Option(
        "reorder",
        "--reorder",
        float,
        "share of messages whose statuses arrive out of order (alone: 0.3)",
        metavar="RATIO",
        const=0.3,
    ),
    Option("inbound_ratio", "--inbound-ratio", float, "share of read messages the user answers"),
    Option("inbound_delay", "--inbound-delay", float, "seconds from Read to the user's reply"),
    Option("receipt_batch_size", "--receipt-batch-size", int, "receipts per push (default 100)"),
    Option("receipt_timeout", "--receipt-timeout", float, "seconds a push may take (default 3)"),
    Option(
        "receipt_retry_delays",
        "--receipt-retry-delays",
        parse_floats,
        "seconds before each retry of a failed push, comma-separated (default 1,5)",
    ),
    Option(
        "service_window",
        "--no-service-window",
        parse_bool,
        "do not fail free-form WhatsApp messages sent outside the 24-hour window",
        negate=True,
    ),
    Option("review_delay", "--review-delay", float, "seconds a template stays `auditing`"),
    Option("latency_ms", "--latency-ms", float, "added latency per call, milliseconds"),
    Option("jitter_ms", "--jitter-ms", float, "random extra latency up to this, milliseconds"),
    Option("error_5xx_ratio", "--error-5xx-ratio", float, "share of calls answered with a 5xx"),
    Option("hang_ratio", "--hang-ratio", float, "share of calls never answered"),
    Option("max_hung", "--max-hung", int, "at most this many connections hang at once"),
    Option("hang_seconds", "--hang-seconds", float, "a hung call is released after this long"),
    Option(
        "throttle_storm",
        "--throttle-storm",
        float,
        "share of each storm period answered System.LimitControl (alone: 0.3)",
        metavar="FRACTION",
        const=0.3,
    ),
    Option(
        "throttle_storm_period",
        "--throttle-storm-period",
        float,
        "length of a storm cycle in seconds (default 10)",
    ),
    Option(
        "fault_operations",
        "--fault-operations",
        parse_strings,
        "limit faults to these operations, comma-separated (default: all)",
    ),
    Option(
        "fault_accept_ratio",
        "--fault-accept-ratio",
        float,
        "share of 5xx'd or hung calls that CAMS still carried out (default 0.5)",
    ),
    Option(
        "qps",
        "--qps",
        parse_qps,
        "override a QPS limit, Operation=N (repeatable)",
        metavar="OPERATION=N",
        repeat=True,
    ),
    Option("seed", "--seed", int, "seed for the random choices"),
)

_BY_FIELD = {option.field: option for option in OPTIONS}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare every option on an argparse parser (Django's command parser is one)."""
    for option in OPTIONS:
        help_text = f"{option.help} [env {option.env}]"
        if option.negate:
            parser.add_argument(
                option.flag, dest=option.field, action="store_const", const=False, help=help_text
            )
        elif option.repeat:
            parser.add_argument(
                option.flag,
                dest=option.field,
                action="append",
                metavar=option.metavar,
                help=help_text,
            )
        elif option.const is not None:
            parser.add_argument(
                option.flag,
                dest=option.field,
                nargs="?",
                const=option.const,
                metavar=option.metavar,
                help=help_text,
            )
        else:
            parser.add_argument(
                option.flag, dest=option.field, metavar=option.metavar, help=help_text
            )


def config_from_options(
    options: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> SandboxConfig:
    """Build the config from parsed command-line options, falling back to the environment.

    `options` holds field names; a value of None means "not given". Unrelated keys (Django's
    verbosity, settings, ...) are ignored.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for option in OPTIONS:
        given = options.get(option.field)
        if given is not None:
            if option.negate:
                values[option.field] = False
            elif option.repeat:
                merged: Any = option.parse(given)
                values[option.field] = merged
            else:
                values[option.field] = option.parse(given)
            continue
        raw = environ.get(option.env)
        if raw is None or raw.strip() == "":
            continue
        try:
            parsed = option.parse(raw)
        except ValueError as exc:
            raise ValueError(f"{option.env}: {exc}") from exc
        # CAMS_SANDBOX_NO_RECEIPTS=1 means receipts off.
        values[option.field] = (not parsed) if option.negate else parsed
    return SandboxConfig(**values)


def apply_changes(config: SandboxConfig, changes: Mapping[str, Any]) -> SandboxConfig:
    """A copy of `config` with runtime changes (JSON values, field names) applied.

    `qps` merges into the current overrides; a null limit restores the documented one.
    Raises ValueError for unknown or fixed fields and bad values.
    """
    values: dict[str, Any] = {}
    for name, raw in changes.items():
        if name not in RUNTIME_FIELDS:
            raise ValueError(f"{name} cannot be changed at runtime")
        option = _BY_FIELD[name]
        if name == "qps":
            merged = dict(config.qps)
            for operation, limit in dict(raw or {}).items():
                if limit is None:
                    merged.pop(operation, None)
                else:
                    merged[operation] = int(limit)
            values[name] = merged
        elif name in {"receipts", "service_window"}:
            values[name] = parse_bool(raw)
        elif name == "seed":
            values[name] = None if raw is None else int(raw)
        else:
            values[name] = option.parse(raw)
    return dataclasses.replace(config, **values)
