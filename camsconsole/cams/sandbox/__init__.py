"""A local CAMS that speaks the real wire protocol, for development, tests and benchmarks.

It verifies ACS3-HMAC-SHA256 signatures like the Alibaba Cloud gateway, validates with
`camsconsole.cams.rules` (the console's own rules), enforces each operation's QPS limit strictly,
keeps a ledger of every accepted send, and pushes receipts to the console's webhook. Faults
(latency, 5xx, hangs, throttle storms) can be switched on at start or at runtime.

    from camsconsole.cams.sandbox import SandboxConfig, running_sandbox

    with running_sandbox(receipts=False) as sandbox:
        client = CamsClient(access_key_id=sandbox.access_key_id,
                            access_key_secret=sandbox.access_key_secret, endpoint=sandbox.url)
        ...
        sandbox.ledger()["duplicates"]

Plain Python: no Django import, so it runs from `manage.py cams_sandbox`, from
`python -m camsconsole.cams.sandbox` and inside any test.
"""

from camsconsole.cams.sandbox.config import (
    DEMO_ACCESS_KEY_ID,
    DEMO_ACCESS_KEY_SECRET,
    SandboxConfig,
    add_arguments,
    config_from_options,
)
from camsconsole.cams.sandbox.server import SandboxHandle, running_sandbox, serve
from camsconsole.cams.sandbox.state import SandboxState

__all__ = [
    "DEMO_ACCESS_KEY_ID",
    "DEMO_ACCESS_KEY_SECRET",
    "SandboxConfig",
    "SandboxHandle",
    "SandboxState",
    "add_arguments",
    "config_from_options",
    "running_sandbox",
    "serve",
]
