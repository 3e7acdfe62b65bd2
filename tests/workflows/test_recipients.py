"""workflows.recipients and the email handler: tokens to addresses, steps with nobody to
send to, and the manual composer's draft and send."""

from __future__ import annotations

from unittest import mock

from sodium.models import ActivityEvent, OutboundMessage
from tests import factories as f
from tests.base import BaseTestCase
from workflows import engine, recipients
from workflows.handlers import Draft, StepFailure
from workflows.models import Mode, Step, StepGroup, StepType

S = Step.Status
DELIVER = "sodium.tasks.deliver_message_task.delay"


class AcmeMixin:
    """Acme Ltd with a contact per role, every member role filled, and a service."""

    def setUp(self) -> None:
        super().setUp()
        self.service = f.ServiceFactory(practice=self.practice, name="Year-end accounts")
        self.acme = f.ClientFactory(
            practice=self.practice,
            name="Acme Ltd",
            client_manager=self.manager,
            partner=self.owner,
            associate=self.admin,
        )
        f.ClientServiceFactory(
            client=self.acme, service=self.service, service_manager=self.ar_manager
        )
        contact = f.ContactFactory
        contact(client=self.acme, first_name="Ann", email="ann@acme.example", is_main=True)
        contact(
            client=self.acme,
            first_name="Bill",
            email="Bill@Acme.example",
            is_main=False,
            is_billing=True,
            is_accounts=True,
        )
        contact(client=self.acme, first_name="Pat", email="", is_main=False, is_payroll=True)
        contact(
            client=self.acme,
            first_name="Dee",
            email="dee@acme.example",
            is_main=False,
            is_director=True,
        )
        contact(
            client=self.acme,
            first_name="Dan",
            email="dan@acme.example",
            is_main=False,
            is_director=True,
        )
        # Another client's contacts are never picked.
        f.ContactFactory(
            client=f.ClientFactory(practice=self.practice),
            email="no@other.example",
            is_main=True,
            is_director=True,
        )
        self.task = f.TaskFactory(
            client=self.acme, owner=self.staff, service=self.service, status="in_progress"
        )

    def resolve(self, to: list[str], cc: list[str] = (), *, task=None, assignee=None):
        return recipients.resolve(list(to), list(cc), task=task or self.task, assignee=assignee)


class ResolveTests(AcmeMixin, BaseTestCase):
    def test_each_contact_role_picks_the_contacts_with_that_role_and_an_email(self) -> None:
        expected = {
            "contact:main": ["ann@acme.example"],
            "contact:billing": ["Bill@Acme.example"],
            "contact:accounts": ["Bill@Acme.example"],
            "contact:director": ["dan@acme.example", "dee@acme.example"],
        }
        for token, addresses in expected.items():
            with self.subTest(token=token):
                got = self.resolve([token])
                self.assertEqual(sorted(got.to), sorted(addresses))
                self.assertEqual((got.cc, got.missing), ([], []))

    def test_a_role_whose_contacts_have_no_email_is_missing(self) -> None:
        got = self.resolve(["contact:payroll"])
        self.assertEqual((got.to, got.missing), ([], ["contact:payroll"]))

    def test_member_tokens_resolve_to_the_members_emails(self) -> None:
        expected = {
            "member:task_owner": self.staff.email,
            "member:client_manager": self.manager.email,
            "member:client_partner": self.owner.email,
            "member:client_associate": self.admin.email,
            "member:service_manager": self.ar_manager.email,
            "member:assignee": self.ar_specialist.email,
        }
        for token, email in expected.items():
            with self.subTest(token=token):
                got = self.resolve([token], assignee=self.ar_specialist)
                self.assertEqual((got.to, got.missing), ([email], []))

    def test_member_tokens_nobody_holds_are_missing(self) -> None:
        bare = f.TaskFactory(client=f.ClientFactory(practice=self.practice), owner=None)
        tokens = [
            "member:task_owner",
            "member:client_manager",
            "member:client_partner",
            "member:client_associate",
            "member:service_manager",
            "member:assignee",
        ]
        got = self.resolve(tokens, task=bare)
        self.assertEqual((got.to, got.missing), ([], tokens))

    def test_email_tokens_are_used_as_written(self) -> None:
        got = self.resolve(["email:files@ledger.example"], ["email:Boss@Ledger.example"])
        self.assertEqual((got.to, got.cc), (["files@ledger.example"], ["Boss@Ledger.example"]))

    def test_addresses_are_deduplicated_ignoring_case_and_to_wins_over_cc(self) -> None:
        got = self.resolve(
            ["contact:main", "email:ANN@acme.example", "contact:billing"],
            [
                "email:ann@ACME.example",
                "contact:accounts",
                "email:bill@acme.EXAMPLE",
                "contact:director",
                "email:dee@acme.example",
            ],
        )
        self.assertEqual(got.to, ["ann@acme.example", "Bill@Acme.example"])
        self.assertEqual(sorted(got.cc), ["dan@acme.example", "dee@acme.example"])
        # Tokens whose addresses were all already listed still found someone.
        self.assertEqual(got.missing, [])

    def test_missing_lists_every_token_without_an_address_from_to_and_cc(self) -> None:
        got = self.resolve(["contact:payroll", "contact:main"], ["member:assignee", "fax:123"])
        self.assertEqual(got.to, ["ann@acme.example"])
        self.assertEqual(got.missing, ["contact:payroll", "member:assignee", "fax:123"])


