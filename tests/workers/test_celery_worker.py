"""A real Celery worker process on the configured broker (Redis in CI, the embedded SQLite
broker otherwise): an automatic email goes queued → sent exactly once even when its task is
delivered twice, and a rolled-back transaction publishes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django_scopes import scopes_disabled

from sodium.celery import app
from sodium.models import OutboundMessage
from sodium.tasks import deliver_message_task
from tests import factories as f
from tests.workflows.wf_factories import email_step
from workflows import attach, building
from workflows.models import Step
from workflows.tasks import run_step_task

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def queued_count() -> int:
    with app.connection_for_write() as conn:
        return conn.default_channel.queue_declare("celery", passive=False).message_count


def purge() -> None:
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path):
    """Start `celery worker` in its own process on the test database and broker."""
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sodium.settings",
        "DATABASE_URL": database_url(),
        "SODIUM_CELERY_BROKER_URL": str(app.conf.broker_url),
        "SODIUM_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "SODIUM_EMAIL_FILE_PATH": str(mail_dir),
        "SODIUM_DATA_DIR": str(tmp_path),
        "SODIUM_SECRET_KEY": "worker-test-secret",
        "SODIUM_DB_CONN_MAX_AGE": "60",  # as docker-compose runs workers
    }
    log = (tmp_path / "worker.log").open("w+")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "sodium",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while "ready." not in (tmp_path / "worker.log").read_text():
            assert proc.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.2)
        yield mail_dir
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def wait_for(predicate, timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def make_started_task(practice, owner):
    client = f.ClientFactory(practice=practice)
    f.ContactFactory(client=client, first_name="Ann", email="ann@client.example", is_main=True)
    return f.TaskFactory(client=client, owner=owner, status="in_progress")


def welcome_template():
    """A practice, its owner and a template whose one step emails the main contact."""
    practice = f.PracticeFactory()
    owner = f.MembershipFactory(practice=practice, role="owner").user
    template = building.create_template(practice=practice, actor=owner, name="Welcome")
    building.add_step(template.groups.get(), actor=owner, **email_step())
    return practice, owner, template


def test_an_automatic_email_is_sent_exactly_once_by_a_real_worker(request) -> None:
    purge()
    with scopes_disabled():
        practice, owner, template = welcome_template()

        # A transaction that rolls back publishes nothing.
        rolled_back_task = make_started_task(practice, owner)
        with pytest.raises(RuntimeError), transaction.atomic():
            attach.attach_template(rolled_back_task, template, actor=owner)
            raise RuntimeError("roll back")
        assert queued_count() == 0

        task = make_started_task(practice, owner)
        (step,) = attach.attach_template(task, template, actor=owner)  # publishes on commit
        assert queued_count() == 1
        run_step_task.delay(step.pk)  # the same task delivered again
        assert queued_count() == 2

    mail_dir = request.getfixturevalue("worker")
    with scopes_disabled():
        wait_for(lambda: OutboundMessage.objects.filter(status="sent").exists())
        # The delivery task delivered a second time finds the message already sent.
        deliver_message_task.delay(OutboundMessage.objects.get(status="sent").pk)
        wait_for(lambda: queued_count() == 0)
        time.sleep(1)  # let any duplicate finish, if there were one
        messages = OutboundMessage.objects.filter(source_type="workflows.step", source_id=step.pk)
        assert [m.status for m in messages] == ["sent"]
        assert Step.objects.get(pk=step.pk).status == "done"
    sent = "".join(p.read_text() for p in Path(mail_dir).iterdir())
    assert sent.count("\nSubject: Welcome, ") == 1
    assert "To: ann@client.example" in sent


def worker_backends() -> list[int]:
    """Process ids of the test database's other PostgreSQL sessions (the worker's)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return sorted(row[0] for row in cur.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL sessions")
def test_the_worker_keeps_its_database_connection_between_tasks(request) -> None:
    purge()
    with scopes_disabled():
        practice, owner, template = welcome_template()
        attach.attach_template(make_started_task(practice, owner), template, actor=owner)
    request.getfixturevalue("worker")
    with scopes_disabled():
        wait_for(lambda: OutboundMessage.objects.filter(status="sent").count() == 1)
        wait_for(lambda: queued_count() == 0)
        first = worker_backends()
        assert len(first) == 1, first  # one solo worker, one connection kept open
        for _ in range(3):
            attach.attach_template(make_started_task(practice, owner), template, actor=owner)
        wait_for(lambda: OutboundMessage.objects.filter(status="sent").count() == 4)
        wait_for(lambda: queued_count() == 0)
        assert worker_backends() == first  # the same session served every task
