"""Options: command line, CAMS_SANDBOX_* environment, runtime changes; the Django command."""

from __future__ import annotations

import argparse
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from camsconsole.cams import sandbox
from camsconsole.cams.limits import DOCUMENTED_QPS
from camsconsole.cams.sandbox import (
    DEMO_ACCESS_KEY_ID,
    DEMO_ACCESS_KEY_SECRET,
    SandboxConfig,
    add_arguments,
    config_from_options,
)
from camsconsole.cams.sandbox.config import OPTIONS, RUNTIME_FIELDS, apply_changes


def parse(argv: list[str], environ: dict[str, str] | None = None) -> SandboxConfig:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return config_from_options(vars(parser.parse_args(argv)), environ or {})


def test_it_defaults_to_the_demo_key_on_port_8900() -> None:
    config = parse([])
    assert (config.host, config.port) == ("127.0.0.1", 8900)
    assert (config.access_key_id, config.access_key_secret) == (
        DEMO_ACCESS_KEY_ID,
        DEMO_ACCESS_KEY_SECRET,
    )
    assert config.receipts is True
    assert config.qps_limit("SendChatappMessage") == DOCUMENTED_QPS["SendChatappMessage"]


def test_it_reads_every_option_from_the_command_line() -> None:
    config = parse(
        [
            "--host=::1",
            "--port=9001",
            "--access-key-id=LTAI5tX",
            "--access-key-secret=s3cret",
            "--extra-key=LTAI5tY:other",
            "--callback-url=http://127.0.0.1:8000/hooks/cams/abc/",
            "--no-receipts",
            "--sent-delay=0.1",
            "--delivered-delay=0.2",
            "--read-delay=0.3",
            "--failure-ratio=0.05",
            "--duplicate-ratio=0.01",
            "--reorder",
            "--inbound-ratio=0.1",
            "--review-delay=5",
            "--latency-ms=20",
            "--jitter-ms=10",
            "--error-5xx-ratio=0.02",
            "--hang-ratio=0.01",
            "--throttle-storm",
            "--qps",
            "SendChatappMessage=500",
            "--qps=ListChatappTemplate=250",
            "--receipt-retry-delays=0.5,1",
            "--fault-operations=SendChatappMessage,SendChatappMassMessage",
            "--seed=7",
        ]
    )
    assert config.host == "::1"
    assert config.port == 9001
    assert config.access_keys == {"LTAI5tX": "s3cret", "LTAI5tY": "other"}
    assert config.callback_url == "http://127.0.0.1:8000/hooks/cams/abc/"
    assert config.receipts is False
    assert (config.sent_delay, config.delivered_delay, config.read_delay) == (0.1, 0.2, 0.3)
    assert config.reorder == 0.3  # the flag alone
    assert config.throttle_storm == 0.3
    assert config.qps_limit("SendChatappMessage") == 500
    assert config.qps_limit("ListChatappTemplate") == 250
    assert config.receipt_retry_delays == (0.5, 1.0)
    assert config.fault_operations == ("SendChatappMessage", "SendChatappMassMessage")
    assert config.seed == 7


def test_it_reads_options_from_the_environment() -> None:
    config = parse(
        ["--port=9100"],
        {
            "CAMS_SANDBOX_PORT": "9200",
            "CAMS_SANDBOX_NO_RECEIPTS": "1",
            "CAMS_SANDBOX_HANG_RATIO": "0.25",
            "CAMS_SANDBOX_QPS": "SendChatappMessage=400,CreateChatappTemplate=5",
            "CAMS_SANDBOX_CALLBACK_URL": "http://127.0.0.1:8000/hooks/cams/x/",
            "CAMS_SANDBOX_REORDER": "0.5",
        },
    )
    assert config.port == 9100  # the command line wins
    assert config.receipts is False
    assert config.hang_ratio == 0.25
    assert config.qps_limit("SendChatappMessage") == 400
    assert config.qps_limit("CreateChatappTemplate") == 5
    assert config.callback_url == "http://127.0.0.1:8000/hooks/cams/x/"
    assert config.reorder == 0.5


def test_it_names_an_environment_variable_for_every_option() -> None:
    names = {option.env for option in OPTIONS}
    assert len(names) == len(OPTIONS)
    assert all(name.startswith("CAMS_SANDBOX_") for name in names)
    assert {"CAMS_SANDBOX_PORT", "CAMS_SANDBOX_ACCESS_KEY_ID", "CAMS_SANDBOX_NO_RECEIPTS"} <= names


@pytest.mark.parametrize(
    ("argv", "environ"),
    [
        (["--failure-ratio=1.5"], {}),
        (["--qps=SendChatappMessage"], {}),
        (["--qps=Unknown=3"], {}),
        (["--max-hung=40", "--threads=8"], {}),
        ([], {"CAMS_SANDBOX_PORT": "eighty"}),
        ([], {"CAMS_SANDBOX_NO_RECEIPTS": "maybe"}),
    ],
)
def test_it_refuses_bad_values(argv: list[str], environ: dict[str, str]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        parse(argv, environ)


def test_it_changes_only_runtime_fields() -> None:
    config = SandboxConfig(qps={"SendChatappMessage": 100})
    changed = apply_changes(
        config, {"hang_ratio": "0.5", "receipts": "false", "qps": {"ListChatappTemplate": 9}}
    )
    assert changed.hang_ratio == 0.5
    assert changed.receipts is False
    assert dict(changed.qps) == {"SendChatappMessage": 100, "ListChatappTemplate": 9}
    assert "port" not in RUNTIME_FIELDS
    with pytest.raises(ValueError, match="cannot be changed"):
        apply_changes(config, {"access_key_secret": "x"})


def test_it_masks_secrets_in_the_public_config() -> None:
    public = SandboxConfig(extra_keys=(("id2", "secret2"),)).public()
    assert public["access_key_secret"] == "***"
    assert public["extra_keys"] == ["id2"]
    assert "secret2" not in str(public)
    assert set(public["qps"]) == set(DOCUMENTED_QPS)


def test_it_serves_the_parsed_config_from_the_management_command(monkeypatch: Any) -> None:
    served: list[SandboxConfig] = []
    monkeypatch.setattr(sandbox, "serve", served.append)
    monkeypatch.setenv("CAMS_SANDBOX_FAILURE_RATIO", "0.1")
    call_command("cams_sandbox", "--port", "0", "--qps", "SendChatappMessage=300")
    assert len(served) == 1
    assert served[0].port == 0
    assert served[0].failure_ratio == 0.1
    assert served[0].qps_limit("SendChatappMessage") == 300


def test_it_reports_bad_options_from_the_management_command(monkeypatch: Any) -> None:
    monkeypatch.setattr(sandbox, "serve", lambda config: None)
    with pytest.raises(CommandError, match="hang_ratio"):
        call_command("cams_sandbox", "--hang-ratio", "7")
