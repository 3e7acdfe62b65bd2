"""Client-facing item pages: isolation, GET changes nothing, uploads, downloads."""

from __future__ import annotations

from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from portal import access, files
from portal.models import AccessToken, Document, DocumentRequest, Submission
from sodium.models import ActivityEvent
from tests import factories as f
from tests.base import BaseTestCase
from tests.portal.portal_factories import PDF
from workflows import attach, building
from workflows import engine as wf_engine

RUN = "workflows.tasks.run_step_task.delay"
DELIVER = "sodium.tasks.deliver_message_task.delay"


class ItemViewTests(BaseTestCase):
    def make_request_step(self, client, contact):
        task = f.TaskFactory(client=client, owner=self.staff, status="in_progress")
        template = building.create_template(
            practice=self.practice, actor=self.manager, name=f"Records {client.pk}"
        )
        building.add_step(
            template.groups.get(),
            actor=self.manager,
            name="Send bank statements",
            type="document_request",
            mode="automatic",
            to_recipients=["contact:main"],
            settings={"title": "Bank statements", "deadline_days": 7},
        )
        with mock.patch(RUN):
            (step,) = attach.attach_template(task, template, actor=self.manager)
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            wf_engine.run_step(step.pk)
        step.refresh_from_db()
        return step

    def sign_in(self, contact) -> None:
        token = access.issue_token(contact, purpose=AccessToken.Purpose.SIGN_IN)
        r = self.client.post(f"/portal/link/{token}/")
        self.assertEqual(r.status_code, 302)

    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme")
        self.ann = f.ContactFactory(client=self.acme, first_name="Ann", email="ann@acme.example")
        self.bolt = f.ClientFactory(practice=self.practice, name="Bolt")
        self.bob = f.ContactFactory(client=self.bolt, first_name="Bob", email="bob@bolt.example")
        self.acme_step = self.make_request_step(self.acme, self.ann)
        self.bolt_step = self.make_request_step(self.bolt, self.bob)

    def test_a_contact_sees_their_item_and_gets_404_on_another_clients(self) -> None:
        self.sign_in(self.ann)
        self.assertContains(
            self.client.get(f"/portal/items/{self.acme_step.pk}/"), "Bank statements"
        )
        self.assertEqual(self.client.get(f"/portal/items/{self.bolt_step.pk}/").status_code, 404)
        r = self.client.post(
            f"/portal/items/{self.bolt_step.pk}/submit/",
            {"files": SimpleUploadedFile("a.pdf", PDF)},
        )
        self.assertEqual(r.status_code, 404)
        self.assertFalse(Submission.objects.exists())
        theirs = files.store(
            SimpleUploadedFile("b.pdf", PDF),
            practice_id=self.practice.pk,
            client_id=self.bolt.pk,
            contact=self.bob,
        )
        self.assertEqual(self.client.get(f"/portal/documents/{theirs.pk}/").status_code, 404)

    def test_signed_out_people_cannot_open_items(self) -> None:
        r = self.client.get(f"/portal/items/{self.acme_step.pk}/")
        self.assertNotEqual(r.status_code, 200)
        self.assertNotIn(b"Bank statements", r.content)

    def test_uploading_and_submitting_hands_the_files_to_staff(self) -> None:
        self.sign_in(self.ann)
        before = ActivityEvent.objects.count()
        with mock.patch(DELIVER):
            r = self.client.post(
                f"/portal/items/{self.acme_step.pk}/submit/",
                {
                    "files": [
                        SimpleUploadedFile("statement.pdf", PDF),
                        SimpleUploadedFile("sales.csv", b"date,amount\n2026-01-01,10\n"),
                    ],
                    "message": "Here you go",
                },
            )
        self.assertRedirects(r, f"/portal/items/{self.acme_step.pk}/")
        submission = Submission.objects.get()
        self.assertEqual(submission.contact, self.ann)
        self.assertEqual(
            sorted(d.original_name for d in submission.documents.all()),
            ["sales.csv", "statement.pdf"],
        )
        self.assertEqual(DocumentRequest.objects.get(step=self.acme_step).status, "submitted")
        self.acme_step.refresh_from_db()
        self.assertEqual(self.acme_step.sub_status, "submitted")
        self.assertGreater(ActivityEvent.objects.count(), before)
        page = self.client.get(f"/portal/items/{self.acme_step.pk}/")
        self.assertContains(page, "Sent — we are reviewing it")
        self.assertNotContains(page, 'type="file"')  # no second submission while in review

    def test_a_file_whose_content_does_not_match_its_name_is_refused_and_nothing_is_kept(
        self,
    ) -> None:
        self.sign_in(self.ann)
        r = self.client.post(
            f"/portal/items/{self.acme_step.pk}/submit/",
            {
                "files": [
                    SimpleUploadedFile("good.pdf", PDF),
                    SimpleUploadedFile("fake.pdf", b"just some text, not a PDF"),
                ],
            },
        )
        self.assertEqual(r.status_code, 400)
        self.assertContains(r, "its contents do not match its name", status_code=400)
        self.assertFalse(Submission.objects.exists())
        self.assertFalse(Document.objects.exists())
        self.assertEqual(DocumentRequest.objects.get(step=self.acme_step).status, "open")

    @override_settings(SODIUM_MAX_UPLOAD_BYTES=1024)
    def test_an_oversized_upload_gets_a_readable_413_page(self) -> None:
        self.sign_in(self.ann)
        r = self.client.post(
            f"/portal/items/{self.acme_step.pk}/submit/",
            {"files": SimpleUploadedFile("big.pdf", PDF + b"0" * 4096)},
        )
        self.assertEqual(r.status_code, 413)
        self.assertContains(r, "That file is too large", status_code=413)
        self.assertFalse(Document.objects.exists())

    def test_downloads_are_attachments_with_nosniff(self) -> None:
        self.sign_in(self.ann)
        doc = files.store(
            SimpleUploadedFile("<script>.pdf", PDF),
            practice_id=self.practice.pk,
            client_id=self.acme.pk,
            contact=self.ann,
        )
        r = self.client.get(f"/portal/documents/{doc.pk}/")
        self.assertEqual(r.status_code, 200)
        self.assertTrue(r["Content-Disposition"].startswith("attachment"))
        self.assertEqual(r["X-Content-Type-Options"], "nosniff")
        self.assertEqual(r["Content-Type"], "application/pdf")
        self.assertEqual(b"".join(r.streaming_content), PDF)
        self.assertNotIn("<script>", doc.file.name)  # stored under a random name

    def test_no_get_changes_anything(self) -> None:
        self.sign_in(self.ann)
        urls = {
            f"/portal/items/{self.acme_step.pk}/": 200,
            f"/portal/items/{self.acme_step.pk}/submit/": 405,
            f"/portal/items/{self.acme_step.pk}/respond/": 405,
            f"/portal/items/{self.acme_step.pk}/confirm/": 405,
        }
        counts = (ActivityEvent.objects.count(), Submission.objects.count())
        for url, expected in urls.items():
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, expected)
        self.assertEqual(counts, (ActivityEvent.objects.count(), Submission.objects.count()))