class EmailStepMixin(AcmeMixin):
    def email_step(self, *, status: str = S.READY, mode: str = Mode.AUTOMATIC, **extra) -> Step:
        group = StepGroup.objects.create(practice=self.practice, task=self.task, name="Emails")
        fields = {
            "name": "Ask for records",
            "type": StepType.EMAIL,
            "mode": mode,
            "subject": "Records for {{ client.name }}",
            "body": "Dear {{ contacts.main.first_name }},\n\nPlease send {{ task.name }}.",
            "to_recipients": ["contact:main"],
            "cc_recipients": ["member:client_manager"],
            "assignee": self.staff,
        }
        fields.update(extra)
        return Step.objects.create(
            practice=self.practice, task=self.task, group=group, status=status, **fields
        )

    def messages(self):
        return OutboundMessage.objects.all()


class NobodyToSendToTests(EmailStepMixin, BaseTestCase):
    def test_an_automatic_email_with_no_addresses_fails_naming_the_missing_roles(self) -> None:
        step = self.email_step(
            to_recipients=["contact:payroll", "member:assignee"], cc_recipients=[], assignee=None
        )
        with mock.patch(DELIVER):
            engine.run_step(step.pk)
        step.refresh_from_db()
        self.assertEqual(step.status, S.FAILED)
        self.assertIn("Nobody to send to", step.failure_reason)
        self.assertIn("Payroll contact", step.failure_reason)
        self.assertIn("Step assignee", step.failure_reason)
        self.assertFalse(self.messages().exists())
        event = ActivityEvent.objects.get(verb="step.status", object_id=step.pk)
        self.assertEqual((event.old_status, event.new_status), (S.READY, S.FAILED))

    def test_the_draft_lists_what_is_missing(self) -> None:
        step = self.email_step(
            mode=Mode.MANUAL, to_recipients=["contact:payroll"], cc_recipients=[]
        )
        draft = engine.draft_step_message(step)
        self.assertEqual((draft.to, draft.missing), ([], ["contact:payroll"]))

    def test_an_automatic_email_with_addresses_sends_and_completes(self) -> None:
        step = self.email_step()
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            engine.run_step(step.pk)
        step.refresh_from_db()
        self.assertEqual(step.status, S.DONE)
        message = self.messages().get()
        self.assertEqual((message.to, message.cc), (["ann@acme.example"], [self.manager.email]))
        self.assertEqual(message.idempotency_key, f"step:{step.pk}:send")

    def test_run_step_ignores_steps_that_are_not_ready_automatic_and_started(self) -> None:
        manual = self.email_step(mode=Mode.MANUAL)
        blocked = self.email_step(status=S.BLOCKED)
        for step in (manual, blocked):
            self.assertIsNone(engine.run_step(step.pk))
        self.task.status = "on_hold"
        self.task.save()
        held = self.email_step()
        self.assertIsNone(engine.run_step(held.pk))
        self.assertEqual(
            list(
                Step.objects.filter(pk__in=[manual.pk, blocked.pk, held.pk])
                .order_by("pk")
                .values_list("status", flat=True)
            ),
            [S.READY, S.BLOCKED, S.READY],
        )
        self.assertFalse(self.messages().exists())


