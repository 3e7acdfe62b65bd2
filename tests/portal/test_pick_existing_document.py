"""Picking an existing document to send for approval, and the chases shown on the step."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from django.utils import timezone

from portal import files, staff_queries
from portal.models import ApprovalVersion, Document
from sodium import timers
from sodium.models import OutboundMessage
from tests import factories as f
from tests.portal.staff_helpers import (
    DELIVER,
    RUN,
    PortalStaffTestCase,
    approval_step,
    pdf,
    request_step,
)


class PickExistingDocumentTests(PortalStaffTestCase):
    def setUp(self) -> None:
        super().setUp()
        (self.step,) = self.attach((approval_step(), []))
        self.url = f"/documents/steps/{self.step.pk}/approval/"
        self.client.force_login(self.staff)
        other_task = f.TaskFactory(client=self.acme, owner=self.staff, name="VAT Q1")
        self.task_file = self.store("draft-accounts.pdf", user=self.staff, task=self.task)
        self.their_upload = self.store("bank-march.pdf", contact=self.ann, task=other_task)
        self.other_tasks_file = self.store("vat-workings.pdf", user=self.staff, task=other_task)
        self.other_client_file = self.store(
            "theirs.pdf", client=f.ClientFactory(practice=self.practice), contact=None
        )

    def store(self, name: str, *, client=None, **who) -> Document:
        return files.store(
            pdf(name), practice_id=self.practice.pk, client_id=(client or self.acme).pk, **who
        )

    def test_it_offers_the_tasks_files_and_the_clients_uploads(self) -> None:
        r = self.client.get(self.url)
        self.assertEqual(list(r.context["documents"]), [self.their_upload, self.task_file])
        self.assertContains(r, "Or pick an existing document")
        self.assertContains(r, 'id="pick-search-form"')
        self.assertNotContains(r, "vat-workings.pdf")
        self.assertNotContains(r, "theirs.pdf")

    def test_it_searches_by_title_file_name_or_category(self) -> None:
        r = self.client.get(self.url, {"q": "BANK"})
        self.assertEqual(list(r.context["documents"]), [self.their_upload])
        self.assertContains(r, 'value="BANK"')
        r = self.client.get(self.url, {"q": "nothing like it"})
        self.assertEqual(list(r.context["documents"]), [])
        self.assertContains(r, "No document matches")

    def test_picking_sends_a_copy_and_leaves_the_original(self) -> None:
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            r = self.client.post(
                f"{self.url}?q=bank",
                {"document": self.their_upload.pk, "title": "Bank", "category": "Accounts"},
            )
        self.assertEqual(r.status_code, 302)
        copy = ApprovalVersion.objects.get().document
        self.assertNotEqual(copy.pk, self.their_upload.pk)
        self.assertEqual(copy.sha256, self.their_upload.sha256)
        self.assertEqual(copy.file.read(), self.their_upload.file.read())
        self.assertIsNone(copy.uploaded_by_contact)
        self.assertEqual(copy.task, self.task)

    def test_another_practices_clients_or_tasks_file_answers_404(self) -> None:
        rival = files.store(
            pdf("rival.pdf"), practice_id=self.other_practice.pk, client_id=self.other_client.pk
        )
        for document in (rival, self.other_client_file, self.other_tasks_file):
            with self.subTest(document=document.original_name):
                r = self.client.post(self.url, {"document": document.pk, "title": "Accounts"})
                self.assertEqual(r.status_code, 404)
        r = self.client.post(self.url, {"document": "not-a-number", "title": "Accounts"})
        self.assertEqual(r.status_code, 404)
        self.assertFalse(ApprovalVersion.objects.exists())
        self.assertEqual(Document.objects.count(), 5)  # no copy made

    def test_a_copy_whose_bytes_are_refused_now_is_refused(self) -> None:
        # A file stored before a check was added is checked again when it is copied.
        Document.objects.filter(pk=self.task_file.pk).update(original_name="draft.docx")
        r = self.client.post(self.url, {"document": self.task_file.pk, "title": "Accounts"})
        self.assertEqual(r.status_code, 200)
        self.assertFalse(ApprovalVersion.objects.exists())

    def test_uploading_a_new_file_still_works(self) -> None:
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            r = self.client.post(
                self.url, {"file": pdf("new.pdf"), "title": "New", "category": "Tax"}
            )
        self.assertEqual(r.status_code, 302)
        self.assertEqual(ApprovalVersion.objects.get().document.original_name, "new.pdf")


class StepChasesShownTests(PortalStaffTestCase):
    def test_the_task_page_lists_each_chase_with_its_delivery_status(self) -> None:
        settings = {
            "title": "Statements",
            "chase": {"enabled": True, "every_days": 1, "max_times": 3},
        }
        (step,) = self.attach((request_step(settings=settings), []))
        t0 = timezone.now()
        with mock.patch("django.utils.timezone.now", return_value=t0):
            step = self.run_step(step)
        for days in (1, 2):
            when = t0 + dt.timedelta(days=days, minutes=1)
            with (
                mock.patch(DELIVER),
                mock.patch(RUN),
                mock.patch("django.utils.timezone.now", return_value=when),
            ):
                timers.sweep(when)
        first, second = OutboundMessage.objects.filter(
            idempotency_key__contains=":chase:"
        ).order_by("created_at", "id")
        OutboundMessage.objects.filter(pk=first.pk).update(status="delivered")
        OutboundMessage.objects.filter(pk=second.pk).update(status="bounced")
        chases = staff_queries.chases_of_steps(self.practice, [step.pk])[step.pk]
        self.assertEqual([m.number for m in chases.sent], ["1", "2"])
        self.assertIsNotNone(chases.next_due)

        self.client.force_login(self.staff)
        r = self.client.get(self.task_url())
        self.assertContains(r, "Chase 1 ·")
        self.assertContains(r, "· to ann@acme.example</span>", count=2)
        self.assertContains(r, '<span class="chip chip-delivered">Delivered</span>')
        self.assertContains(r, '<span class="chip chip-bounced">Bounced</span>')
        self.assertContains(r, "if the client has not answered")
