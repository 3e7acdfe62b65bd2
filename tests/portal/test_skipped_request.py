"""A client-facing step that is skipped: its document request closes, the client is no longer
asked, and no page shows the step's old sub-status (or a version "waiting for the client")
beside "Skipped"."""

from __future__ import annotations

from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal import access, files
from portal import engine as portal_engine
from portal.models import AccessToken, DocumentRequest, Submission
from sodium.models import ActivityEvent
from tests.portal.staff_helpers import (
    DELIVER,
    RUN,
    PortalStaffTestCase,
    approval_step,
    pdf,
    request_step,
)
from workflows import engine as wf_engine
from workflows.models import Step

S = Step.Status


class SkippedRequestTestCase(PortalStaffTestCase):
    """A document request sent to Ann (in progress, awaiting her documents)."""

    def setUp(self) -> None:
        super().setUp()
        (self.step,) = self.attach((request_step(), []))
        self.step = self.run_step(self.step)
        assert self.step.status == S.IN_PROGRESS, self.step.status
        self.request = DocumentRequest.objects.get(step=self.step)

    def submit(self) -> Submission:
        with mock.patch("sodium.notifications.notify"):
            return portal_engine.submit(
                self.request, contact=self.ann, uploads=[pdf("bank.pdf")], message="Here"
            )

    def skip(self) -> Step:
        wf_engine.skip_step(self.step, actor=self.staff)
        self.step.refresh_from_db()
        self.request.refresh_from_db()
        return self.step

    def sign_in(self) -> None:
        token = access.issue_token(self.ann, purpose=AccessToken.Purpose.SIGN_IN)
        self.assertEqual(self.client.post(f"/portal/link/{token}/").status_code, 302)


class SkippingARequestTests(SkippedRequestTestCase):
    def test_skipping_an_awaiting_request_clears_its_sub_status_and_closes_the_request(
        self,
    ) -> None:
        self.assertEqual(self.step.sub_status, Step.SubStatus.AWAITING_RESPONSE)
        step = self.skip()
        self.assertEqual(step.status, S.SKIPPED)
        self.assertEqual(step.sub_status, "")
        self.assertEqual(self.request.status, DocumentRequest.Status.CLOSED)

    def test_skipping_a_submitted_request_closes_the_submission_nobody_reviewed(self) -> None:
        submission = self.submit()
        self.skip()
        submission.refresh_from_db()
        self.assertEqual(self.step.sub_status, "")
        self.assertEqual(submission.status, Submission.Status.REJECTED)
        self.assertIn("skipped", submission.rejection_reason)
        event = ActivityEvent.objects.get(verb="request.closed")
        self.assertEqual(event.task_id, self.step.task_id)
        self.assertIn("1 submission closed unreviewed", event.summary)
        # So nobody can accept it afterwards (which would try to finish a skipped step).
        with self.assertRaises(portal_engine.PortalError):
            portal_engine.accept_submission(submission, actor=self.staff)
        self.step.refresh_from_db()
        self.assertEqual(self.step.status, S.SKIPPED)

    def test_the_client_cannot_submit_to_a_closed_request(self) -> None:
        self.skip()
        with self.assertRaises(portal_engine.PortalError):
            self.submit()
        self.assertFalse(Submission.objects.filter(request=self.request).exists())

    def test_closing_leaves_an_accepted_request_accepted(self) -> None:
        submission = self.submit()
        portal_engine.accept_submission(submission, actor=self.staff)
        portal_engine.close_request(self.step)
        self.request.refresh_from_db()
        submission.refresh_from_db()
        self.assertEqual(self.request.status, DocumentRequest.Status.ACCEPTED)
        self.assertEqual(submission.status, Submission.Status.ACCEPTED)

    def test_restoring_and_sending_again_reopens_the_request(self) -> None:
        self.skip()
        with mock.patch(RUN), self.captureOnCommitCallbacks(execute=True):
            wf_engine.restore_step(self.step, actor=self.staff)
        step = self.run_step(self.step)
        self.request.refresh_from_db()
        self.assertEqual(step.status, S.IN_PROGRESS)
        self.assertEqual(step.sub_status, Step.SubStatus.AWAITING_RESPONSE)
        self.assertEqual(self.request.status, DocumentRequest.Status.OPEN)


