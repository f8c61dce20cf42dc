"""Messaging fixtures: a real sandbox over HTTP whose receipts land in a recorder, channels of all
four types pointed at it, approved templates, and the real RQ queues drained in this process.

Receipts take the real road in two hops: the sandbox pushes them to the recorder (at each
channel's own hook path), and `deliver()` posts every recorded push to the console's webhook with
the test client, so tests stay inside their transaction.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client
from redis import Redis
from rq import Queue

from camsconsole.cams.client import CamsClient
from camsconsole.cams.sandbox import SandboxHandle, running_sandbox
from camsconsole.models import Account, Channel, ChannelType, Sender
from messaging import queues
from messaging.models import Message
from templates_app.models import Status, Template, Variant
from tests.cams.conftest import FAST, Receiver
from tests.templates_app import worker

FIXTURES = Path(__file__).parent / "fixtures"

WA_NUMBER = "6580001111"
VIBER_SERVICE = "2000000001"
PAGE_ID = "102030405060708"
IG_ACCOUNT = "17841400000000001"
USER = "6590002222"
PSID = "2749012345678901"
IGSID = "17841455555555555"

BODY = "Hi {{1}}, your order {{2}} has shipped."
QUICK_REPLIES = ["Track it", "Talk to us"]
COMPONENTS: list[dict[str, Any]] = [
    {"Type": "BODY", "Text": BODY},
    {
        "Type": "BUTTONS",
        "Buttons": [{"Type": "QUICK_REPLY", "Text": text} for text in QUICK_REPLIES],
    },
]


def fixture(name: str, **changes: Any) -> list[dict[str, Any]]:
    """A receipt fixture (one JSON array per kind and status), each element changed alike."""
    events = json.loads((FIXTURES / f"{name}.json").read_text())
    return [event | changes for event in events]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def sandbox(receiver: Receiver) -> Iterator[SandboxHandle]:
    with running_sandbox(**FAST, callback_url=receiver.url) as handle:
        yield handle


@pytest.fixture(autouse=True)
def _clean_redis() -> Iterator[None]:
    """Rate-limit schedules, slow-downs and the doorbell outlive a test; database ids do not."""

    client = queues.redis_client()  # the real one, even if a test points REDIS_URL away

    def clean() -> None:
        keys = [*client.scan_iter("messaging:*")]
        if keys:
            client.delete(*keys)

    clean()
    yield
    clean()


@dataclass
class Senders:
    account: Account
    whatsapp: Sender
    viber: Sender
    messenger: Sender
    instagram: Sender

    def of(self, channel_type: str) -> Sender:
        sender: Sender = getattr(self, channel_type)
        return sender


def sandbox_account(sandbox: SandboxHandle, name: str = "Sandbox") -> Account:
    account = Account(name=name, endpoint=sandbox.url, access_key_id=sandbox.access_key_id)
    account.set_secret(sandbox.access_key_secret)
    account.save()
    return account


@pytest.fixture
def senders(sandbox: SandboxHandle, receiver: Receiver, db: None) -> Senders:
    """One channel and sender of each type; each sender's receipts go to its channel's hook."""
    account = sandbox_account(sandbox)
    made = {}
    for channel_type, number in (
        (ChannelType.WHATSAPP, WA_NUMBER),
        (ChannelType.VIBER, VIBER_SERVICE),
        (ChannelType.MESSENGER, PAGE_ID),
        (ChannelType.INSTAGRAM, IG_ACCOUNT),
    ):
        channel = Channel.objects.create(
            account=account,
            channel_type=channel_type,
            cust_space_id=f"space-{channel_type}",
            name=f"Shop {channel_type}",
        )
        made[str(channel_type)] = Sender.objects.create(
            channel=channel, sender_id=number, display_name=f"Shop on {channel_type}"
        )
        sandbox.set_callback(receiver.url + hook_path(channel), sender=number)
    # Template reviews (ChatAppAudit) go to the default URL: make it the WhatsApp channel's.
    sandbox.set_callback(receiver.url + hook_path(made["whatsapp"].channel))
    return Senders(account=account, **made)


def hook_path(channel: Channel) -> str:
    return f"/hooks/cams/{channel.hook_token}/"


@pytest.fixture
def cams(sandbox: SandboxHandle) -> Iterator[CamsClient]:
    with CamsClient(
        access_key_id=sandbox.access_key_id,
        access_key_secret=sandbox.access_key_secret,
        endpoint=sandbox.url,
    ) as client:
        yield client


def approve(
    sandbox: SandboxHandle,
    cams: CamsClient,
    channel: Channel,
    name: str = "order_update",
    language: str = "en",
    components: list[dict[str, Any]] | None = None,
) -> Variant:
    """A template approved in the sandbox and known to the console as approved."""
    components = components or COMPONENTS
    template_type = "VIBER" if channel.channel_type == ChannelType.VIBER else "WHATSAPP"
    example = {"1": "Alice", "2": "ORD-1"} if "{{" in json.dumps(components) else None
    ref = cams.create_template(
        template_type=template_type,
        name=name,
        language=language,
        category="UTILITY",
        components=components,
        example=example,
    )
    sandbox.wait_receipts()
    template, _ = Template.objects.get_or_create(
        channel=channel, name=name, defaults={"category": "UTILITY"}
    )
    return Variant.objects.create(
        template=template,
        language=language,
        components=components,
        example=example or {},
        template_code=ref.template_code,
        status=Status.PASS,
    )


@pytest.fixture
def template(sandbox: SandboxHandle, cams: CamsClient, senders: Senders) -> Variant:
    return approve(sandbox, cams, senders.whatsapp.channel)


RunJobs = Callable[[], None]


def all_queues() -> list[Queue]:
    return [queues.queue(name) for name in (queues.RECEIPTS, queues.DISPATCH, "default")]


def forget_scheduled(queue: Queue) -> None:
    registry = queue.scheduled_job_registry
    for job_id in registry.get_job_ids():
        registry.remove(job_id, delete_job=True)


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks: Any) -> Iterator[RunJobs]:
    """Drain the receipts, dispatch and default queues here, as a worker would (due scheduled
    jobs included, as `--with-scheduler` moves them).

    Tests run inside one transaction that never commits, so first the on-commit callbacks that
    requests and actions registered since the last run are run, as a real commit would.
    """
    watched = all_queues()
    for queue in watched:
        queue.empty()
        forget_scheduled(queue)
    conn = connections[DEFAULT_DB_ALIAS]
    done = len(conn.run_on_commit)

    def committed() -> None:
        nonlocal done
        while len(conn.run_on_commit) > done:
            pending = conn.run_on_commit[done:]
            done = len(conn.run_on_commit)
            for entry in pending:
                entry[1]()

    def run() -> None:
        committed()
        for _ in range(30):
            for queue in watched:
                worker.move_due(queue)
            if not any(queue.count for queue in watched):
                return
            with django_capture_on_commit_callbacks(execute=True):
                worker.InlineWorker(watched, connection=watched[0].connection).work(burst=True)
        raise AssertionError("the queues never emptied")

    yield run
    for queue in watched:
        queue.empty()
        forget_scheduled(queue)
    failed = [job for q in watched for job in q.failed_job_registry.get_job_ids()]
    for queue in watched:
        for job_id in queue.failed_job_registry.get_job_ids():
            queue.failed_job_registry.remove(job_id, delete_job=True)
    assert not failed, "jobs failed"


Deliver = Callable[..., int]


@pytest.fixture
def deliver(receiver: Receiver, sandbox: SandboxHandle, client: Client) -> Deliver:
    """Post every push the recorder got since the last call to the console's webhook; how many
    receipts. Waits for the sandbox to finish pushing first."""
    seen = 0

    def run(wait: float = 10.0) -> int:
        nonlocal seen
        sandbox.wait_receipts(wait)
        with receiver.lock:
            batches = receiver.batches[seen:]
            seen = len(receiver.batches)
        count = 0
        for path, batch in batches:
            response = client.post(path, json.dumps(batch), content_type="application/json")
            assert response.status_code == 200, (path, response.content)
            count += len(batch)
        return count

    return run


def post_hook(client: Client, channel: Channel, events: Any, **extra: Any) -> Any:
    body = events if isinstance(events, str | bytes) else json.dumps(events)
    return client.post(hook_path(channel), body, content_type="application/json", **extra)


def redis_down_url() -> str:
    """A Redis URL where nothing listens (connection refused at once)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def message_states(*messages: Message) -> list[str]:
    return [Message.objects.get(pk=m.pk).state for m in messages]


def redis_alive(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=0.2).ping())
    except Exception:
        return False
