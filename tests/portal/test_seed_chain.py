"""The seed's own chain, end to end through the engines: manual "Prepare draft accounts"
done → approval sent → client approves → automatic confirmation email → client confirms →
task at 100%."""

from __future__ import annotations

import re
from unittest import mock

from portal import engine as portal_engine
from portal.models import ApprovalVersion, Confirmation
from sodium.models import ActivityEvent, Notification, OutboundMessage
from tests import factories as f
from tests.base import BaseTestCase
from tests.portal.helpers import delivered
from tests.portal.portal_factories import approval_chain_template, staff_document
from workflows import attach
from workflows import engine as wf_engine
from workflows import queries as wf_queries

RUN = "workflows.tasks.run_step_task.delay"
DELIVER = "sodium.tasks.deliver_message_task.delay"


class SeedChainTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        self.ann = f.ContactFactory(
            client=self.acme, first_name="Ann", email="ann@acme.example", is_main=True
        )
        self.task = f.TaskFactory(client=self.acme, owner=self.staff, status="in_progress")
        template = approval_chain_template(self.practice, self.manager)
        with mock.patch(RUN):
            self.prepare, self.approval, self.confirm = attach.attach_template(
                self.task, template, actor=self.manager
            )

    def test_the_chain_runs_from_draft_to_filing_confirmation(self) -> None:
        with (
            mock.patch(RUN) as run,
            mock.patch(DELIVER),
            self.captureOnCommitCallbacks(execute=True),
        ):
            wf_engine.complete_step(self.prepare, actor=self.staff)
            self.approval.refresh_from_db()
            self.assertEqual(self.approval.status, "ready")
            version = portal_engine.send_for_approval(
                self.approval,
                actor=self.staff,
                document=staff_document(self.approval, self.staff),
                title="Draft accounts 2026",
                category="Accounts",
            )
        run.assert_not_called()  # approvals are manual; nothing automatic is ready yet
        self.approval.refresh_from_db()
        self.assertEqual(
            (self.approval.status, self.approval.sub_status), ("in_progress", "awaiting_response")
        )
        sent = OutboundMessage.objects.get(idempotency_key=f"step:{self.approval.pk}:approval:1")
        self.assertEqual(sent.to, ["ann@acme.example"])
        self.assertIn("/portal/link/", sent.body_text)

        with (
            mock.patch(RUN) as run,
            mock.patch(DELIVER),
            self.captureOnCommitCallbacks(execute=True),
        ):
            portal_engine.respond_to_approval(version, contact=self.ann, approve=True)
        run.assert_called_once_with(self.confirm.pk)
        self.approval.refresh_from_db()
        self.assertEqual((self.approval.status, self.approval.sub_status), ("done", "approved"))
        self.assertEqual(ApprovalVersion.objects.get(pk=version.pk).status, "approved")

        # The worker runs the automatic confirmation step: its email goes out with a link.
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            wf_engine.run_step(self.confirm.pk)
        self.confirm.refresh_from_db()
        self.assertEqual(
            (self.confirm.status, self.confirm.sub_status), ("in_progress", "awaiting_response")
        )
        email = OutboundMessage.objects.get(idempotency_key=f"step:{self.confirm.pk}:open")
        self.assertIn("Please confirm you are happy for us to file the accounts.", email.body_text)
        link = re.search(r"http://\S+/portal/confirm/\S+/", delivered(email).body).group(0)
        path = link.split("127.0.0.1:8000", 1)[1]

        # The client opens the link: GET shows the message and the button, and changes nothing.
        page = self.client.get(path)
        self.assertContains(page, "Yes, file them")
        self.confirm.refresh_from_db()
        self.assertEqual(self.confirm.status, "in_progress")
        # The click confirms and shows the thank-you; a second click changes nothing.
        with mock.patch(RUN), mock.patch(DELIVER):
            thanks = self.client.post(path, follow=True)
            self.assertContains(thanks, "Thank you, we will file them this week.")
            self.client.post(path)
        confirmation = Confirmation.objects.get(step=self.confirm)
        self.assertEqual(confirmation.confirmed_by, self.ann)
        self.assertFalse(portal_engine.confirm(confirmation, contact=self.ann))
        self.confirm.refresh_from_db()
        self.assertEqual((self.confirm.status, self.confirm.sub_status), ("done", "confirmed"))
        progress = wf_queries.progress(self.task)
        self.assertEqual((progress.percent, progress.done), (100, 3))
        self.assertEqual(
            ActivityEvent.objects.filter(
                task=self.task, verb="step.status", object_id=self.confirm.pk, new_status="done"
            ).count(),
            1,
        )
        # The assignee was told about the approval and the confirmation.
        texts = list(Notification.objects.filter(user=self.staff).values_list("text", flat=True))
        self.assertTrue(any("approved Draft accounts 2026" in t for t in texts))
        self.assertTrue(any("confirmed" in t for t in texts))

    def test_a_rejection_keeps_the_step_open_and_a_new_version_can_follow(self) -> None:
        with mock.patch(RUN), mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            wf_engine.complete_step(self.prepare, actor=self.staff)
            first = portal_engine.send_for_approval(
                self.approval,
                actor=self.staff,
                document=staff_document(self.approval, self.staff),
                title="Draft accounts",
                category="Accounts",
            )
            portal_engine.respond_to_approval(
                first, contact=self.ann, approve=False, comment="The director's loan is wrong."
            )
        self.approval.refresh_from_db()
        self.assertEqual(
            (self.approval.status, self.approval.sub_status), ("in_progress", "rejected")
        )
        # Answering the rejected version again changes nothing.
        again = portal_engine.respond_to_approval(first, contact=self.ann, approve=True)
        self.assertEqual(again.status, "rejected")
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            second = portal_engine.send_for_approval(
                self.approval,
                actor=self.staff,
                document=staff_document(self.approval, self.staff),
                title="Draft accounts v2",
            )
        self.assertEqual(second.number, 2)
        self.assertEqual(
            list(
                ApprovalVersion.objects.filter(approval=second.approval).values_list(
                    "number", "status"
                )
            ),
            [(2, "pending"), (1, "rejected")],
        )
        with self.assertRaises(portal_engine.PortalError):  # v2 still pending
            portal_engine.send_for_approval(
                self.approval, actor=self.staff, document=second.document, title="again"
            )
