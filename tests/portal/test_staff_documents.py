"""Staff side of the portal: downloads, reviewing submissions, sending documents for approval,
and the task page's "Documents & client responses" panel."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal import engine as portal_engine
from portal import files, staff_queries
from portal.models import (
    Approval,
    ApprovalVersion,
    Confirmation,
    Document,
    DocumentRequest,
    Submission,
)
from sodium.models import OutboundMessage
from tests import factories as f
from tests.portal.staff_helpers import (
    DELIVER,
    PDF,
    RUN,
    PortalStaffTestCase,
    approval_step,
    confirmation_step,
    pdf,
    request_step,
    simple_step,
    stored_files,
)
from workflows.models import Step


class DocumentDownloadTests(PortalStaffTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.document = files.store(
            pdf("Draft accounts 2025.pdf"),
            practice_id=self.practice.pk,
            client_id=self.acme.pk,
            contact=self.ann,
            task=self.task,
        )
        self.url = f"/documents/{self.document.pk}/download/"

    def test_it_serves_the_file_as_an_attachment_with_nosniff(self) -> None:
        self.client.force_login(self.ar_specialist)  # every role may see the practice's files
        r = self.client.get(self.url)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(b"".join(r.streaming_content), PDF)
        self.assertTrue(r["Content-Disposition"].startswith("attachment"))
        self.assertIn('filename="Draft accounts 2025.pdf"', r["Content-Disposition"])
        self.assertEqual(r["Content-Type"], "application/pdf")
        self.assertEqual(r["X-Content-Type-Options"], "nosniff")
        self.assertEqual(r["Content-Security-Policy"], "default-src 'none'; sandbox")
        self.assertEqual(r["Cache-Control"], "private, no-store")

    def test_it_keeps_a_non_ascii_original_name(self) -> None:
        document = files.store(
            pdf('Bilanz für "2025".pdf'), practice_id=self.practice.pk, client_id=self.acme.pk
        )
        self.client.force_login(self.owner)
        r = self.client.get(f"/documents/{document.pk}/download/")
        self.assertTrue(r["Content-Disposition"].startswith("attachment"))
        self.assertIn(
            "filename*=utf-8''Bilanz%20f%C3%BCr%20%222025%22.pdf", r["Content-Disposition"]
        )

    def test_it_hides_other_practices_documents(self) -> None:
        theirs = files.store(
            pdf("secret.pdf"), practice_id=self.other_practice.pk, client_id=self.other_client.pk
        )
        self.client.force_login(self.owner)
        self.assertEqual(self.client.get(f"/documents/{theirs.pk}/download/").status_code, 404)
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(self.url).status_code, 404)

    def test_it_sends_signed_out_visitors_to_sign_in(self) -> None:
        r = self.client.get(self.url)
        self.assertEqual(r.status_code, 302)
        self.assertTrue(r["Location"].startswith("/sign-in/"))

    def test_a_file_missing_from_storage_is_404(self) -> None:
        self.document.file.delete(save=False)
        self.client.force_login(self.owner)
        self.assertEqual(self.client.get(self.url).status_code, 404)


class SubmissionReviewTests(PortalStaffTestCase):
    """A document request (sent, then answered by the client) and a step that needs it."""

    def setUp(self) -> None:
        super().setUp()
        self.request_step, self.after = self.attach((request_step(), []), (simple_step(), [0]))
        self.run_step(self.request_step)
        self.doc_request = DocumentRequest.objects.get(step=self.request_step)
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            self.submission = portal_engine.submit(
                self.doc_request,
                contact=self.ann,
                uploads=[pdf("statements.pdf")],
                message="Here are the statements.",
            )
        self.accept_url = f"/documents/submissions/{self.submission.pk}/accept/"
        self.reject_url = f"/documents/submissions/{self.submission.pk}/reject/"
        self.client.force_login(self.staff)

    def assertUnreviewed(self) -> None:  # noqa: N802
        self.submission.refresh_from_db()
        self.doc_request.refresh_from_db()
        self.request_step.refresh_from_db()
        self.assertEqual(self.submission.status, "pending")
        self.assertEqual(self.doc_request.status, "submitted")
        self.assertEqual(
            (self.request_step.status, self.request_step.sub_status), ("in_progress", "submitted")
        )
        self.assertFalse(
            OutboundMessage.objects.filter(idempotency_key__startswith="submission:").exists()
        )

    def test_accepting_finishes_the_step_and_unblocks_its_dependents(self) -> None:
        self.assertEqual(self.after.status, "blocked")
        with mock.patch(RUN), self.captureOnCommitCallbacks(execute=True):
            r = self.client.post(self.accept_url)
        self.assertRedirects(r, self.task_url(), fetch_redirect_response=False)
        self.submission.refresh_from_db()
        self.assertEqual(self.submission.status, "accepted")
        self.assertEqual(self.submission.reviewed_by, self.staff)
        self.assertEqual(DocumentRequest.objects.get(pk=self.doc_request.pk).status, "accepted")
        self.request_step.refresh_from_db()
        self.assertEqual(
            (self.request_step.status, self.request_step.sub_status), ("done", "accepted")
        )
        self.after.refresh_from_db()
        self.assertEqual(self.after.status, "ready")
        page = self.client.get(self.task_url())
        self.assertContains(page, "Accepted the documents")

    def test_rejecting_needs_a_reason(self) -> None:
        r = self.client.post(self.reject_url, {"reason": "   "}, follow=True)
        self.assertContains(r, "Say what is missing")
        self.assertUnreviewed()

    def test_rejecting_reopens_the_request_and_emails_the_client(self) -> None:
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            r = self.client.post(self.reject_url, {"reason": "The March statement is missing."})
        self.assertRedirects(r, self.task_url(), fetch_redirect_response=False)
        self.submission.refresh_from_db()
        self.assertEqual(self.submission.status, "rejected")
        self.assertEqual(self.submission.rejection_reason, "The March statement is missing.")
        self.assertEqual(DocumentRequest.objects.get(pk=self.doc_request.pk).status, "open")
        self.request_step.refresh_from_db()
        self.assertEqual(
            (self.request_step.status, self.request_step.sub_status), ("in_progress", "rejected")
        )
        (email,) = OutboundMessage.objects.filter(idempotency_key__startswith="submission:")
        self.assertEqual(email.to, ["ann@acme.example"])
        self.assertIn("The March statement is missing.", email.body_text)
        self.assertIn("/portal/link/", email.body_text)
        self.after.refresh_from_db()
        self.assertEqual(self.after.status, "blocked")
        self.assertContains(self.client.get(self.task_url()), "we emailed Ann Acme the reason")

    def test_reviewing_twice_changes_nothing_the_second_time(self) -> None:
        with mock.patch(RUN), self.captureOnCommitCallbacks(execute=True):
            self.client.post(self.accept_url)
        reviewed_at = Submission.objects.get(pk=self.submission.pk).reviewed_at
        for url, data in ((self.accept_url, {}), (self.reject_url, {"reason": "Too late"})):
            r = self.client.post(url, data, follow=True)
            self.assertContains(r, "already been reviewed")
        submission = Submission.objects.get(pk=self.submission.pk)
        self.assertEqual((submission.status, submission.reviewed_at), ("accepted", reviewed_at))
        self.assertEqual(submission.rejection_reason, "")
        self.assertFalse(
            OutboundMessage.objects.filter(idempotency_key__startswith="submission:").exists()
        )

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.accept_url).status_code, 405)
        self.assertEqual(self.client.get(self.reject_url).status_code, 405)
        self.assertUnreviewed()

    def test_it_hides_submissions_from_other_practices(self) -> None:
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.post(self.accept_url).status_code, 404)
        self.assertEqual(self.client.post(self.reject_url, {"reason": "No"}).status_code, 404)
        self.assertUnreviewed()

    def test_roles_without_task_editing_cannot_review(self) -> None:
        self.client.force_login(self.ar_specialist)
        self.assertEqual(self.client.post(self.accept_url).status_code, 403)
        self.assertUnreviewed()


class ApprovalPageTests(PortalStaffTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.step, self.after = self.attach((approval_step(), []), (simple_step(), [0]))
        self.url = f"/documents/steps/{self.step.pk}/approval/"
        self.client.force_login(self.staff)

    def post(self, data: dict, **kwargs):
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            return self.client.post(self.url, data, **kwargs)

    def client_document(self, client=None, name="signed-engagement.pdf") -> Document:
        return files.store(
            pdf(name),
            practice_id=self.practice.pk,
            client_id=(client or self.acme).pk,
            contact=self.ann,
        )

    def assertNothingSent(self) -> None:  # noqa: N802
        self.assertFalse(Approval.objects.exists())
        self.assertFalse(ApprovalVersion.objects.exists())
        self.assertFalse(OutboundMessage.objects.exists())
        self.step.refresh_from_db()
        self.assertEqual(self.step.status, "ready")

    def test_it_offers_an_upload_and_the_clients_files(self) -> None:
        mine = self.client_document()
        other_client = f.ClientFactory(practice=self.practice)
        self.client_document(other_client, name="not-acme.pdf")
        r = self.client.get(self.url)
        self.assertContains(r, 'type="file"')
        self.assertContains(r, 'enctype="multipart/form-data"')
        self.assertContains(r, f'value="{mine.pk}"')
        self.assertContains(r, "signed-engagement.pdf")
        self.assertContains(r, "Ann Acme (client)")
        self.assertNotContains(r, "not-acme.pdf")
        for category in ("Accounts", "Tax", "Payroll", "VAT", "Engagement letter", "Other"):
            self.assertContains(r, f'<option value="{category}"')

    def test_the_category_the_step_suggests_is_chosen_to_start_with(self) -> None:
        for suggested in ("Tax", "Audit pack"):  # one of the list, and one of the practice's
            with self.subTest(suggested=suggested):
                Step.objects.filter(pk=self.step.pk).update(settings={"category": suggested})
                r = self.client.get(self.url)
                self.assertContains(r, f'<option value="{suggested}" selected>', html=False)
        Step.objects.filter(pk=self.step.pk).update(settings={})
        self.assertContains(self.client.get(self.url), '<option value="" selected>', html=False)

    def test_uploading_sends_version_one_and_emails_the_client(self) -> None:
        r = self.post(
            {"file": pdf("draft.pdf"), "title": "Draft accounts 2025", "category": "Accounts"}
        )
        self.assertRedirects(r, self.task_url(), fetch_redirect_response=False)
        document = Document.objects.get()
        self.assertEqual(
            (document.original_name, document.title, document.category, document.task_id),
            ("draft.pdf", "Draft accounts 2025", "Accounts", self.task.pk),
        )
        self.assertEqual(document.uploaded_by_user, self.staff)
        approval = Approval.objects.get(step=self.step)
        self.assertEqual((approval.title, approval.category), ("Draft accounts 2025", "Accounts"))
        version = approval.versions.get()
        self.assertEqual(
            (version.number, version.status, version.document), (1, "pending", document)
        )
        self.assertEqual(version.sent_by, self.staff)
        email = OutboundMessage.objects.get(idempotency_key=f"step:{self.step.pk}:approval:1")
        self.assertEqual(email.to, ["ann@acme.example"])
        self.assertIn("/portal/link/", email.body_text)
        self.step.refresh_from_db()
        self.assertEqual(
            (self.step.status, self.step.sub_status), ("in_progress", "awaiting_response")
        )

    def test_picking_a_file_the_client_already_has_sends_it(self) -> None:
        existing = self.client_document()
        r = self.post(
            {"document": existing.pk, "title": "Engagement letter", "category": "Engagement letter"}
        )
        self.assertRedirects(r, self.task_url(), fetch_redirect_response=False)
        version = ApprovalVersion.objects.get()
        # A copy is sent, stored like an upload under a new random name.
        copy = version.document
        self.assertNotEqual(copy, existing)
        self.assertEqual(Document.objects.count(), 2)
        self.assertEqual(
            (copy.sha256, copy.original_name), (existing.sha256, existing.original_name)
        )
        self.assertNotEqual(copy.file.name, existing.file.name)
        self.assertEqual((copy.uploaded_by_user, copy.task), (self.staff, self.task))
        self.assertEqual((copy.title, copy.category), ("Engagement letter", "Engagement letter"))
        self.assertEqual(version.approval.title, "Engagement letter")
        # The client's own upload keeps its name where it appears under their submission.
        existing.refresh_from_db()
        self.assertEqual(existing.title, "signed-engagement.pdf")

    def test_a_document_of_another_client_is_refused(self) -> None:
        theirs = self.client_document(f.ClientFactory(practice=self.practice))
        rival = files.store(
            pdf(), practice_id=self.other_practice.pk, client_id=self.other_client.pk
        )
        for document in (theirs, rival):
            r = self.post({"document": document.pk, "title": "Accounts", "category": "Accounts"})
            self.assertEqual(r.status_code, 404)
        self.assertNothingSent()

    def test_it_needs_exactly_one_document_and_a_title(self) -> None:
        existing = self.client_document()
        r = self.post({"title": "Accounts", "category": "Accounts"})
        self.assertContains(r, "Upload a file, or pick one the client already has.")
        r = self.post(
            {"file": pdf(), "document": existing.pk, "title": "Accounts", "category": "Accounts"}
        )
        self.assertContains(r, "not both")
        r = self.post({"document": existing.pk, "title": "  ", "category": ""})
        self.assertContains(r, "This field is required.", count=2)
        self.assertNothingSent()
        self.assertEqual(Document.objects.count(), 1)

    def test_a_refused_upload_is_shown_and_leaves_nothing(self) -> None:
        before = stored_files()
        r = self.post(
            {"file": pdf("fake.pdf", b"hello, not a pdf"), "title": "X", "category": "Tax"}
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "its contents do not match its name")
        self.assertFalse(Document.objects.exists())
        self.assertEqual(stored_files(), before)
        self.assertNothingSent()

    def test_an_engine_refusal_after_the_upload_leaves_nothing(self) -> None:
        self.ann.email = ""
        self.ann.save(update_fields=["email"])
        before = stored_files()
        r = self.post({"file": pdf(), "title": "Draft accounts", "category": "Accounts"})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "alert-error")
        self.assertFalse(Document.objects.exists())
        self.assertEqual(stored_files(), before)  # the stored bytes were removed too
        self.assertNothingSent()

    def test_after_a_rejection_it_shows_the_comment_and_sends_version_two(self) -> None:
        self.post({"file": pdf("v1.pdf"), "title": "Draft accounts", "category": "Accounts"})
        first = ApprovalVersion.objects.get()
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            portal_engine.respond_to_approval(
                first, contact=self.ann, approve=False, comment="The director's loan is wrong."
            )
        r = self.client.get(self.url)
        self.assertContains(r, "Send a new version")
        self.assertContains(r, "The director&#x27;s loan is wrong.")
        self.assertContains(r, "Version 1")
        self.assertContains(r, 'value="Draft accounts"')  # title kept for the new version
        r = self.post({"file": pdf("v2.pdf"), "title": "Draft accounts", "category": "Accounts"})
        self.assertRedirects(r, self.task_url(), fetch_redirect_response=False)
        self.assertEqual(
            list(
                ApprovalVersion.objects.values_list("number", "status", "document__original_name")
            ),
            [(2, "pending", "v2.pdf"), (1, "rejected", "v1.pdf")],
        )
        self.step.refresh_from_db()
        self.assertEqual(
            (self.step.status, self.step.sub_status), ("in_progress", "awaiting_response")
        )
        self.assertTrue(
            OutboundMessage.objects.filter(
                idempotency_key=f"step:{self.step.pk}:approval:2"
            ).exists()
        )

    def test_it_refuses_to_send_while_the_client_has_not_answered(self) -> None:
        self.post({"file": pdf("v1.pdf"), "title": "Draft accounts", "category": "Accounts"})
        r = self.client.get(self.url)
        self.assertContains(r, "The client has not answered the current version yet.")
        self.assertNotContains(r, 'type="file"')
        before = stored_files()
        r = self.post({"file": pdf("v2.pdf"), "title": "Draft accounts", "category": "Accounts"})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "The client has not answered the current version yet.")
        self.assertEqual(ApprovalVersion.objects.count(), 1)
        self.assertEqual(Document.objects.count(), 1)
        self.assertEqual(stored_files(), before)

    def test_a_blocked_step_cannot_be_sent_yet(self) -> None:
        later = f.TaskFactory(client=self.acme, owner=self.staff, status="in_progress")
        _, blocked = self.attach((simple_step(), []), (approval_step(), [0]), task=later)
        url = f"/documents/steps/{blocked.pk}/approval/"
        r = self.client.get(url)
        self.assertContains(r, "waiting for the steps it depends on")
        self.assertNotContains(r, 'type="file"')
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            r = self.client.post(url, {"file": pdf(), "title": "X", "category": "Tax"})
        self.assertContains(r, "waiting for the steps it depends on")
        self.assertFalse(Document.objects.exists())
        self.assertNothingSent()

    def test_only_approval_steps_of_this_practice_have_the_page(self) -> None:
        (simple,) = self.attach((simple_step(), []))
        self.assertEqual(
            self.client.get(f"/documents/steps/{simple.pk}/approval/").status_code, 404
        )
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(self.url).status_code, 404)
        self.assertEqual(
            self.post({"file": pdf(), "title": "X", "category": "Tax"}).status_code, 404
        )
        self.assertNothingSent()

    def test_roles_without_task_editing_cannot_send(self) -> None:
        self.client.force_login(self.ar_specialist)
        self.assertEqual(self.client.get(self.url).status_code, 403)

    def test_the_workflow_panel_links_to_the_page(self) -> None:
        r = self.client.get(self.task_url())
        self.assertContains(r, f'href="{self.url}"')
        self.assertContains(r, "Send for approval")


class TaskDocumentsPanelTests(PortalStaffTestCase):
    """A task with all three client-facing step types, each sent and answered a little."""

    def setUp(self) -> None:
        super().setUp()
        self.req, self.appr, self.conf = self.attach(
            (request_step(), []), (approval_step(), []), (confirmation_step(), [])
        )
        self.run_step(self.req)
        self.run_step(self.conf)
        self.doc_request = DocumentRequest.objects.get(step=self.req)
        self.client.force_login(self.staff)

    def submit(self, *names: str) -> Submission:
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            return portal_engine.submit(
                DocumentRequest.objects.get(pk=self.doc_request.pk),
                contact=self.ann,
                uploads=[pdf(n) for n in names],
                message="All attached.",
            )

    def send_version(self, name: str) -> ApprovalVersion:
        document = files.store(
            pdf(name),
            practice_id=self.practice.pk,
            client_id=self.acme.pk,
            user=self.staff,
            task=self.task,
        )
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            return portal_engine.send_for_approval(
                self.appr,
                actor=self.staff,
                document=document,
                title="Draft accounts",
                category="Accounts",
            )

    def test_it_shows_requests_submissions_approvals_confirmations_and_files(self) -> None:
        submission = self.submit("jan.pdf", "feb.pdf")
        version = self.send_version("draft-v1.pdf")
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            portal_engine.respond_to_approval(
                version, contact=self.ann, approve=False, comment="Wrong year end date."
            )
        Confirmation.objects.filter(step=self.conf).update(chases_sent=2)
        Step.objects.filter(pk=self.conf.pk).update(chase_count=2)

        r = self.client.get(self.task_url())
        self.assertContains(r, "Documents &amp; client responses")
        # The request with its deadline and the submission to review.
        self.assertContains(r, "Bank statements for 2025")
        deadline = timezone.localdate() + dt.timedelta(days=7)
        self.assertContains(r, f"Deadline {deadline:%-d %b %Y}")
        self.assertNotContains(r, ">Overdue<")
        self.assertContains(r, "Submitted, to review")
        self.assertContains(r, "All attached.")
        self.assertContains(r, f"/documents/submissions/{submission.pk}/accept/")
        self.assertContains(r, f"/documents/submissions/{submission.pk}/reject/")
        self.assertContains(r, 'name="reason" rows="3" required')
        for document in submission.documents.all():
            self.assertContains(r, f'href="/documents/{document.pk}/download/"', count=2)
        # The approval with its version, status and the client's comment.
        self.assertContains(r, "Version 1")
        self.assertContains(r, "draft-v1.pdf")
        self.assertContains(r, "Wrong year end date.")
        self.assertContains(r, f'href="/documents/steps/{self.appr.pk}/approval/"')
        # The confirmation, waiting and chased; the chase count shows on the step too.
        self.assertContains(r, "Please confirm we may file the accounts.")
        self.assertContains(r, "Waiting — chased 2 times")
        self.assertContains(r, "chased 2 times</span>", count=2)
        # All files of the task: two submitted, one sent for approval.
        self.assertContains(r, "All files of this task")
        self.assertEqual(Document.objects.filter(task=self.task).count(), 3)

    def test_a_past_deadline_on_an_open_request_is_overdue(self) -> None:
        DocumentRequest.objects.filter(pk=self.doc_request.pk).update(
            deadline=timezone.localdate() - dt.timedelta(days=1)
        )
        r = self.client.get(self.task_url())
        self.assertContains(r, '<span class="chip chip-overdue">Overdue</span>', html=True)
        self.assertContains(r, "1 overdue")
        self.submit("late.pdf")  # answered: no longer overdue
        r = self.client.get(self.task_url())
        self.assertNotContains(r, '<span class="chip chip-overdue">Overdue</span>', html=True)

    def test_a_reviewed_submission_has_no_buttons(self) -> None:
        submission = self.submit("jan.pdf")
        with mock.patch(RUN), self.captureOnCommitCallbacks(execute=True):
            portal_engine.accept_submission(submission, actor=self.staff)
        r = self.client.get(self.task_url())
        self.assertNotContains(r, f"/documents/submissions/{submission.pk}/accept/")
        self.assertContains(r, f"Accepted by {self.staff}")

    def test_confirmed_shows_who_and_when(self) -> None:
        confirmation = Confirmation.objects.get(step=self.conf)
        portal_engine.confirm(confirmation, contact=self.ann)
        r = self.client.get(self.task_url())
        self.assertContains(r, "Confirmed ")
        self.assertContains(r, "by Ann Acme")

    def test_readers_see_the_panel_without_review_buttons(self) -> None:
        submission = self.submit("jan.pdf")
        self.client.force_login(self.ar_specialist)
        r = self.client.get(self.task_url())
        self.assertContains(r, "Documents &amp; client responses")
        self.assertContains(r, "jan.pdf")
        self.assertNotContains(r, f"/documents/submissions/{submission.pk}/accept/")

    def test_tasks_without_client_facing_steps_or_files_have_no_panel(self) -> None:
        plain = f.TaskFactory(client=self.acme, owner=self.staff, status="in_progress")
        self.attach((simple_step(), []), task=plain)
        r = self.client.get(self.task_url(plain))
        self.assertEqual(r.status_code, 200)
        self.assertNotContains(r, "Documents &amp; client responses")
        files.store(
            pdf("loose.pdf"),
            practice_id=self.practice.pk,
            client_id=self.acme.pk,
            user=self.staff,
            task=plain,
        )
        r = self.client.get(self.task_url(plain))
        self.assertContains(r, "Documents &amp; client responses")
        self.assertContains(r, "loose.pdf")

    def test_the_panel_reads_a_fixed_number_of_rows_whatever_the_count(self) -> None:
        def count_queries() -> tuple[int, int]:
            with CaptureQueriesContext(connection) as page:
                r = self.client.get(self.task_url())
            self.assertEqual(r.status_code, 200)
            with CaptureQueriesContext(connection) as panel:
                staff_queries.task_documents(self.practice, self.task)
            return len(page), len(panel)

        first = self.submit("one.pdf")
        self.send_version("v1.pdf")
        small = count_queries()
        self.assertEqual(Document.objects.filter(task=self.task).count(), 2)

        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            portal_engine.reject_submission(first, actor=self.staff, reason="More please")
            portal_engine.respond_to_approval(
                ApprovalVersion.objects.get(), contact=self.ann, approve=False, comment="No"
            )
        self.submit(*[f"file-{i}.pdf" for i in range(7)])
        self.send_version("v2.pdf")
        self.assertEqual(Document.objects.filter(task=self.task).count(), 10)
        large = count_queries()
        self.assertEqual(large, small)
        self.assertEqual(small[1], 10)
