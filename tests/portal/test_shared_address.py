"""Two contacts of one client sharing an address are one person in the portal: shown and
credited as the contact the email was sent to."""

from __future__ import annotations

import re
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient

from portal import engine as portal_engine
from portal.models import AccessToken, ApprovalVersion, Confirmation, Submission
from sodium.models import OutboundMessage
from tests import factories as f
from tests.base import BaseTestCase
from tests.portal.helpers import delivered
from tests.portal.portal_factories import PDF, approval_chain_template, staff_document
from workflows import attach, building
from workflows import engine as wf_engine

RUN = "workflows.tasks.run_step_task.delay"
DELIVER = "sodium.tasks.deliver_message_task.delay"
LINK = re.compile(r"http://127\.0\.0\.1:8000(/portal/(?:link|confirm)/[^/\s]+/)")


class SharedAddressTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        # One mailbox, two contacts: the main contact, and a colleague who does the billing.
        self.ann = f.ContactFactory(
            client=self.acme,
            first_name="Ann",
            last_name="Archer",
            email="office@acme.example",
            is_main=True,
        )
        self.zoe = f.ContactFactory(
            client=self.acme,
            first_name="Zoe",
            last_name="Zeal",
            email="Office@Acme.example",
            is_billing=True,
        )

    def request_step(self, to: str):
        task = f.TaskFactory(client=self.acme, owner=self.staff, status="in_progress")
        template = building.create_template(
            practice=self.practice, actor=self.manager, name=f"Records {to}"
        )
        building.add_step(
            template.groups.get(),
            actor=self.manager,
            name="Collect bank statements",
            type="document_request",
            mode="automatic",
            to_recipients=[to],
            settings={"title": "Bank statements"},
        )
        with mock.patch(RUN):
            (step,) = attach.attach_template(task, template, actor=self.manager)
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            wf_engine.run_step(step.pk)
        return step

    def emailed_link(self, key: str) -> str:
        return LINK.search(delivered(OutboundMessage.objects.get(idempotency_key=key)).body)[1]

    def arrive(self, http: HttpClient, path: str):
        """Open the emailed link (GET) and click Continue (POST); return the landing page."""
        page = http.get(path)
        http.post(path, {"csrfmiddlewaretoken": page.context["csrf_token"]})
        return page

    def upload(self, http: HttpClient, step) -> Submission:
        http.post(
            f"/portal/items/{step.pk}/submit/",
            {"files": SimpleUploadedFile("statement.pdf", PDF, content_type="application/pdf")},
        )
        return Submission.objects.get(request__step=step)

    def test_the_link_is_for_the_contact_the_step_emails_and_the_portal_greets_her(self) -> None:
        step = self.request_step("contact:main")
        token = AccessToken.objects.get(step=step)
        self.assertEqual(token.contact, self.ann)
        http = HttpClient()
        landing = self.arrive(http, self.emailed_link(f"step:{step.pk}:open"))
        self.assertContains(landing, "Hello Ann")
        self.assertNotContains(landing, "Zoe")
        home = http.get("/portal/")
        self.assertContains(home, "Hello Ann")
        self.assertContains(home, "Ann Archer")  # the header
        self.assertNotContains(home, "Zoe")

    def test_what_she_does_is_credited_to_the_same_contact(self) -> None:
        step = self.request_step("contact:main")
        http = HttpClient()
        self.arrive(http, self.emailed_link(f"step:{step.pk}:open"))
        with mock.patch(DELIVER):
            self.assertEqual(self.upload(http, step).contact, self.ann)

    def test_an_email_to_the_billing_role_greets_and_credits_the_billing_contact(self) -> None:
        step = self.request_step("contact:billing")
        http = HttpClient()
        landing = self.arrive(http, self.emailed_link(f"step:{step.pk}:open"))
        self.assertContains(landing, "Hello Zoe")
        self.assertContains(http.get("/portal/"), "Hello Zoe")
        with mock.patch(DELIVER):
            self.assertEqual(self.upload(http, step).contact, self.zoe)

    def test_a_link_for_the_other_contact_in_the_same_browser_acts_as_that_contact(self) -> None:
        first = self.request_step("contact:main")
        second = self.request_step("contact:billing")
        http = HttpClient()
        self.arrive(http, self.emailed_link(f"step:{first.pk}:open"))
        self.assertContains(http.get("/portal/"), "Hello Ann")
        # Signed in as Ann, she opens the email sent to Zoe: it asks, then she is Zoe.
        landing = self.arrive(http, self.emailed_link(f"step:{second.pk}:open"))
        self.assertEqual(landing.status_code, 200)
        self.assertContains(landing, "Hello Zoe")
        self.assertContains(http.get("/portal/"), "Hello Zoe")
        with mock.patch(DELIVER):
            self.assertEqual(self.upload(http, second).contact, self.zoe)

    def test_approvals_and_confirmations_are_credited_to_one_person(self) -> None:
        task = f.TaskFactory(client=self.acme, owner=self.staff, status="in_progress")
        with mock.patch(RUN):
            prepare, approval, confirm = attach.attach_template(
                task, approval_chain_template(self.practice, self.manager), actor=self.manager
            )
        with mock.patch(RUN), mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            wf_engine.complete_step(prepare, actor=self.staff)
            portal_engine.send_for_approval(
                approval,
                actor=self.staff,
                document=staff_document(approval, self.staff),
                title="Draft accounts",
            )
        http = HttpClient()
        self.arrive(http, self.emailed_link(f"step:{approval.pk}:approval:1"))
        version = ApprovalVersion.objects.get(approval__step=approval)
        with mock.patch(RUN), mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            http.post(
                f"/portal/items/{approval.pk}/respond/",
                {"version": version.pk, "decision": "approve"},
            )
        version.refresh_from_db()
        self.assertEqual(version.responded_by, self.ann)
        with mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            wf_engine.run_step(confirm.pk)
        path = self.emailed_link(f"step:{confirm.pk}:open")
        with mock.patch(RUN), mock.patch(DELIVER):
            HttpClient().post(path)
        self.assertEqual(Confirmation.objects.get(step=confirm).confirmed_by, self.ann)