class ItemViewReviewFixTests(ItemViewTests):
    """Runs only its own tests (the inherited ones are skipped below)."""

    def test_a_draft_shown_on_get_creates_no_built_in_block(self) -> None:
        from workflows import engine as wf
        from workflows.models import ContentBlock

        ContentBlock.objects.filter(system_key__startswith="portal.").delete()
        draft = wf.draft_step_message(self.acme_step)
        self.assertIn("Documents needed", draft.subject)
        self.assertFalse(ContentBlock.objects.filter(system_key__startswith="portal.").exists())

    def test_a_confirmation_link_of_an_archived_client_is_refused(self) -> None:
        from portal.models import Confirmation
        from sodium.models import Client

        task = f.TaskFactory(client=self.acme, owner=self.staff, status="in_progress")
        template = building.create_template(
            practice=self.practice, actor=self.manager, name="Confirm"
        )
        building.add_step(
            template.groups.get(),
            actor=self.manager,
            name="Confirm entries",
            type="client_confirmation",
            mode="automatic",
            to_recipients=["contact:main"],
            settings={"message": "All in?", "button_text": "Yes", "thank_you": "Thanks"},
        )
        with mock.patch(RUN):
            (step,) = attach.attach_template(task, template, actor=self.manager)
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            wf_engine.run_step(step.pk)
        token = access.issue_token(self.ann, purpose=AccessToken.Purpose.STEP, step=step)
        self.assertContains(self.client.get(f"/portal/confirm/{token}/"), "All in?")
        Client.objects.filter(pk=self.acme.pk).update(status="archived")
        self.assertEqual(self.client.post(f"/portal/confirm/{token}/").status_code, 404)
        self.assertIsNone(Confirmation.objects.get(step=step).confirmed_at)


for _name in [n for n in dir(ItemViewTests) if n.startswith("test_")]:
    setattr(ItemViewReviewFixTests, _name, None)
