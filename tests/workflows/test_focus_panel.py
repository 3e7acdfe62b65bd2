"""The focus panel: a task's steps in a slide-out panel, and every action taken from it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled

from portal import engine as portal_engine
from portal import files
from portal.models import ApprovalVersion, DocumentRequest, Submission
from sodium.models import ActivityEvent, Client, Contact, OutboundMessage, Task, User
from tests import factories as f
from tests.base import BaseTestCase
from workflows import attach, building
from workflows import engine as wf_engine
from workflows.handlers import Draft
from workflows.models import ChecklistItem, Step

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HTMX = {"HX-Request": "true"}
# The panel's client-facing actions belong to the portal (registered with workflows.panels).
PORTAL_ACTIONS = {"step-review", "step-approval"}


def action_url(name: str, step: Step) -> str:
    namespace = "portal_staff" if name in PORTAL_ACTIONS else "workflows"
    return reverse(f"{namespace}:{name}", args=[step.pk])


def pdf(name: str = "draft-accounts.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@dataclass
class World:
    client: Client
    ann: Contact
    task: Task
    steps: dict[str, Step]


STEPS = [
    (
        "prepare",
        dict(name="Prepare draft accounts", type="simple", mode="manual"),
        ["Bank rec", "Accruals"],
    ),
    (
        "letter",
        dict(
            name="Send engagement letter",
            type="email",
            mode="manual",
            subject="Engagement letter for {{ client.name }}",
            body="Dear {{ contacts.main.first_name }},\n\nPlease find our letter.",
            to_recipients=["contact:main"],
        ),
        [],
    ),
    (
        "request",
        dict(
            name="Request bank statements",
            type="document_request",
            mode="manual",
            to_recipients=["contact:main"],
            settings={"title": "Bank statements 2025", "deadline_days": 7},
        ),
        [],
    ),
    (
        "approval",
        dict(
            name="Approve draft accounts",
            type="document_approval",
            mode="manual",
            to_recipients=["contact:main"],
        ),
        [],
    ),
    (
        "confirm",
        dict(
            name="Confirm filing",
            type="client_confirmation",
            mode="manual",
            to_recipients=["contact:main"],
            settings={
                "message": "Please confirm we may file the accounts.",
                "button_text": "Yes, file them",
                "thank_you": "Thank you.",
            },
        ),
        [],
    ),
]


def build_world(practice, actor: User, *, extra_steps: int = 0, submitted: bool = True) -> World:
    """A task whose workflow has one step of every kind, in two groups.

    Group "Preparation": a simple step with a checklist (ready), a manual email (ready), a
    document request sent to the client and answered (in progress, submitted), a document
    approval (ready), a manual client confirmation (ready) and a simple step that depends on
    the first one (blocked). Group "Filing": a failed step and `extra_steps` simple steps.
    """
    with scopes_disabled():
        client = f.ClientFactory(practice=practice, name="Acme Trading Ltd")
        ann = f.ContactFactory(
            client=client, first_name="Ann", last_name="Baker", email="ann@acme.example"
        )
        template = building.create_template(
            practice=practice, actor=actor, name="Year end", first_group="Preparation"
        )
        group = template.groups.get()
        made = {}
        for key, fields, checklist in STEPS:
            made[key] = building.add_step(group, actor=actor, checklist=checklist, **fields)
        building.add_step(
            group,
            actor=actor,
            depends_on=[made["prepare"]],
            name="Review draft accounts",
            type="simple",
            mode="manual",
        )
        filing = building.add_group(template, actor=actor, name="Filing")
        building.add_step(filing, actor=actor, name="Email the filing receipt", **_auto_email())
        for i in range(extra_steps):
            building.add_step(
                filing,
                actor=actor,
                name=f"Extra check {i}",
                type="simple",
                mode="manual",
                checklist=["One", "Two"] if i % 2 else [],
            )
        task = f.TaskFactory(client=client, owner=actor, name="Year-end accounts 2025")
        steps = {s.name: s for s in attach.attach_template(task, template, actor=actor)}
        by_key = {key: steps[fields["name"]] for key, fields, _c in STEPS}
        by_key["review"] = steps["Review draft accounts"]
        by_key["receipt"] = steps["Email the filing receipt"]
        Step.objects.filter(pk=by_key["receipt"].pk).update(
            status="failed", failure_reason="Nobody to send to: add the contact's email."
        )
        if submitted:
            request_step = by_key["request"]
            wf_engine.send_step_message(
                request_step,
                Draft(to=[ann.email], subject="Your bank statements", body="Please upload them."),
                actor=actor,
            )
            portal_engine.submit(
                DocumentRequest.objects.get(step=request_step),
                contact=ann,
                uploads=[pdf("statements.pdf")],
                message="Here they are.",
            )
        for step in by_key.values():
            step.refresh_from_db()
    return World(client, ann, task, by_key)


def _auto_email() -> dict:
    return dict(
        type="email",
        mode="automatic",
        subject="Filed",
        body="Your accounts are filed.",
        to_recipients=["contact:main"],
    )


def focus_url(task: Task) -> str:
    return reverse("workflows:focus", kwargs={"task_id": task.pk})


def refreshed(step: Step) -> Step:
    return Step.objects.get(pk=step.pk)


class FocusPanelViewTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.world = build_world(cls.practice, cls.staff)

    def test_it_returns_only_the_panel_for_htmx(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(focus_url(self.world.task), headers=HTMX)
        self.assertEqual(r.status_code, 200)
        self.assertNotContains(r, "<html")
        self.assertContains(r, 'id="focus-panel"')
        self.assertContains(r, "focus-host is-open")
        self.assertContains(r, "Year-end accounts 2025")
        self.assertContains(r, "Acme Trading Ltd")
        self.assertIn("HX-Request", r["Vary"])
        # Opening the panel changes nothing, so it asks nobody to refresh.
        self.assertNotIn("HX-Trigger", r.headers)
        self.assertNotContains(r, "hx-swap-oob")

    def test_it_shows_steps_by_group_with_status_and_sub_status(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(focus_url(self.world.task), headers=HTMX)
        html = r.content.decode()
        self.assertLess(html.index(">Preparation<"), html.index(">Filing<"))
        for name in ("Prepare draft accounts", "Review draft accounts", "Email the filing receipt"):
            self.assertContains(r, name)
        request = self.world.steps["request"]
        self.assertContains(r, f'id="focus-step-{request.pk}"')
        self.assertContains(r, '<span class="chip chip-step-in_progress">In progress</span>')
        self.assertContains(r, '<span class="chip chip-sub">Submitted</span>')
        self.assertContains(r, '<span class="chip chip-step-blocked">Blocked</span>')
        self.assertContains(r, "Nobody to send to: add the contact&#x27;s email.")
        # Every step can take the keyboard focus, for ↑/↓ and j/k.
        self.assertEqual(html.count('class="focus-step '), 7)
        self.assertEqual(html.count('tabindex="0"'), 7)

    def test_it_shows_progress_with_counts(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(focus_url(self.world.task), headers=HTMX)
        self.assertContains(r, "0 of 7 done")
        # ready: prepare, letter, approval, confirm; the request is with staff (submitted)
        self.assertContains(r, "5 to do")
        self.assertContains(r, "1 blocked")
        self.assertContains(r, "1 failed")

    def test_it_offers_only_the_actions_each_step_allows(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(focus_url(self.world.task), headers=HTMX)
        s = self.world.steps
        self.assertContains(r, reverse("workflows:step-complete", args=[s["prepare"].pk]))
        self.assertNotContains(r, reverse("workflows:step-complete", args=[s["review"].pk]))
        self.assertContains(r, reverse("workflows:compose", args=[s["letter"].pk]))
        self.assertContains(r, reverse("workflows:compose", args=[s["confirm"].pk]))
        self.assertNotContains(r, reverse("workflows:compose", args=[s["request"].pk]))
        self.assertContains(r, reverse("portal_staff:step-approval", args=[s["approval"].pk]))
        self.assertContains(r, reverse("workflows:step-retry", args=[s["receipt"].pk]))
        self.assertNotContains(r, reverse("workflows:step-retry", args=[s["prepare"].pk]))
        self.assertContains(r, reverse("portal_staff:step-review", args=[s["request"].pk]))
        self.assertContains(r, "statements.pdf")
        self.assertContains(r, "Here they are.")
        self.assertContains(r, "Bank rec")

    def test_it_serves_a_page_of_its_own_without_htmx(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(focus_url(self.world.task))
        self.assertContains(r, "<html")
        self.assertContains(r, "focus-host focus-host-page")
        self.assertContains(r, "hx-disable")
        self.assertContains(r, "Prepare draft accounts")

    def test_ar_specialists_see_the_steps_but_no_actions(self) -> None:
        self.client.force_login(self.ar_specialist)
        r = self.client.get(focus_url(self.world.task), headers=HTMX)
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Prepare draft accounts")
        self.assertNotContains(r, "Mark done")
        self.assertNotContains(
            r, reverse("workflows:compose", args=[self.world.steps["letter"].pk])
        )

    def test_it_hides_other_practices_tasks(self) -> None:
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(focus_url(self.world.task), headers=HTMX).status_code, 404)

    def test_it_says_when_a_task_has_no_workflow(self) -> None:
        task = f.TaskFactory(client=self.world.client)
        self.client.force_login(self.staff)
        r = self.client.get(focus_url(task), headers=HTMX)
        self.assertContains(r, "No workflow yet")


class FocusPanelQueryCountTests(BaseTestCase):
    def _panel(self, task: Task) -> CaptureQueriesContext:
        with CaptureQueriesContext(connection) as ctx:
            r = self.client.get(focus_url(task), headers=HTMX)
        self.assertEqual(r.status_code, 200)
        return ctx

    def test_it_runs_the_same_queries_for_3_and_30_extra_steps(self) -> None:
        self.client.force_login(self.staff)
        small = self._panel(build_world(self.practice, self.staff, extra_steps=3).task)
        big = build_world(self.practice, self.staff, extra_steps=30).task
        with self.assertNumQueries(len(small)):
            r = self.client.get(focus_url(big), headers=HTMX)
        self.assertContains(r, "Extra check 29")

    def test_an_action_runs_the_same_queries_for_3_and_30_extra_steps(self) -> None:
        self.client.force_login(self.staff)
        counts = []
        for extra in (3, 30):
            world = build_world(self.practice, self.staff, extra_steps=extra)
            url = reverse("workflows:step-complete", args=[world.steps["prepare"].pk])
            with CaptureQueriesContext(connection) as ctx:
                r = self.client.post(url, {"confirm": "1"}, headers=HTMX)
            self.assertEqual(r.status_code, 200)
            counts.append(len(ctx))
        self.assertEqual(counts[0], counts[1])


class FocusPanelActionTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.world = build_world(self.practice, self.staff)
        self.s = self.world.steps
        self.client.force_login(self.staff)

    def _post(self, name: str, step: Step, data: dict | None = None, **kwargs):
        return self.client.post(action_url(name, step), data or {}, headers=HTMX, **kwargs)

    def assert_panel_with_progress(self, r, *, finished: int, total: int = 7) -> None:
        self.assertEqual(r.status_code, 200)
        self.assertNotContains(r, "<html")
        self.assertContains(r, 'id="focus-panel"')
        self.assertEqual(
            json.loads(r["HX-Trigger"]), {"task-progress": {"task": self.world.task.pk}}
        )
        # The task row's progress, swapped out of band next to the panel.
        html = r.content.decode()
        oob = html[
            html.index(f'<div class="task-progress" id="task-{self.world.task.pk}-progress"') :
        ]
        self.assertIn('hx-swap-oob="true"', oob[:200])
        self.assertIn(f"<strong>{finished}/{total}</strong> done", oob)

    def test_marking_a_simple_step_done_re_renders_the_panel_and_the_row_progress(self) -> None:
        # Its checklist is not ticked: the person confirmed (the button's hx-confirm).
        r = self._post("step-complete", self.s["prepare"], {"confirm": "1"})
        self.assert_panel_with_progress(r, finished=1)
        self.assertContains(r, "Marked “Prepare draft accounts” done.")
        self.assertEqual(refreshed(self.s["prepare"]).status, "done")
        # Its dependent unblocked.
        self.assertEqual(refreshed(self.s["review"]).status, "ready")

    def test_without_htmx_an_action_redirects_back_to_next(self) -> None:
        r = self.client.post(
            reverse("workflows:step-complete", args=[self.s["prepare"].pk]),
            {"next": focus_url(self.world.task), "confirm": "1"},
        )
        self.assertRedirects(r, focus_url(self.world.task))
        r = self.client.post(
            reverse("workflows:step-skip", args=[self.s["letter"].pk]),
            {"next": "https://evil.example/"},
        )
        self.assertRedirects(r, reverse("sodium:task-detail", args=[self.world.task.pk]))

    def test_a_refused_action_shows_why_and_changes_nothing(self) -> None:
        r = self._post("step-complete", self.s["review"])  # still blocked
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, 'class="flash flash-error focus-flash" role="alert"')
        self.assertEqual(refreshed(self.s["review"]).status, "blocked")
        # Nothing changed, so nothing else on the page needs refreshing.
        self.assertNotIn("HX-Trigger", r.headers)
        self.assertNotContains(r, "hx-swap-oob")

    def test_skip_retry_and_restore(self) -> None:
        self.assert_panel_with_progress(self._post("step-skip", self.s["letter"]), finished=1)
        self.assertEqual(refreshed(self.s["letter"]).status, "skipped")
        self.assert_panel_with_progress(self._post("step-restore", self.s["letter"]), finished=0)
        self.assertEqual(refreshed(self.s["letter"]).status, "ready")
        with self.captureOnCommitCallbacks() as callbacks:
            r = self._post("step-retry", self.s["receipt"])
        self.assert_panel_with_progress(r, finished=0)
        self.assertEqual(refreshed(self.s["receipt"]).status, "ready")
        self.assertEqual(callbacks, [])  # the task has not started: nothing runs yet

    def test_ticking_a_checklist_item_returns_the_step_fragment(self) -> None:
        item = ChecklistItem.objects.get(step=self.s["prepare"], text="Bank rec")
        r = self._post("step-checklist", self.s["prepare"], {"item": item.pk, "done": "1"})
        self.assertEqual(r.status_code, 200)
        html = r.content.decode()
        self.assertTrue(
            html.strip().startswith(
                f'<li class="focus-step step-ready" id="focus-step-{self.s["prepare"].pk}"'
            )
        )
        self.assertNotIn('id="focus-panel"', html)
        self.assertIn('aria-checked="true"', html)
        self.assertIn("checklist 1/2", html)
        item.refresh_from_db()
        self.assertTrue(item.done)
        self.assertEqual(item.done_by, self.staff)
        self._post("step-checklist", self.s["prepare"], {"item": item.pk, "done": "0"})
        item.refresh_from_db()
        self.assertFalse(item.done)

    def test_a_checklist_item_of_another_step_is_not_found(self) -> None:
        item = ChecklistItem.objects.get(step=self.s["prepare"], text="Bank rec")
        r = self._post("step-checklist", self.s["letter"], {"item": item.pk, "done": "1"})
        self.assertEqual(r.status_code, 404)
        r = self._post("step-checklist", self.s["prepare"], {"item": "x", "done": "1"})
        self.assertEqual(r.status_code, 404)

    def test_accepting_a_submission_finishes_the_request(self) -> None:
        submission = Submission.objects.get(request__step=self.s["request"])
        r = self._post(
            "step-review", self.s["request"], {"submission": submission.pk, "decision": "accept"}
        )
        self.assert_panel_with_progress(r, finished=1)
        self.assertContains(r, "Accepted the documents for “Request bank statements”.")
        step = refreshed(self.s["request"])
        self.assertEqual((step.status, step.sub_status), ("done", "accepted"))
        submission.refresh_from_db()
        self.assertEqual((submission.status, submission.reviewed_by), ("accepted", self.staff))

    def test_returning_a_submission_needs_a_reason_and_emails_the_client(self) -> None:
        submission = Submission.objects.get(request__step=self.s["request"])
        data = {"submission": submission.pk, "decision": "reject", "reason": "  "}
        r = self._post("step-review", self.s["request"], data)
        self.assertContains(r, "Say what is missing")
        submission.refresh_from_db()
        self.assertEqual(submission.status, "pending")

        data["reason"] = "December is missing."
        r = self._post("step-review", self.s["request"], data)
        self.assert_panel_with_progress(r, finished=0)
        submission.refresh_from_db()
        self.assertEqual(submission.status, "rejected")
        step = refreshed(self.s["request"])
        self.assertEqual((step.status, step.sub_status), ("in_progress", "rejected"))
        email = OutboundMessage.objects.get(idempotency_key=f"submission:{submission.pk}:rejected")
        self.assertIn("December is missing.", email.body_text)

    def test_a_submission_of_another_step_is_not_found(self) -> None:
        submission = Submission.objects.get(request__step=self.s["request"])
        r = self._post(
            "step-review", self.s["letter"], {"submission": submission.pk, "decision": "accept"}
        )
        self.assertEqual(r.status_code, 404)
        submission.refresh_from_db()
        self.assertEqual(submission.status, "pending")

    def test_sending_an_uploaded_document_for_approval(self) -> None:
        r = self._post(
            "step-approval",
            self.s["approval"],
            {"file": pdf(), "title": "Draft accounts 2025", "category": "Accounts"},
        )
        self.assert_panel_with_progress(r, finished=0)
        self.assertContains(r, "Sent “Draft accounts 2025” (version 1) to the client for approval.")
        step = refreshed(self.s["approval"])
        self.assertEqual((step.status, step.sub_status), ("in_progress", "awaiting_response"))
        version = ApprovalVersion.objects.get(approval__step=step)
        self.assertEqual(version.document.original_name, "draft-accounts.pdf")
        self.assertEqual(version.document.uploaded_by_user, self.staff)
        email = OutboundMessage.objects.get(idempotency_key=f"step:{step.pk}:approval:1")
        self.assertIn("/portal/link/", email.body_text)
        self.assertEqual(email.to, ["ann@acme.example"])
        # The panel now shows the version sent and that the client has not answered yet.
        self.assertContains(r, "Version 1:")
        self.assertContains(r, ">draft-accounts.pdf</a>")
        self.assertContains(r, "Waiting for the client")
        self.assertNotContains(r, reverse("portal_staff:step-approval", args=[step.pk]))

    def test_after_the_client_asks_for_changes_a_new_version_can_be_sent(self) -> None:
        self._post("step-approval", self.s["approval"], {"file": pdf(), "title": "Draft"})
        version = ApprovalVersion.objects.get(approval__step=self.s["approval"])
        portal_engine.respond_to_approval(
            version, contact=self.world.ann, approve=False, comment="The year end is wrong."
        )
        r = self.client.get(focus_url(self.world.task), headers=HTMX)
        self.assertContains(r, "Send a new version…")
        self.assertContains(r, "The year end is wrong.")
        self.assertContains(r, 'value="Draft"')  # the title is kept for the next version
        r = self._post(
            "step-approval", self.s["approval"], {"file": pdf("v2.pdf"), "title": "Draft"}
        )
        self.assertContains(r, "(version 2)")
        self.assertEqual(refreshed(self.s["approval"]).sub_status, "awaiting_response")

    def test_the_approval_form_starts_from_the_suggested_then_the_last_category(self) -> None:
        step = self.s["approval"]
        category = f'id="approval-category-{step.pk}"'
        for suggested in ("Tax", "Audit pack"):  # one of the list, and one of the practice's
            with self.subTest(suggested=suggested):
                Step.objects.filter(pk=step.pk).update(settings={"category": suggested})
                r = self.client.get(focus_url(self.world.task), headers=HTMX)
                self.assertContains(r, category)
                self.assertContains(r, f'<option value="{suggested}" selected>', html=False)
        self._post("step-approval", step, {"file": pdf(), "title": "Draft", "category": "Payroll"})
        version = ApprovalVersion.objects.get(approval__step=step)
        portal_engine.respond_to_approval(
            version, contact=self.world.ann, approve=False, comment="Wrong year."
        )
        r = self.client.get(focus_url(self.world.task), headers=HTMX)
        self.assertContains(r, '<option value="Payroll" selected>', html=False)
        self.assertNotContains(r, '<option value="Audit pack" selected>', html=False)

    def test_sending_one_of_the_clients_files_for_approval(self) -> None:
        document = files.store(
            pdf("signed.pdf"),
            practice_id=self.practice.pk,
            client_id=self.world.client.pk,
            task=self.s["approval"].task,
        )
        r = self._post(
            "step-approval", self.s["approval"], {"document": document.pk, "title": "Signed"}
        )
        self.assert_panel_with_progress(r, finished=0)
        version = ApprovalVersion.objects.get(approval__step=self.s["approval"])
        # A copy is sent: the picked file stays as it was.
        self.assertNotEqual(version.document, document)
        self.assertEqual(version.document.sha256, document.sha256)

    def test_picking_another_practices_file_answers_404(self) -> None:
        other = files.store(
            pdf("rival.pdf"), practice_id=self.other_practice.pk, client_id=self.other_client.pk
        )
        r = self._post("step-approval", self.s["approval"], {"document": other.pk, "title": "D"})
        self.assertEqual(r.status_code, 404)
        self.assertFalse(ApprovalVersion.objects.exists())

    def test_a_refused_approval_keeps_the_form_open_with_the_reason(self) -> None:
        before = ActivityEvent.objects.count()
        for data, reason in (
            ({"title": "Draft"}, "Upload a file, or pick one the client already has."),
            ({"file": pdf(), "title": ""}, "Give the document a title."),
            (
                {"file": SimpleUploadedFile("x.exe", b"MZ\x90\x00binary"), "title": "Draft"},
                "",
            ),
        ):
            with self.subTest(reason=reason):
                r = self._post("step-approval", self.s["approval"], data)
                self.assertEqual(r.status_code, 200)
                self.assertContains(r, '<details class="focus-approval" open>')
                self.assertContains(r, reason)
                self.assertNotIn("HX-Trigger", r.headers)
        self.assertFalse(ApprovalVersion.objects.exists())
        self.assertEqual(refreshed(self.s["approval"]).status, "ready")
        self.assertEqual(ActivityEvent.objects.count(), before)

    def test_approval_only_for_approval_steps(self) -> None:
        r = self._post("step-approval", self.s["letter"], {"file": pdf(), "title": "Draft"})
        self.assertEqual(r.status_code, 404)


class FocusPanelPermissionTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.world = build_world(cls.practice, cls.staff)

    def test_ar_specialists_cannot_act(self) -> None:
        s = self.world.steps
        item = ChecklistItem.objects.get(step=s["prepare"], text="Bank rec")
        submission = Submission.objects.get(request__step=s["request"])
        self.client.force_login(self.ar_specialist)
        before = ActivityEvent.objects.count()
        for name, step, data in (
            ("step-complete", s["prepare"], {}),
            ("step-skip", s["letter"], {}),
            ("step-retry", s["receipt"], {}),
            ("step-checklist", s["prepare"], {"item": item.pk, "done": "1"}),
            ("step-review", s["request"], {"submission": submission.pk, "decision": "accept"}),
            ("step-approval", s["approval"], {"file": pdf(), "title": "Draft"}),
        ):
            with self.subTest(name=name):
                r = self.client.post(action_url(name, step), data, headers=HTMX)
                self.assertEqual(r.status_code, 403)
        self.assertEqual(ActivityEvent.objects.count(), before)
        self.assertEqual(refreshed(s["prepare"]).status, "ready")

    def test_staff_can_act(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.post(
            reverse("workflows:step-complete", args=[self.world.steps["prepare"].pk]),
            {"confirm": "1"},
            headers=HTMX,
        )
        self.assertEqual(r.status_code, 200)
        self.assertEqual(refreshed(self.world.steps["prepare"]).status, "done")


class TaskListProgressTests(BaseTestCase):
    LIST_URL = "/tasks/"

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.world = build_world(cls.practice, cls.staff)

    def test_each_row_shows_its_progress_and_opens_the_focus_panel(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(self.LIST_URL)
        task = self.world.task
        self.assertContains(r, '<th scope="col" class="col-extra">Workflow</th>')
        self.assertContains(r, f'id="task-{task.pk}-progress"')
        self.assertContains(r, "<strong>0/7</strong> done")
        self.assertContains(r, "5 to do")
        self.assertContains(r, "1 blocked")
        self.assertContains(r, "1 failed")
        self.assertContains(r, f'hx-get="{focus_url(task)}" hx-target="#focus-panel"')
        self.assertContains(r, '<div id="focus-panel" class="focus-host"></div>')

    def test_it_counts_steps_waiting_for_the_client(self) -> None:
        Step.objects.filter(pk=self.world.steps["request"].pk).update(
            sub_status="awaiting_response"
        )
        self.client.force_login(self.staff)
        r = self.client.get(self.LIST_URL)
        self.assertContains(r, "1 waiting on client")
        self.assertContains(r, "4 to do")

    def test_a_task_without_workflow_says_so(self) -> None:
        f.TaskFactory(client=self.world.client, name="Bare task")
        self.client.force_login(self.staff)
        self.assertContains(self.client.get(self.LIST_URL), "No workflow")

    def test_the_whole_page_costs_one_query_for_progress_whatever_the_rows(self) -> None:
        self.client.force_login(self.staff)
        with CaptureQueriesContext(connection) as small:
            self.client.get(self.LIST_URL)
        for _ in range(10):
            build_world(self.practice, self.staff, submitted=False)
        with self.assertNumQueries(len(small)):
            r = self.client.get(self.LIST_URL)
        self.assertEqual(len(r.context["page"].object_list), 11)
        step_queries = [q for q in small.captured_queries if "workflows_step" in q["sql"]]
        self.assertEqual(len(step_queries), 1)


class TaskPageTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.world = build_world(cls.practice, cls.staff, submitted=False)

    def test_the_task_page_has_the_panel_container_and_trigger(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(reverse("sodium:task-detail", args=[self.world.task.pk]))
        self.assertContains(r, '<div id="focus-panel" class="focus-host"></div>')
        self.assertContains(r, f'hx-get="{focus_url(self.world.task)}" hx-target="#focus-panel"')
        # Kept from the portal work: the approval page link and chase counts.
        self.assertContains(
            r, reverse("portal_staff:approval-send", args=[self.world.steps["approval"].pk])
        )
        # The card's body refreshes itself after panel actions.
        self.assertContains(r, 'hx-trigger="task-progress from:body"')

    def test_the_workflow_card_body_for_htmx(self) -> None:
        self.client.force_login(self.staff)
        url = reverse("workflows:task-workflow", args=[self.world.task.pk])
        r = self.client.get(url, headers=HTMX)
        self.assertContains(r, f'id="task-{self.world.task.pk}-workflow-body"')
        self.assertNotContains(r, "<html")
        self.assertNotContains(r, 'id="focus-panel"')
        r = self.client.get(url)
        self.assertRedirects(r, reverse("sodium:task-detail", args=[self.world.task.pk]))
