"""The demo's flows: one-off and repeating, runs in every status, and seeding twice is a no-op."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.db.models import Count
from django.test import TestCase
from django_scopes import scopes_disabled

from checks.flows import demo as flows_demo
from checks.flows import digest
from checks.models import Flow, FlowRun, FlowRunCheck, FlowRunNote, FlowRunSnapshot
from sodium import demo
from sodium.models import OutboundMessage, Practice, User
from sodium.schedules.practice import today_for

R = FlowRun.Status


class DemoFlowsTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        call_command("seed_demo", stdout=StringIO())
        cls.practice = Practice.objects.get(slug=demo.DEMO_SLUG)

    def setUp(self) -> None:
        scopes = scopes_disabled()
        scopes.__enter__()
        self.addCleanup(scopes.__exit__, None, None, None)

    def counts(self) -> tuple[int, ...]:
        return tuple(
            model.objects.filter(practice=self.practice).count()
            for model in (Flow, FlowRun, FlowRunCheck, FlowRunNote, FlowRunSnapshot)
        )

    def test_one_off_and_repeating_flows_with_runs_in_every_status(self) -> None:
        flows = {f.name: f for f in Flow.objects.filter(practice=self.practice)}
        self.assertEqual(flows[flows_demo.MONTH_END].kind, Flow.Kind.REPEATING)
        self.assertEqual(flows[flows_demo.VAT].kind, Flow.Kind.REPEATING)
        self.assertEqual(flows[flows_demo.ONBOARDING].kind, Flow.Kind.ONE_OFF)
        runs = FlowRun.objects.filter(practice=self.practice)
        self.assertEqual(set(runs.values_list("status", flat=True)), set(R.values))
        self.assertTrue(runs.filter(status=R.IN_REVIEW, approved=True).exists())
        self.assertTrue(runs.filter(status=R.IN_REVIEW, review_stage=2).exists())
        self.assertTrue(
            FlowRunNote.objects.filter(run__status=R.IN_PROGRESS, body__startswith="Handed back")
        )
        for flow in flows.values():
            with self.subTest(flow.name):
                self.assertTrue(runs.filter(flow=flow).exists())
        today = today_for(self.practice)
        self.assertTrue(runs.filter(due_date__lt=today).exclude(status=R.COMPLETE).exists())

    def test_the_month_end_review_has_a_run_per_client_for_each_of_three_months(self) -> None:
        flow = Flow.objects.get(practice=self.practice, name=flows_demo.MONTH_END)
        runs = FlowRun.objects.filter(flow=flow)
        per_period = dict(runs.values_list("period_start").annotate(n=Count("id")))
        self.assertEqual(len(per_period), 3)
        self.assertEqual(set(per_period.values()), {6})
        checked = runs.filter(status=R.COMPLETE).first()
        self.assertFalse(checked.run_checks.filter(status=FlowRunCheck.Status.PENDING).exists())
        self.assertGreaterEqual(checked.snapshots.count(), 4)

    def test_seeding_again_changes_nothing(self) -> None:
        before = self.counts()
        call_command("seed_demo", stdout=StringIO())
        manager = User.objects.get(email=demo.DEMO_MANAGER_EMAIL)
        flows_demo.build(self.practice, owner=manager, manager=manager)
        self.assertEqual(self.counts(), before)

    def test_the_demo_people_get_their_digest(self) -> None:
        today = today_for(self.practice)
        digest.send_digests(
            dt.datetime.combine(today, dt.time(8), tzinfo=ZoneInfo("Europe/London"))
        )
        to = {m.to[0] for m in OutboundMessage.objects.filter(idempotency_key__startswith="flows:")}
        self.assertIn("sam@hartleyfinch.example", to)
