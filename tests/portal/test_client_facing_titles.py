"""Clients never read the team's step names: emails and portal pages use the client-facing
title (the request's, the document's, else the task's name)."""

from __future__ import annotations

import datetime as dt
import importlib
import re
from unittest import mock

from django.apps import apps as django_apps
from django.test import Client as HttpClient
from django.utils import timezone

from portal import engine as portal_engine
from portal.models import Submission
from sodium import timers
from sodium.models import OutboundMessage
from tests import factories as f
from tests.base import BaseTestCase
from tests.portal.helpers import delivered, make_step, sign_in, template_for
from tests.portal.portal_factories import staff_document
from workflows import attach, building
from workflows import engine as wf_engine
from workflows.models import ContentBlock, Step

RUN = "workflows.tasks.run_step_task.delay"
DELIVER = "sodium.tasks.deliver_message_task.delay"
LINK = re.compile(r"http://127\.0\.0\.1:8000(/portal/(?:link|confirm)/[^/\s]+/)")
STEP_NAMES = ("Collect bank statements", "Send draft accounts for approval", "Confirm we may file")


class ClientFacingTitleTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        self.ann = f.ContactFactory(
            client=self.acme, first_name="Ann", email="ann@acme.example", is_main=True
        )
        self.task = f.TaskFactory(
            client=self.acme, owner=self.staff, status="in_progress", name="Accounts 2026"
        )
        template = building.create_template(
            practice=self.practice, actor=self.manager, name="Sign-off"
        )
        group = template.groups.get()
        add = dict(actor=self.manager, to_recipients=["contact:main"])
        building.add_step(
            group,
            name=STEP_NAMES[0],
            type="document_request",
            mode="automatic",
            settings={"title": "Bank statements for the year"},
            **add,
        )
        building.add_step(group, name=STEP_NAMES[1], type="document_approval", mode="manual", **add)
        building.add_step(
            group,
            name=STEP_NAMES[2],
            type="client_confirmation",
            mode="automatic",
            settings={
                "message": "Please confirm you are happy for us to file.",
                "button_text": "Yes, file them",
                "thank_you": "Thank you.",
                "chase": {"enabled": True, "every_days": 1, "max_times": 1},
            },
            **add,
        )
        with mock.patch(RUN):
            self.request, self.approval, self.confirm = attach.attach_template(
                self.task, template, actor=self.manager
            )

    def run_everything(self) -> None:
        """Every client-facing email: request, returned submission, approval, confirmation
        and its chase."""
        with mock.patch(RUN), mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            wf_engine.run_step(self.request.pk)
            self.request.refresh_from_db()
            submission = Submission.objects.create(
                practice=self.practice,
                request=self.request.document_request,
                contact=self.ann,
            )
            portal_engine.reject_submission(
                submission, actor=self.staff, reason="March is missing."
            )
            portal_engine.send_for_approval(
                self.approval,
                actor=self.staff,
                document=staff_document(self.approval, self.staff),
                title="Draft accounts 2026",
            )
            wf_engine.run_step(self.confirm.pk)
        later = timezone.now() + dt.timedelta(days=1, minutes=1)
        with mock.patch(DELIVER), mock.patch("django.utils.timezone.now", return_value=later):
            timers.sweep(later)

    def sent(self) -> list[tuple[str, str]]:
        """Subject and body of every email, as sent."""
        return [(m.subject, delivered(m).body) for m in OutboundMessage.objects.order_by("pk")]

    def test_emails_name_the_request_the_document_and_the_task_never_the_step(self) -> None:
        self.run_everything()
        emails = self.sent()
        self.assertEqual(
            [subject for subject, _ in emails],
            [
                "Documents needed: Bank statements for the year",
                "Please look again: Bank statements for the year",
                "Please approve: Draft accounts 2026",
                "Please confirm: Accounts 2026",
                "Reminder: please confirm Accounts 2026",
            ],
        )
        for subject, body in emails:
            for name in STEP_NAMES:
                self.assertNotIn(name, subject)
                self.assertNotIn(name, body)

    def test_landing_pages_and_portal_pages_show_the_titles(self) -> None:
        self.run_everything()
        pages = []
        for message in OutboundMessage.objects.all():
            path = LINK.search(delivered(message).body)[1]
            page = HttpClient().get(path)
            self.assertEqual(page.status_code, 200)
            pages.append(page.content.decode())
        landing = "\n".join(pages)
        self.assertIn("to see <strong>Bank statements for the year</strong>", landing)
        self.assertIn("to see <strong>Draft accounts 2026</strong>", landing)
        self.assertIn("<h1>Accounts 2026</h1>", landing)  # the confirmation page
        http = HttpClient()
        sign_in(http, self.ann)
        pages += [http.get("/portal/").content.decode()]
        pages += [http.get(f"/portal/items/{s.pk}/").content.decode() for s in self.steps()]
        for page in pages:
            for name in STEP_NAMES:
                self.assertNotIn(name, page)

    def steps(self) -> list[Step]:
        return [self.request, self.approval, self.confirm]

    def test_a_confirmation_with_a_title_of_its_own_uses_it(self) -> None:
        Step.objects.filter(pk=self.confirm.pk).update(
            settings={**self.confirm.settings, "title": "Filing at Companies House"}
        )
        with mock.patch(RUN), mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            wf_engine.run_step(self.confirm.pk)
        message = OutboundMessage.objects.get()
        self.assertEqual(message.subject, "Please confirm: Filing at Companies House")
        page = HttpClient().get(LINK.search(delivered(message).body)[1])
        self.assertContains(page, "<h1>Filing at Companies House</h1>")


class HomeTellsItemsApartTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.template = template_for(self.practice, self.owner)
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        self.ann = f.ContactFactory(client=self.acme, first_name="Ann", email="ann@acme.example")

    def request_in(self, task_name: str, due: dt.date) -> Step:
        step = make_step(
            self.acme,
            self.template,
            self.owner,
            name="Collect bank statements",
            type="document_request",
            status=Step.Status.IN_PROGRESS,
            settings={"title": "Bank statements"},
        )
        type(step.task).objects.filter(pk=step.task_id).update(name=task_name, due_date=due)
        return step

    def items(self) -> list[str]:
        sign_in(self.client, self.ann)
        page = self.client.get("/portal/").content.decode()
        return [
            " ".join(re.sub(r"<[^>]+>", " ", li).split())
            for li in re.findall(r'<li class="row portal-item".*?</li>', page, re.S)
        ]

    def test_items_of_different_tasks_with_the_same_title_show_their_task(self) -> None:
        self.request_in("VAT return – quarter to Mar 2027", dt.date(2027, 5, 7))
        self.request_in("Year-end accounts 2026", dt.date(2027, 3, 31))
        items = self.items()
        self.assertEqual(len(items), 2)
        self.assertTrue(all(i.startswith("Bank statements Documents to send · ") for i in items))
        self.assertIn("· VAT return – quarter to Mar 2027", items[0] + items[1])
        self.assertIn("· Year-end accounts 2026", items[0] + items[1])
        self.assertNotIn("due", items[0] + items[1])  # the task names tell them apart

    def test_tasks_with_the_same_name_are_told_apart_by_their_dates(self) -> None:
        self.request_in("VAT return", dt.date(2027, 2, 7))
        self.request_in("VAT return", dt.date(2027, 5, 7))
        text = " | ".join(self.items())
        self.assertIn("Documents to send · VAT return due 7 Feb 2027", text)
        self.assertIn("Documents to send · VAT return due 7 May 2027", text)


class BuiltInSubjectsMigrationTests(BaseTestCase):
    def test_unedited_copies_move_to_the_title_and_edited_ones_stay(self) -> None:
        migration = importlib.import_module("portal.migrations.0005_client_facing_subjects")
        unedited = ContentBlock.objects.create(
            practice=self.practice,
            name="Portal: documents requested",
            system_key="portal.request_opened",
            subject="Documents needed: {{ step.name }}",
            body="b",
        )
        edited = ContentBlock.objects.create(
            practice=self.practice,
            name="Portal: confirmation request",
            system_key="portal.confirmation",
            subject="Sign off {{ step.name }} please",
            body="b",
        )
        migration.use_titles(django_apps, None)
        unedited.refresh_from_db()
        edited.refresh_from_db()
        self.assertEqual(unedited.subject, "Documents needed: {{ step.title }}")
        self.assertEqual(edited.subject, "Sign off {{ step.name }} please")
