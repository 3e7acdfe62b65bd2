"""The run page, its actions, its files, the focus panel and the work list (through views)."""

from __future__ import annotations

import datetime as dt

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checks.flows import engine, making
from checks.flows.making import ClientTeam, FlowSpec
from checks.models import (
    CustomCheck,
    Finding,
    Flow,
    FlowRun,
    FlowRunCheck,
    FlowRunNote,
    FlowRunSnapshot,
)
from sodium.models import ActivityEvent
from tests import factories as f
from tests.base import BaseTestCase

R = FlowRun.Status
C = FlowRunCheck.Status
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class RunViewTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        self.custom = CustomCheck.objects.create(
            practice=self.practice,
            name="Fixed assets",
            description="Compare with the register at https://example.com/register",
        )
        self.run = self.make_run(
            ("builtin:bank_reconciliation", f"custom:{self.custom.pk}"), reviewer=self.manager
        )

    def make_run(self, checks, client=None, reviewer=None, name="October review") -> FlowRun:
        client = client or self.acme
        flow = making.create_flow(
            self.practice,
            FlowSpec(
                kind=Flow.Kind.ONE_OFF,
                name=name,
                checks=tuple(checks),
                clients=(ClientTeam(client.pk, self.staff.pk, reviewer.pk if reviewer else None),),
                period_start=dt.date(2026, 10, 1),
                period_end=dt.date(2026, 10, 31),
                due_date=dt.date(2026, 11, 15),
            ),
            actor=self.manager,
            today=dt.date(2026, 11, 2),
        )
        return FlowRun.objects.get(flow=flow)

    def url(self, action: str = "", run: FlowRun | None = None) -> str:
        return f"/checks/flows/runs/{(run or self.run).pk}/{action}"

    def post(self, user, action: str, data=None, **kw):
        self.client.force_login(user)
        return self.client.post(self.url(action), data or {}, **kw)

    def started(self) -> FlowRun:
        engine.start_run(self.run, actor=self.staff, today=dt.date(2026, 11, 2))
        self.run.refresh_from_db()
        return self.run

    def checks(self) -> list[FlowRunCheck]:
        return list(self.run.run_checks.order_by("position", "id"))

    def finding(self, n: int, key: str = "bank_reconciliation") -> Finding:
        return Finding.objects.create(
            practice=self.practice,
            client=self.acme,
            check_key=key,
            fingerprint=f"f-{key}-{n}",
            severity="amber",
            title=f"Unreconciled line {n}",
        )

    def flashes(self, response) -> list[str]:
        return [str(m) for m in response.context["messages"]] if response.context else []