class ManualEmailTests(EmailStepMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.step = self.email_step(mode=Mode.MANUAL)

    def edited(self, **overrides) -> Draft:
        fields = {
            "to": ["ann@acme.example", "extra@acme.example"],
            "cc": [],
            "subject": "Records, please",
            "body": "Hi Ann,\n\nSend {{ client.name }} records <b>today</b>.",
        }
        fields.update(overrides)
        return Draft(**fields)

    def assert_nothing_changed(self) -> None:
        self.step.refresh_from_db()
        self.assertEqual(self.step.status, S.READY)
        self.assertFalse(self.messages().exists())
        self.assertFalse(
            ActivityEvent.objects.filter(object_id=self.step.pk, verb="step.status").exists()
        )

    def test_the_draft_is_rendered_with_its_recipients(self) -> None:
        draft = engine.draft_step_message(self.step)
        self.assertEqual(draft.to, ["ann@acme.example"])
        self.assertEqual(draft.cc, [self.manager.email])
        self.assertEqual(draft.subject, "Records for Acme Ltd")
        self.assertEqual(draft.body, f"Dear Ann,\n\nPlease send {self.task.name}.")
        self.assertEqual((draft.missing, draft.problems), ([], []))

    def test_the_draft_reports_a_render_problem_instead_of_raising(self) -> None:
        Step.objects.filter(pk=self.step.pk).update(body="{{ 1 | divided_by: 0 }}")
        draft = engine.draft_step_message(self.step)
        self.assertEqual(len(draft.problems), 1)
        self.assertIn("could not be written", draft.problems[0])

    def test_sending_an_edited_draft_stores_exactly_what_was_sent(self) -> None:
        draft = self.edited(cc=["boss@ledger.example"])
        with mock.patch(DELIVER) as deliver, self.captureOnCommitCallbacks(execute=True):
            returned = engine.send_step_message(self.step, draft, actor=self.staff)
        self.assertEqual(returned.status, S.DONE)
        message = self.messages().get()
        self.assertEqual(message.subject, "Records, please")
        # Braces in the edited body are the user's words now, not Liquid to render again.
        self.assertEqual(
            message.body_text, "Hi Ann,\n\nSend {{ client.name }} records <b>today</b>."
        )
        self.assertEqual(message.to, ["ann@acme.example", "extra@acme.example"])
        self.assertEqual(message.cc, ["boss@ledger.example"])
        self.assertIn("&lt;b&gt;today&lt;/b&gt;", message.body_html)
        self.assertEqual((message.source_type, message.source_id), ("workflows.step", self.step.pk))
        self.assertEqual(message.task, self.task)
        deliver.assert_called_once_with(message.pk, message.practice_id)
        self.step.refresh_from_db()
        self.assertEqual(self.step.status, S.DONE)
        event = ActivityEvent.objects.get(verb="step.status", object_id=self.step.pk)
        self.assertEqual((event.new_status, event.actor), (S.DONE, self.staff))

    def test_sending_a_step_that_is_not_ready_is_refused(self) -> None:
        for status in (S.BLOCKED, S.DONE, S.SKIPPED, S.FAILED):
            with self.subTest(status=status):
                Step.objects.filter(pk=self.step.pk).update(status=status)
                with self.assertRaises(engine.InvalidTransition):
                    engine.send_step_message(self.step, self.edited(), actor=self.staff)
                self.step.refresh_from_db()
                self.assertEqual(self.step.status, status)
                self.assertFalse(self.messages().exists())

    def test_a_draft_without_to_is_refused_and_changes_nothing(self) -> None:
        with self.assertRaisesMessage(StepFailure, "Add at least one recipient in To."):
            engine.send_step_message(
                self.step, self.edited(to=[], cc=["ann@acme.example"]), actor=self.staff
            )
        self.assert_nothing_changed()

    def test_a_draft_with_an_invalid_address_is_refused_and_changes_nothing(self) -> None:
        for draft in (
            self.edited(to=["ann@acme.example", "not an address"]),
            self.edited(cc=["also@wrong"]),
        ):
            with self.subTest(to=draft.to, cc=draft.cc):
                with self.assertRaisesMessage(StepFailure, "is not an email address"):
                    engine.send_step_message(self.step, draft, actor=self.staff)
                self.assert_nothing_changed()

    def test_a_draft_without_a_subject_is_refused(self) -> None:
        with self.assertRaisesMessage(StepFailure, "Give the email a subject."):
            engine.send_step_message(self.step, self.edited(subject="  "), actor=self.staff)
        self.assert_nothing_changed()
