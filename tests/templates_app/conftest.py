"""Template Design fixtures: a real sandbox over HTTP, channels pointed at it, the real queue.

`run_jobs` drains the RQ queue in this process, the way a worker would, running the jobs that
enqueueing on commit and RQ's scheduler (review checks) add along the way.
"""

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rq import Queue

from camsconsole.audit import Actor
from camsconsole.cams.client import CamsClient
from camsconsole.cams.sandbox import SandboxHandle, running_sandbox
from camsconsole.models import Account, Channel, ChannelType
from templates_app import actions
from templates_app.forms import DesignForm
from templates_app.models import Variant
from tests.templates_app import worker

FIXTURES = Path(__file__).parent / "fixtures"

BODY = "Hello {{1}}, your code *{{2}}* saves 20% on spring shoes."
EXAMPLE = {"1": "Alice", "2": "SPRING20"}


def marketing(**overrides: Any) -> list[dict[str, Any]]:
    """A valid MARKETING design: image header, body with two variables, footer, buttons."""
    parts: dict[str, dict[str, Any] | None] = {
        "HEADER": {"Type": "HEADER", "Format": "IMAGE", "Url": "https://example.com/shoes.png"},
        "BODY": {"Type": "BODY", "Text": BODY},
        "FOOTER": {"Type": "FOOTER", "Text": "Reply STOP to opt out"},
        "BUTTONS": {
            "Type": "BUTTONS",
            "Buttons": [
                {"Type": "URL", "Text": "Shop", "Url": "https://example.com/", "UrlType": "static"},
                {"Type": "QUICK_REPLY", "Text": "Yes please"},
                {"Type": "QUICK_REPLY", "Text": "Not now"},
            ],
        },
    }
    parts.update(overrides)
    return [part for part in parts.values() if part is not None]


def design_post(channel: Channel, **overrides: Any) -> dict[str, Any]:
    """What the design page posts."""
    data: dict[str, Any] = {
        "channel": channel.pk,
        "name": "spring_sale",
        "category": "MARKETING",
        "language": "en_US",
        "message_send_ttl_seconds": "",
        "components": marketing(),
        "example": EXAMPLE,
        "action": "save",
    }
    data.update(overrides)
    for key in ("components", "example"):
        if not isinstance(data[key], str):
            data[key] = json.dumps(data[key])
    return data


def make_variant(channel: Channel, actor: Actor | None = None, **overrides: Any) -> Variant:
    """A saved draft, made the way the design page makes it."""
    form = DesignForm(design_post(channel, **overrides))
    assert form.is_valid(), form.errors
    return actions.save_design(actor or Actor(), form)


def add_language(source: Variant, language: str) -> Variant:
    """A new language of the source's template, made as the "add a language" page makes it."""
    template = source.template
    data = design_post(template.channel, name=template.name, language=language)
    form = DesignForm(data, template=template, source=source)
    assert form.is_valid(), form.errors
    return actions.save_design(Actor(), form, template=template, source="translate")


def audit_fixture(status: str, **changes: Any) -> list[dict[str, Any]]:
    events = json.loads((FIXTURES / f"chatappaudit_{status}.json").read_text())
    return [event | changes for event in events]


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(review_delay=0.0, receipts=False, seed=4) as handle:
        yield handle


def sandbox_account(sandbox: SandboxHandle, name: str = "Sandbox") -> Account:
    account = Account(name=name, endpoint=sandbox.url, access_key_id=sandbox.access_key_id)
    account.set_secret(sandbox.access_key_secret)
    account.save()
    return account


@pytest.fixture
def wa_channel(sandbox: SandboxHandle, db: None) -> Channel:
    return Channel.objects.create(
        account=sandbox_account(sandbox),
        channel_type=ChannelType.WHATSAPP,
        cust_space_id="space-wa",
        name="Shop WhatsApp",
    )


@pytest.fixture
def viber_channel(wa_channel: Channel) -> Channel:
    return Channel.objects.create(
        account=wa_channel.account,
        channel_type=ChannelType.VIBER,
        cust_space_id="space-viber",
        name="Shop Viber",
    )


@pytest.fixture
def cams(sandbox: SandboxHandle) -> Iterator[CamsClient]:
    """A client straight to the sandbox, for arranging what CAMS holds."""
    with CamsClient(
        access_key_id=sandbox.access_key_id,
        access_key_secret=sandbox.access_key_secret,
        endpoint=sandbox.url,
    ) as client:
        yield client


@pytest.fixture(autouse=True)
def _quick_review_checks(settings: Any) -> None:
    settings.TEMPLATE_REVIEW_CHECKS = (0, 0)


RunJobs = Callable[[], None]


def forget_scheduled(queue: Queue) -> None:
    """Scheduled jobs outlive the test that made them; database ids do not."""
    registry = queue.scheduled_job_registry
    for job_id in registry.get_job_ids():
        registry.remove(job_id, delete_job=True)


def failures(queue: Queue, before: set[str]) -> list[str]:
    """The tracebacks of jobs that failed since `before` (the failed ids then)."""
    new = set(queue.failed_job_registry.get_job_ids()) - before
    found = [queue.fetch_job(job_id) for job_id in sorted(new)]
    return [str(job.latest_result().exc_string) for job in found if job and job.latest_result()]


@pytest.fixture
def run_jobs(queue: Queue, django_capture_on_commit_callbacks: Any) -> Iterator[RunJobs]:
    """Run the queue dry; a job that fails fails the test."""
    forget_scheduled(queue)
    failed_before = set(queue.failed_job_registry.get_job_ids())

    def run() -> None:
        for _ in range(20):
            worker.move_due(queue)
            if not queue.count:
                assert not failures(queue, failed_before)
                return
            with django_capture_on_commit_callbacks(execute=True):
                worker.work(queue)
        raise AssertionError("the queue never emptied")

    yield run
    forget_scheduled(queue)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Actions enqueue on commit; tests run inside one transaction, so run the callbacks."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def detail_url(variant: Variant) -> str:
    return reverse("template-detail", args=[variant.template_id]) + f"?language={variant.language}"


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()