class RunPageTests(RunViewTestCase):
    def test_it_shows_the_header_checks_and_the_start_button_to_the_assignee(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(self.url())
        self.assertContains(r, "<h1>October review</h1>", html=True)
        self.assertContains(r, "Acme Ltd")
        self.assertContains(r, "1 Oct 2026 – 31 Oct 2026")
        self.assertContains(r, '<span class="chip chip-tone-muted">Not started</span>', html=True)
        self.assertContains(r, "0 of 2")
        self.assertContains(r, "Start the run")
        self.assertContains(r, "Fixed assets")
        # A custom check's description has its links made clickable.
        self.assertContains(r, '<a href="https://example.com/register"', count=1)

    def test_another_staff_member_sees_no_start_button(self) -> None:
        other = f.MembershipFactory(practice=self.practice, role="staff").user
        self.client.force_login(other)
        r = self.client.get(self.url())
        self.assertContains(r, "Fixed assets")
        self.assertNotContains(r, "Start the run")

    def test_a_run_without_an_assignee_says_why_it_cannot_start(self) -> None:
        FlowRun.objects.filter(pk=self.run.pk).update(assignee=None)
        self.client.force_login(self.owner)
        r = self.client.get(self.url())
        self.assertContains(r, "Nobody works this run yet")
        self.assertNotContains(r, "Start the run")
        r = self.client.post(self.url("start/"), follow=True)
        self.assertIn("Choose who works this run before starting it.", self.flashes(r))
        self.run.refresh_from_db()
        self.assertEqual(self.run.status, R.NOT_STARTED)

    def test_an_overdue_run_shows_its_due_date_in_red(self) -> None:
        FlowRun.objects.filter(pk=self.run.pk).update(due_date=dt.date(2020, 1, 1))
        self.client.force_login(self.staff)
        r = self.client.get(self.url())
        self.assertContains(
            r, '<span class="text-danger">Due 1 Jan 2020 · overdue</span>', html=True
        )

    def test_get_changes_nothing(self) -> None:
        self.client.force_login(self.staff)
        before = ActivityEvent.objects.count()
        for action in ("", "panel/"):
            self.assertEqual(self.client.get(self.url(action)).status_code, 200)
        for action in ("start/", "submit/", "approve/", "complete/", "notes/"):
            self.assertEqual(self.client.get(self.url(action)).status_code, 405)
        self.run.refresh_from_db()
        self.assertEqual(self.run.status, R.NOT_STARTED)
        self.assertEqual(ActivityEvent.objects.count(), before)

    def test_another_practices_run_is_404(self) -> None:
        rival = f.ClientFactory(practice=self.other_practice)
        flow = making.create_flow(
            self.other_practice,
            FlowSpec(
                kind=Flow.Kind.ONE_OFF,
                name="Rival",
                checks=("builtin:vat",),
                clients=(ClientTeam(rival.pk, self.outsider.pk),),
                period_start=dt.date(2026, 10, 1),
                period_end=dt.date(2026, 10, 31),
                due_date=dt.date(2026, 11, 30),
            ),
            actor=self.outsider,
            today=dt.date(2026, 11, 2),
        )
        theirs = FlowRun.objects.get(flow=flow)
        self.client.force_login(self.owner)
        self.assertEqual(self.client.get(self.url(run=theirs)).status_code, 404)
        self.assertEqual(self.client.post(self.url("start/", run=theirs)).status_code, 404)
        theirs.refresh_from_db()
        self.assertEqual(theirs.status, R.NOT_STARTED)

    def test_htmx_gets_the_run_body_alone(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(self.url(), headers={"HX-Request": "true"})
        self.assertContains(r, 'id="run-body"')
        self.assertNotContains(r, "<html")

    def test_a_builtin_check_lists_its_first_ten_open_findings(self) -> None:
        self.started()
        mine = [self.finding(n) for n in range(12)]
        self.client.force_login(self.staff)
        r = self.client.get(self.url())
        self.assertContains(r, "12 open findings")
        self.assertContains(r, "the first 10 shown")
        self.assertContains(r, "Unreconciled line", count=10)
        self.assertContains(r, f"/checks/clients/{self.acme.pk}/checks/bank_reconciliation/")
        self.assertContains(r, f"/checks/clients/{self.acme.pk}/findings/{mine[0].pk}/dismiss/")
        self.assertNotContains(r, f"/findings/{mine[11].pk}/dismiss/")
        self.assertContains(r, f'name="next" value="{self.url()}"')

    def test_the_page_costs_the_same_for_2_and_9_checks(self) -> None:
        customs = [
            CustomCheck.objects.create(practice=self.practice, name=f"Custom {i}") for i in range(5)
        ]
        nine = self.make_run(
            (
                "builtin:bank_reconciliation",
                "builtin:lock_date",
                "builtin:vat",
                "builtin:duplicate_transactions",
                *(f"custom:{c.pk}" for c in customs),
            ),
            client=f.ClientFactory(practice=self.practice, name="Bolt Ltd"),
            reviewer=self.manager,
            name="Nine checks",
        )
        self.assertEqual(nine.run_checks.count(), 9)
        for run in (self.run, nine):
            engine.start_run(run, actor=self.staff, today=dt.date(2026, 11, 2))
            engine.add_note(run, actor=self.staff, body="A note")
        for n in range(3):
            self.finding(n)
        self.client.force_login(self.staff)
        self.client.get(self.url())  # warm the session and the content types
        with CaptureQueriesContext(connection) as two:
            self.assertEqual(self.client.get(self.url()).status_code, 200)
        self.assertLessEqual(len(two.captured_queries), 12)  # 6 of them the page's own
        with self.assertNumQueries(len(two.captured_queries)):
            self.assertEqual(self.client.get(self.url(run=nine)).status_code, 200)
        with CaptureQueriesContext(connection) as panel_two:
            self.client.get(self.url("panel/"), headers={"HX-Request": "true"})
        self.assertLessEqual(len(panel_two.captured_queries), 8)
        with self.assertNumQueries(len(panel_two.captured_queries)):
            self.client.get(self.url("panel/", run=nine), headers={"HX-Request": "true"})


class RunActionTests(RunViewTestCase):
    def test_the_whole_run_through_the_views(self) -> None:
        r = self.post(self.staff, "start/", follow=True)
        self.assertIn("Started: the checks ran for the run's period.", self.flashes(r))
        self.run.refresh_from_db()
        self.assertEqual(self.run.status, R.IN_PROGRESS)
        bank, custom = self.checks()

        r = self.post(self.staff, f"checks/{bank.pk}/mark/", {"outcome": C.SOME_ISSUES})
        bank.refresh_from_db()
        self.assertEqual(bank.status, C.PENDING)
        r = self.client.get(self.url())
        self.assertIn("Bank reconciliation: Say what the issues are.", self.flashes(r))

        self.post(
            self.staff,
            f"checks/{bank.pk}/mark/",
            {"outcome": C.SOME_ISSUES, "comment": "Two lines left for the client"},
        )
        self.post(self.staff, f"checks/{custom.pk}/mark/", {"outcome": C.NOT_APPLICABLE})
        self.post(self.staff, f"checks/{custom.pk}/undo/")
        custom.refresh_from_db()
        self.assertEqual(custom.status, C.PENDING)
        self.post(self.staff, f"checks/{custom.pk}/mark/", {"outcome": C.NO_ISSUES})
        bank.refresh_from_db()
        self.assertEqual(
            (bank.status, bank.comment), (C.SOME_ISSUES, "Two lines left for the client")
        )

        self.post(self.staff, "submit/")
        self.run.refresh_from_db()
        self.assertEqual((self.run.status, self.run.review_stage), (R.IN_REVIEW, 1))

        r = self.post(self.manager, "hand-back/", {"comment": "Explain the two lines"}, follow=True)
        self.assertIn("Handed back to the assignee.", self.flashes(r))
        self.run.refresh_from_db()
        self.assertEqual(self.run.status, R.IN_PROGRESS)
        self.assertTrue(FlowRunNote.objects.filter(run=self.run, body__contains="Explain").exists())

        self.post(self.staff, "submit/")
        self.post(self.manager, "approve/")
        self.run.refresh_from_db()
        self.assertTrue(self.run.approved)
        r = self.post(self.staff, "complete/", follow=True)
        self.assertIn("Completed.", self.flashes(r))
        self.run.refresh_from_db()
        self.assertEqual(self.run.status, R.COMPLETE)
        steps = list(FlowRunSnapshot.objects.filter(run=self.run).values_list("step", flat=True))
        self.assertEqual(
            steps,
            ["in_progress", "in_review", "handed_back", "in_review", "approved", "complete"],
        )
        r = self.client.get(self.url())
        self.assertContains(r, "Handed back")
        self.assertContains(r, "Health score")
        self.assertContains(r, '<span class="chip chip-tone-ok">Complete</span>', html=True)

    def assertRefused(self, user, action: str, message: str, data=None) -> None:
        self.run.refresh_from_db()
        before = (self.run.status, self.run.review_stage, self.run.approved, self.run.checks_done)
        events = ActivityEvent.objects.count()
        r = self.post(user, action, data, follow=True)
        self.assertEqual(r.status_code, 200)
        self.assertIn(message, self.flashes(r))
        self.run.refresh_from_db()
        after = (self.run.status, self.run.review_stage, self.run.approved, self.run.checks_done)
        self.assertEqual(after, before)
        self.assertEqual(ActivityEvent.objects.count(), events)

    def test_refusals_give_a_message_and_change_nothing(self) -> None:
        self.assertRefused(
            self.staff, "submit/", "“October review for Acme Ltd” is not started; it cannot "
            "become in review."
        )  # fmt: skip
        self.started()
        self.assertRefused(
            self.staff, "start/", "“October review for Acme Ltd” is in progress; it cannot "
            "become in progress."
        )  # fmt: skip
        bank, custom = self.checks()
        self.assertRefused(
            self.manager,
            f"checks/{bank.pk}/mark/",
            "Bank reconciliation: Only the run's assignee can work its checks.",
            {"outcome": C.NO_ISSUES},
        )
        self.assertRefused(
            self.staff,
            f"checks/{bank.pk}/mark/",
            "Bank reconciliation: Choose how the check was completed.",
            {"outcome": "done"},
        )
        self.assertRefused(
            self.staff, "submit/", "Finish every check before submitting the run for review."
        )
        self.assertRefused(self.staff, "complete/", "Submit it for review first.")
        for check in (bank, custom):
            engine.mark_check(check, outcome=C.NO_ISSUES, actor=self.staff)
        self.assertRefused(self.manager, "submit/", "Only the run's assignee can submit it.")
        engine.submit_run(self.run, actor=self.staff)
        self.assertRefused(
            self.staff, "approve/", "Only the reviewer it is with can review it now."
        )
        self.assertRefused(
            self.manager,
            "hand-back/",
            "Say what needs doing before it comes back.",
            {"comment": " "},
        )
        self.assertRefused(self.staff, "complete/", "The reviewers have not approved it yet.")
        self.assertRefused(
            self.staff,
            f"checks/{bank.pk}/undo/",
            "Bank reconciliation: Checks can be changed only while the run is in progress.",
        )
        engine.approve_run(self.run, actor=self.manager)
        self.assertRefused(self.manager, "complete/", "Only the run's assignee can complete it.")
        self.assertRefused(self.manager, "approve/", "This run is not waiting for a review.")

    def test_a_role_without_work_checks_is_refused(self) -> None:
        self.client.force_login(self.ar_specialist)
        self.assertEqual(self.client.post(self.url("start/")).status_code, 403)
        self.run.refresh_from_db()
        self.assertEqual(self.run.status, R.NOT_STARTED)

    def test_another_runs_check_is_404(self) -> None:
        self.started()
        other = self.make_run(("builtin:vat",), client=f.ClientFactory(practice=self.practice))
        theirs = other.run_checks.get()
        r = self.post(self.staff, f"checks/{theirs.pk}/mark/", {"outcome": C.NO_ISSUES})
        self.assertEqual(r.status_code, 404)
        theirs.refresh_from_db()
        self.assertEqual(theirs.status, C.PENDING)

    def test_htmx_gets_the_run_body_with_the_message(self) -> None:
        r = self.post(self.staff, "start/", headers={"HX-Request": "true"})
        self.assertContains(r, 'id="run-body"')
        self.assertContains(r, "Started: the checks ran")
        self.assertNotContains(r, "<html")
        r = self.post(self.staff, "start/", headers={"HX-Request": "true"})
        self.assertContains(r, "is in progress; it cannot become in progress.")

    def test_from_the_panel_htmx_gets_the_panel_back(self) -> None:
        self.started()
        bank, _custom = self.checks()
        r = self.post(
            self.staff,
            f"checks/{bank.pk}/mark/",
            {"outcome": C.NO_ISSUES, "from": "panel"},
            headers={"HX-Request": "true"},
        )
        self.assertContains(r, 'id="focus-panel"')
        self.assertContains(r, "Bank reconciliation: Complete – no issues.")
        self.assertIn("task-progress", r["HX-Trigger"])
        r = self.post(
            self.staff, f"checks/{bank.pk}/mark/", {"outcome": C.NO_ISSUES, "from": "panel"}
        )
        self.assertRedirects(r, self.url("panel/"))

    def test_a_comment_on_a_check_is_added(self) -> None:
        self.started()
        bank, _custom = self.checks()
        self.post(self.manager, "notes/", {"check": bank.pk, "body": "Look at line 4"})
        note = FlowRunNote.objects.get(run=self.run, body="Look at line 4")
        self.assertEqual((note.run_check, note.author), (bank, self.manager))
        self.assertRefused(self.manager, "notes/", "Write the comment first.", {"body": ""})
        self.assertRefused(
            self.manager, "notes/", "That check is not this run's.", {"check": "x", "body": "y"}
        )

    def test_a_finding_dismissed_from_the_run_page_comes_back_to_it(self) -> None:
        self.started()
        finding = self.finding(1)
        self.client.force_login(self.staff)
        r = self.client.post(
            f"/checks/clients/{self.acme.pk}/findings/{finding.pk}/dismiss/",
            {"reason": "Timing difference", "next": self.url()},
        )
        self.assertRedirects(r, self.url())
        finding.refresh_from_db()
        self.assertEqual(
            (finding.status, finding.dismissed_reason), ("dismissed", "Timing difference")
        )


class RunFileTests(RunViewTestCase):
    def attach(self, name: str, content: bytes, user=None):
        check = self.checks()[0]
        upload = SimpleUploadedFile(name, content)
        return self.post(
            user or self.staff,
            "notes/",
            {"check": check.pk, "file": upload, "body": "Bank statement"},
            follow=True,
        )

    def test_an_allowed_pdf_is_stored_under_a_random_name_and_served_as_an_attachment(self) -> None:
        r = self.attach("statement October.pdf", PDF)
        self.assertIn("Attached statement October.pdf.", self.flashes(r))
        note = FlowRunNote.objects.get(run=self.run)
        self.assertEqual(note.file_name, "statement October.pdf")
        self.assertNotIn("statement", note.stored_name)
        self.assertRegex(note.stored_name, r"^flow-notes/[0-9a-f]{32}\.pdf$")
        self.assertTrue(default_storage.exists(note.stored_name))
        self.assertContains(r, "statement October.pdf")
        download = self.client.get(self.url(f"notes/{note.pk}/file/"))
        self.assertEqual(download.status_code, 200)
        self.assertEqual(download["Content-Type"], "application/pdf")
        self.assertEqual(download["X-Content-Type-Options"], "nosniff")
        self.assertTrue(download["Content-Disposition"].startswith("attachment"))
        self.assertEqual(b"".join(download.streaming_content), PDF)

    def test_an_exe_and_html_are_refused(self) -> None:
        cases = [
            ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60, "this type of file is not accepted"),
            ("page.html", b"<html><script>alert(1)</script></html>", "not accepted"),
            ("notes.txt", b"hello <script>alert(1)</script>", "contains web-page code"),
            ("fake.pdf", b"<!doctype html><html></html>", "is not really a .pdf file"),
        ]
        for name, content, message in cases:
            with self.subTest(name=name):
                r = self.attach(name, content)
                self.assertTrue(any(message in m for m in self.flashes(r)), self.flashes(r))
        self.assertFalse(FlowRunNote.objects.filter(run=self.run).exists())

    def test_another_runs_file_is_404(self) -> None:
        self.attach("statement.pdf", PDF)
        note = FlowRunNote.objects.get(run=self.run)
        other = self.make_run(("builtin:vat",), client=f.ClientFactory(practice=self.practice))
        self.assertEqual(
            self.client.get(self.url(f"notes/{note.pk}/file/", run=other)).status_code, 404
        )


class FocusAndWorkTests(RunViewTestCase):
    def test_the_focus_panel_partial_shows_the_checks_with_their_outcome_buttons(self) -> None:
        self.started()
        self.client.force_login(self.staff)
        r = self.client.get(self.url("panel/"), headers={"HX-Request": "true"})
        self.assertContains(r, 'id="focus-panel"')
        self.assertNotContains(r, "<html")
        self.assertContains(r, "Bank reconciliation")
        self.assertContains(r, 'value="no_issues"', count=2)
        self.assertContains(r, 'name="from" value="panel"')
        page = self.client.get(self.url("panel/"))
        self.assertContains(page, "<html")
        self.assertContains(page, "focus-host-page")

    def test_the_work_list_shows_the_run_to_its_assignee_then_its_reviewer(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get("/work/")
        self.assertContains(r, "October review")
        self.assertContains(r, f'hx-get="{self.url("panel/")}"')
        self.assertContains(r, "To start")
        self.client.force_login(self.manager)
        self.assertNotContains(self.client.get("/work/"), "October review")
        self.started()
        for check in self.checks():
            engine.mark_check(check, outcome=C.NO_ISSUES, actor=self.staff)
        engine.submit_run(self.run, actor=self.staff)
        r = self.client.get("/work/")
        self.assertContains(r, "October review")
        self.assertContains(r, "To review")
        self.client.force_login(self.staff)
        self.assertNotContains(self.client.get("/work/"), "October review")
