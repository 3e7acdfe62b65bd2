"""Sending a document for approval is written once: the approval page and the focus panel
post the same form to the same engine function, which stores the upload and cleans up."""

from __future__ import annotations

import dataclasses
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile

from portal import engine as portal_engine
from portal.models import ApprovalVersion, Document
from tests.portal.staff_helpers import (
    DELIVER,
    PortalStaffTestCase,
    approval_step,
    pdf,
    simple_step,
    stored_files,
)
from workflows import step_types

ENTRY_POINTS = {
    "page": "/documents/steps/{}/approval/",
    "focus panel": "/documents/steps/{}/send-for-approval/",
}


class SendForApprovalOnceTests(PortalStaffTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.step, _ = self.attach((approval_step(), []), (simple_step(), [0]))
        self.client.force_login(self.staff)

    def post(self, entry: str, data: dict):
        url = ENTRY_POINTS[entry].format(self.step.pk)
        headers = {"HX-Request": "true"} if entry == "focus panel" else {}  # the panel's htmx
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            return self.client.post(url, data, headers=headers)

    def test_both_entry_points_send_through_the_engine_function(self) -> None:
        for number, entry in enumerate(ENTRY_POINTS, start=1):
            with self.subTest(entry=entry):
                if number > 1:  # the client asks for changes, so a new version may follow
                    portal_engine.respond_to_approval(
                        ApprovalVersion.objects.get(number=number - 1),
                        contact=self.ann,
                        approve=False,
                        comment="Fix page 2",
                    )
                with mock.patch.object(
                    portal_engine,
                    "send_document_for_approval",
                    wraps=portal_engine.send_document_for_approval,
                ) as send:
                    self.post(
                        entry,
                        {
                            "file": pdf(f"v{number}.pdf"),
                            "title": "Draft accounts",
                            "category": "Accounts",
                        },
                    )
                send.assert_called_once()
                version = ApprovalVersion.objects.get(approval__step=self.step, number=number)
                self.assertEqual(version.document.original_name, f"v{number}.pdf")

    def test_a_refused_upload_changes_nothing_and_leaves_no_file(self) -> None:
        before = stored_files()
        for entry in ENTRY_POINTS:
            with self.subTest(entry=entry):
                fake = SimpleUploadedFile("fake.pdf", b"hello, not a pdf")
                r = self.post(entry, {"file": fake, "title": "X", "category": "Tax"})
                self.assertContains(r, "its contents do not match its name")
                self.assertFalse(Document.objects.exists())
                self.assertFalse(ApprovalVersion.objects.exists())
                self.assertEqual(stored_files(), before)

    def test_a_refused_send_after_storing_removes_the_stored_bytes(self) -> None:
        self.ann.email = ""  # nobody to email: the engine refuses after storing the upload
        self.ann.save(update_fields=["email"])
        before = stored_files()
        with self.assertRaises(portal_engine.PortalError):
            portal_engine.send_document_for_approval(
                self.step, actor=self.staff, upload=pdf(), title="Draft accounts"
            )
        self.assertFalse(Document.objects.exists())
        self.assertEqual(stored_files(), before)


class TaskPageActionTests(PortalStaffTestCase):
    """The task page's "Send for approval" button is the type's declaration (task_action):
    the workflow card renders whatever a step type says and names no type."""

    def setUp(self) -> None:
        super().setUp()
        self.step, self.after = self.attach((approval_step(), []), (simple_step(), [0]))
        self.client.force_login(self.staff)

    def test_the_approval_types_button_is_shown_while_it_can_send(self) -> None:
        r = self.client.get(self.task_url())
        self.assertContains(r, f'href="/documents/steps/{self.step.pk}/approval/"')
        self.assertContains(r, f'Send for approval<span class="sr-only"> {self.step.name}</span>')
        self.assertNotContains(r, f'href="/documents/steps/{self.after.pk}/approval/"')

    def test_the_card_renders_what_the_declaration_says(self) -> None:
        original = step_types.get(self.step.type)
        self.addCleanup(step_types.register, original)
        step_types.register(
            dataclasses.replace(original, task_action=lambda step: ("Do the thing", "/thing/"))
        )
        r = self.client.get(self.task_url())
        self.assertContains(r, '<a class="btn btn-small btn-primary" href="/thing/">Do the thing')
        card_button = f'Send for approval<span class="sr-only"> {self.step.name}</span>'
        self.assertNotContains(r, card_button)  # the documents card keeps its own link
