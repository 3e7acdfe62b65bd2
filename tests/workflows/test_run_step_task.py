"""run_step_task as a worker runs it: the email an automatic step queues is sent by the same
task once the run commits, with no delivery task published; and the worker's database
connections live as long as SODIUM_DB_CONN_MAX_AGE says (sodium/celery.py)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from sodium import outbox
from sodium.celery import close_old_connections_after_task, close_old_connections_before_task
from sodium.models import OutboundMessage
from tests import factories as f
from tests.workflows.wf_factories import email_step
from workflows import attach, building
from workflows.models import Step
from workflows.tasks import run_step_task

pytestmark = pytest.mark.django_db(transaction=True)

DELIVER = "sodium.tasks.deliver_message_task.delay"


@pytest.fixture
def email_step_ready():
    with scopes_disabled():
        practice = f.PracticeFactory()
        owner = f.MembershipFactory(practice=practice, role="owner").user
        template = building.create_template(practice=practice, actor=owner, name="Welcome")
        building.add_step(template.groups.get(), actor=owner, **email_step())
        client = f.ClientFactory(practice=practice, name="Acme Ltd")
        f.ContactFactory(client=client, first_name="Ann", email="ann@acme.example", is_main=True)
        task = f.TaskFactory(client=client, owner=owner, status="in_progress")
        with mock.patch("workflows.tasks.run_step_task.delay"):
            (step,) = attach.attach_template(task, template, actor=owner)
    return step


class TestRunStepTask:
    """run_step_task as a worker runs it, and its in-task delivery."""

    def test_the_task_sends_the_email_its_step_queued_without_publishing_a_delivery(
        self, email_step_ready
    ) -> None:
        with mock.patch(DELIVER) as deliver:
            run_step_task(email_step_ready.pk)
            run_step_task(email_step_ready.pk)  # delivered twice: the second finds nothing to do
        deliver.assert_not_called()
        assert [m.subject for m in mail.outbox] == ["Welcome, Acme Ltd"]
        with scopes_disabled():
            (message,) = OutboundMessage.objects.filter(source_id=email_step_ready.pk)
            assert message.status == "sent"
            assert Step.objects.get(pk=email_step_ready.pk).status == "done"

    def test_a_task_for_a_step_that_is_gone_does_nothing(self, email_step_ready) -> None:
        with scopes_disabled():
            email_step_ready.task.delete()
        with CaptureQueriesContext(connection) as queries:
            run_step_task(email_step_ready.pk)
        assert len(queries) == 1  # the practice lookup finds no step; nothing else runs
        assert mail.outbox == []

    def test_it_runs_a_step_and_sends_its_email_in_a_fixed_number_of_statements(
        self, email_step_ready
    ) -> None:
        # Practice lookup; the run's transaction (lock, contacts, outbox row with its event,
        # status, activity, dependents); claim; the sent record with its event. SQLite has
        # no data-modifying WITH: each event is a statement of its own, and the sent record
        # its own transaction.
        expected = 11 if connection.vendor == "postgresql" else 15
        with CaptureQueriesContext(connection) as queries:
            run_step_task(email_step_ready.pk)
        assert len(queries) == expected, [q["sql"][:60] for q in queries.captured_queries]
        with scopes_disabled():
            (message,) = OutboundMessage.objects.filter(source_id=email_step_ready.pk)
            assert [e.event for e in message.events.all()] == ["queued", "sent"]

    def test_a_message_whose_transaction_rolls_back_is_not_sent(self, email_step_ready) -> None:
        with scopes_disabled():
            practice = email_step_ready.practice
        with mock.patch(DELIVER) as deliver, outbox.delivered_by_this_worker():
            with pytest.raises(RuntimeError), transaction.atomic():
                outbox.queue_email(
                    practice=practice, key="rolled-back", to=["a@b.example"], subject="No", text="x"
                )
                raise RuntimeError("roll back")
        deliver.assert_not_called()
        assert mail.outbox == []
        with scopes_disabled():
            assert not OutboundMessage.objects.filter(idempotency_key="rolled-back").exists()

    def test_outside_a_worker_task_delivery_is_published(self, email_step_ready) -> None:
        with scopes_disabled():
            practice = email_step_ready.practice
        with mock.patch(DELIVER) as deliver, transaction.atomic():
            message = outbox.queue_email(
                practice=practice, key="web", to=["a@b.example"], subject="Hi", text="x"
            )
        deliver.assert_called_once_with(message.pk, message.practice_id)
        assert mail.outbox == []


def _task(*, eager: bool = False) -> mock.Mock:
    return mock.Mock(request=mock.Mock(is_eager=eager))


class TestWorkerConnections:
    """The task_prerun/postrun handlers of sodium/celery.py, on a connection opened with the
    CONN_MAX_AGE under test (Django sets its closing time when it connects)."""

    def connect(self, max_age: int) -> None:
        connection.close()
        self.patch = mock.patch.dict(connection.settings_dict, {"CONN_MAX_AGE": max_age})
        self.patch.start()
        connection.connect()

    def teardown_method(self) -> None:
        self.patch.stop()
        connection.close()

    def test_a_connection_younger_than_conn_max_age_serves_the_next_task(self) -> None:
        self.connect(60)
        before = connection.connection
        close_old_connections_before_task(sender=_task())
        close_old_connections_after_task(sender=_task(), state="SUCCESS")
        close_old_connections_before_task(sender=_task())
        assert connection.connection is before

    def test_without_conn_max_age_each_task_closes_its_connection(self) -> None:
        self.connect(0)
        close_old_connections_after_task(sender=_task(), state="SUCCESS")
        assert connection.connection is None

    def test_a_failed_task_closes_even_a_young_connection(self) -> None:
        self.connect(60)
        close_old_connections_after_task(sender=_task(), state="FAILURE")
        assert connection.connection is None

    def test_an_eager_task_leaves_its_callers_connection_alone(self) -> None:
        self.connect(0)
        close_old_connections_before_task(sender=_task(eager=True))
        close_old_connections_after_task(sender=_task(eager=True), state="FAILURE")
        assert connection.connection is not None