class SkippedRequestInThePortalTests(SkippedRequestTestCase):
    def test_the_portal_home_lists_it_while_open_and_not_once_skipped(self) -> None:
        self.sign_in()
        self.assertContains(self.client.get("/portal/"), "Bank statements for 2025")
        self.skip()
        r = self.client.get("/portal/")
        self.assertEqual(r.status_code, 200)
        self.assertNotContains(r, "Bank statements for 2025")
        self.assertNotContains(r, "Waiting for your documents")

    def test_its_page_and_its_upload_answer_404_and_store_nothing(self) -> None:
        self.sign_in()
        self.skip()
        self.assertEqual(self.client.get(f"/portal/items/{self.step.pk}/").status_code, 404)
        upload = SimpleUploadedFile("bank.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
        r = self.client.post(f"/portal/items/{self.step.pk}/submit/", {"files": [upload]})
        self.assertEqual(r.status_code, 404)
        self.assertFalse(Submission.objects.filter(request=self.request).exists())


class SkippedRequestOnStaffPagesTests(SkippedRequestTestCase):
    def test_the_task_page_shows_skipped_without_the_old_sub_status(self) -> None:
        self.submit()
        self.skip()
        self.client.force_login(self.staff)
        r = self.client.get(self.task_url())
        self.assertContains(r, "Skipped")
        self.assertNotContains(r, "Awaiting response")
        self.assertNotContains(r, '<span class="chip chip-sub">Submitted</span>', html=False)
        # The documents panel says the request is closed, not that it waits for the client.
        self.assertContains(r, "No longer needed")
        self.assertNotContains(r, "Waiting for the client")
        self.assertNotContains(r, "Accept<span")
        # The files the client sent stay, marked as closed without review (not "returned").
        self.assertContains(r, "Not reviewed")
        self.assertContains(r, "Closed without review")
        self.assertNotContains(r, "Returned by")

    def test_the_focus_panel_shows_skipped_without_the_old_sub_status(self) -> None:
        self.skip()
        self.client.force_login(self.staff)
        r = self.client.get(f"/workflows/tasks/{self.task.pk}/focus/", headers={"HX-Request": "1"})
        self.assertContains(r, "Skipped")
        self.assertNotContains(r, "Awaiting response")


class SkippedApprovalOnStaffPagesTests(PortalStaffTestCase):
    """A document sent for approval, then its step skipped before the client answered."""

    def setUp(self) -> None:
        super().setUp()
        (self.step,) = self.attach((approval_step(), []))
        document = files.store(
            pdf("Draft accounts.pdf"),
            practice_id=self.practice.pk,
            client_id=self.acme.pk,
            user=self.staff,
            task=self.task,
        )
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            portal_engine.send_for_approval(
                self.step, actor=self.staff, document=document, title="Draft accounts"
            )
        self.client.force_login(self.staff)

    def test_while_waiting_the_version_says_so(self) -> None:
        r = self.client.get(self.task_url())
        self.assertContains(r, "Waiting for the client")
        self.assertNotContains(r, "Not answered")

    def test_once_skipped_the_pending_version_reads_not_answered_everywhere(self) -> None:
        wf_engine.skip_step(self.step, actor=self.staff)
        for url, headers in (
            (self.task_url(), {}),
            (f"/workflows/tasks/{self.task.pk}/focus/", {"HX-Request": "1"}),
            (reverse("portal_staff:approval-send", args=[self.step.pk]), {}),
        ):
            with self.subTest(url):
                r = self.client.get(url, headers=headers)
                self.assertContains(r, "Not answered")
                self.assertNotContains(r, "Waiting for the client")
                self.assertNotContains(r, "Awaiting response")
