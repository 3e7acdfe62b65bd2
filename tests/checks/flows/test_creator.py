"""The flow creator: six stages on the core's drafts, then engine.create_flow (all or none)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext

from checks.flows import creator
from checks.flows.creator_forms import StageForm
from checks.flows.templates import ensure_builtin_templates
from checks.models import CustomCheck, Flow, FlowClient, FlowRun
from sodium.roles import Role
from tests import factories as f
from tests.base import BaseTestCase

TODAY = dt.date(2026, 10, 28)
BASE = "/checks/flows/creator/"


class CreatorTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        ensure_builtin_templates(self.practice)  # as create_practice gives a practice
        self.tag = f.TagFactory(practice=self.practice, name="Monthly")
        self.acme = f.ClientFactory(
            practice=self.practice, name="Acme Ltd", year_end_day=31, year_end_month=3,
            vat_periods="q_mar", default_assignee=self.staff, default_reviewer=self.manager,
        )  # fmt: skip
        self.bolt = f.ClientFactory(
            practice=self.practice, name="Bolt Ltd", year_end_day=None, year_end_month=None,
            default_assignee=self.admin,
        )  # fmt: skip
        self.acme.tags.add(self.tag)
        self.bolt.tags.add(self.tag)
        self.custom = CustomCheck.objects.create(practice=self.practice, name="Fixed assets")
        self.client.force_login(self.manager)
        patcher = mock.patch("checks.flows.creator.today_for", return_value=TODAY)
        patcher.start()
        self.addCleanup(patcher.stop)

    # --- helpers ---

    def start(self, kind: str = "repeating", **extra) -> str:
        r = self.client.post(BASE, {"kind": kind, **extra})
        self.assertEqual(r.status_code, 302, r.content[:400])
        match = re.match(r"^/checks/flows/creator/([^/]+)/checks/$", r["Location"])
        self.assertIsNotNone(match, r["Location"])
        return match.group(1)

    def url(self, draft_id: str, stage: str) -> str:
        return f"{BASE}{draft_id}/{stage}/"

    def post(self, draft_id: str, stage: str, data: dict, action: str = "next"):
        return self.client.post(self.url(draft_id, stage), {**data, "action": action})

    def draft(self, draft_id: str) -> dict:
        return self.client.session[creator.SESSION_KEY][draft_id]

    CHECKS = {
        "name": "Monthly review",
        "checks": ["builtin:bank_reconciliation", "builtin:multi_coded_contacts"],
    }
    REPEATING = {
        "mode": "scheduled", "offset": "1", "offset_unit": "days", "period": "month",
        "every": "1", "event": "year_end", "within": "2", "within_unit": "weeks", "rule": "none",
    }  # fmt: skip
    ONE_OFF = {"period_start": "2026-09-01", "period_end": "2026-09-30", "due_date": "2026-10-31"}

    def through_clients(self, kind: str = "repeating", cadence=None, clients=None) -> str:
        draft_id = self.start(kind)
        self.assertRedirects(
            self.post(draft_id, "checks", self.CHECKS), self.url(draft_id, "cadence"),
            fetch_redirect_response=False,
        )  # fmt: skip
        cadence = cadence or (self.REPEATING if kind == "repeating" else self.ONE_OFF)
        r = self.post(draft_id, "cadence", cadence)
        self.assertEqual(r.status_code, 302, r.content.decode()[:2000])
        r = self.post(draft_id, "rules", self.rules_data(draft_id))
        self.assertEqual(r.status_code, 302, r.content.decode()[:3000])
        r = self.post(draft_id, "clients", clients or {"tags": [str(self.tag.pk)]})
        self.assertEqual(r.status_code, 302, r.content.decode()[:3000])
        return draft_id

    def rules_data(self, draft_id: str, **changes) -> dict:
        page = self.client.get(self.url(draft_id, "rules"))
        form = page.context["form"]
        data = {}
        for name in form.fields:
            value = form[name].value()
            if isinstance(value, list):
                data[name] = [str(v) for v in value]
            elif isinstance(value, bool):
                if value:
                    data[name] = "on"
            elif value is not None:
                data[name] = str(value)
        data.update(changes)
        return data

    def team_data(self, **rows) -> dict:
        data = {}
        for client, (a, r, s) in rows.items():
            pk = getattr(self, client).pk
            data.update({f"a_{pk}": a.pk if a else "", f"r_{pk}": r.pk if r else "",
                         f"s_{pk}": s.pk if s else ""})  # fmt: skip
        return data


class StartTests(CreatorTestCase):
    def test_it_shows_the_two_choices_and_the_built_in_templates(self) -> None:
        r = self.client.get(BASE)
        self.assertContains(r, "Create a one-off flow")
        self.assertContains(r, "Create a repeating flow")
        for name in ("Month-end review", "Year-end review", "VAT return review"):
            self.assertContains(r, name)

    def test_a_staff_member_gets_the_readable_refusal(self) -> None:
        self.client.force_login(self.staff)
        for url in (BASE, "/checks/flows/templates/"):
            r = self.client.get(url)
            self.assertEqual(r.status_code, 403)
            self.assertContains(r, "role", status_code=403)
        self.assertEqual(self.client.post(BASE, {"kind": "one_off"}).status_code, 403)

    def test_an_unknown_kind_is_refused_readably(self) -> None:
        r = self.client.post(BASE, {"kind": "weekly"})
        self.assertContains(r, "Choose a one-off or a repeating flow.")

    def test_starting_from_a_template_fills_the_checks_stage(self) -> None:
        self.client.get(BASE)
        template = creator.CreatorContext.of(self.practice).templates[0]
        draft_id = self.start("one_off", template=str(template.pk))
        values = self.draft(draft_id)["values"]["checks"]
        self.assertEqual(values["name"], template.name)
        self.assertEqual(values["checks"], [c.ref for c in template.checks.all()])


class ChecksStageTests(CreatorTestCase):
    def test_it_needs_a_name_and_a_check(self) -> None:
        draft_id = self.start()
        r = self.post(draft_id, "checks", {"name": " "})
        self.assertContains(r, "Give the flow a name.")
        self.assertContains(r, "Choose at least one check.")
        self.assertEqual(self.draft(draft_id)["done"], [])

    def test_it_offers_built_in_and_custom_checks_and_orders_them(self) -> None:
        draft_id = self.start()
        r = self.client.get(self.url(draft_id, "checks"))
        self.assertContains(r, "Fixed assets")
        self.assertContains(r, 'value="builtin:vat"')
        refs = ["builtin:vat", f"custom:{self.custom.pk}", "builtin:lock_date"]
        r = self.client.post(
            self.url(draft_id, "checks"),
            {"name": "X", "checks": refs, "move": f"up:custom:{self.custom.pk}"},
        )
        self.assertEqual(r.status_code, 200)
        self.assertEqual(
            self.draft(draft_id)["values"]["checks"]["checks"],
            [f"custom:{self.custom.pk}", "builtin:vat", "builtin:lock_date"],
        )
        self.client.post(
            self.url(draft_id, "checks"),
            {"name": "X", "checks": self.draft(draft_id)["values"]["checks"]["checks"],
             "move": "down:builtin:vat"},
        )  # fmt: skip
        self.assertEqual(
            self.draft(draft_id)["values"]["checks"]["checks"],
            [f"custom:{self.custom.pk}", "builtin:lock_date", "builtin:vat"],
        )

    def test_using_a_template_puts_its_checks_in(self) -> None:
        draft_id = self.start()
        template = creator.CreatorContext.of(self.practice).templates[0]
        self.post(draft_id, "checks", {"name": "", "template": str(template.pk)}, "template")
        values = self.draft(draft_id)["values"]["checks"]
        self.assertEqual(values["checks"], [c.ref for c in template.checks.all()])
        self.assertEqual(values["name"], template.name)

    def test_an_archived_custom_check_is_refused(self) -> None:
        draft_id = self.start()
        self.custom.archived = True
        self.custom.save()
        r = self.post(draft_id, "checks", {"name": "X", "checks": [f"custom:{self.custom.pk}"]})
        self.assertContains(r, "One of the chosen checks no longer exists.")


class CadenceStageTests(CreatorTestCase):
    def test_a_one_off_defaults_to_the_last_full_month(self) -> None:
        draft_id = self.start("one_off")
        self.post(draft_id, "checks", self.CHECKS)
        r = self.client.get(self.url(draft_id, "cadence"))
        self.assertContains(r, 'value="2026-09-01"')
        self.assertContains(r, 'value="2026-09-30"')

    def test_a_due_date_before_the_period_is_refused(self) -> None:
        draft_id = self.start("one_off")
        self.post(draft_id, "checks", self.CHECKS)
        r = self.post(draft_id, "cadence", {**self.ONE_OFF, "due_date": "2026-08-01"})
        self.assertContains(r, "The due date is before the reporting period.")
        self.assertNotIn("cadence", self.draft(draft_id)["done"])

    def test_a_repeating_cadence_shows_the_generic_dates(self) -> None:
        draft_id = self.start()
        self.post(draft_id, "checks", self.CHECKS)
        r = self.client.get(self.url(draft_id, "cadence"))
        # Made 28 Oct, 1 day after each month, within 2 weeks: 1 Nov, due 15 Nov, October.
        self.assertContains(r, "October 2026")
        self.assertContains(r, "Sun 1 Nov 2026")
        self.assertContains(r, "Sun 15 Nov 2026")
        self.assertContains(r, "a scheduled date is never today".capitalize()[:20])

    def test_a_bad_offset_is_refused_with_the_cadence_message(self) -> None:
        draft_id = self.start()
        self.post(draft_id, "checks", self.CHECKS)
        r = self.post(draft_id, "cadence", {**self.REPEATING, "offset": "40"})
        self.assertContains(r, "Give 1 to 28 days.")

    def test_once_clients_are_known_it_shows_their_dates(self) -> None:
        event = {**self.REPEATING, "mode": "event", "event": "year_end"}
        draft_id = self.through_clients(cadence=event, clients={"clients": [str(self.acme.pk)]})
        r = self.client.get(self.url(draft_id, "cadence"))
        self.assertContains(r, "Acme Ltd")
        self.assertContains(r, "Apr 2026 – Mar 2027")


class RulesStageTests(CreatorTestCase):
    def test_the_period_sets_the_transactions_since_default(self) -> None:
        draft_id = self.start("one_off")
        self.post(draft_id, "checks", self.CHECKS)
        self.post(draft_id, "cadence", {**self.ONE_OFF, "period_start": "2026-07-01"})
        r = self.client.get(self.url(draft_id, "rules"))
        self.assertEqual(r.context["form"]["multi_coded_contacts__history_months"].value(), 3)

    def test_bad_rules_are_refused_and_only_changes_are_kept(self) -> None:
        draft_id = self.start("one_off")
        self.post(draft_id, "checks", self.CHECKS)
        self.post(draft_id, "cadence", self.ONE_OFF)
        bad = self.rules_data(draft_id, bank_reconciliation__amber_days="0")
        self.assertContains(self.post(draft_id, "rules", bad), "Give a number of days, at least 1.")
        good = self.rules_data(
            draft_id, bank_reconciliation__amber_days="15", bank_reconciliation__red_days="45"
        )
        self.assertEqual(self.post(draft_id, "rules", good).status_code, 302)
        self.assertEqual(
            self.draft(draft_id)["rules_store"], {"bank_reconciliation": {"red_days": 45}}
        )


class ClientsStageTests(CreatorTestCase):
    def start_at_clients(self, cadence=None) -> str:
        draft_id = self.start()
        self.post(draft_id, "checks", self.CHECKS)
        self.post(draft_id, "cadence", cadence or self.REPEATING)
        self.post(draft_id, "rules", self.rules_data(draft_id))
        return draft_id

    def test_no_clients_is_refused(self) -> None:
        r = self.post(self.start_at_clients(), "clients", {})
        self.assertContains(r, "Add at least one client, by client or by tag.")

    def test_a_client_by_name_and_by_tag_is_added_once(self) -> None:
        draft_id = self.start_at_clients()
        r = self.post(
            draft_id, "clients", {"clients": [str(self.acme.pk)], "tags": [str(self.tag.pk)]},
            action="dates",
        )  # fmt: skip
        self.assertContains(r, "2 clients chosen")

    def test_clients_lacking_their_event_date_are_named(self) -> None:
        event = {**self.REPEATING, "mode": "event", "event": "year_end"}
        draft_id = self.start_at_clients(event)
        r = self.post(draft_id, "clients", {"tags": [str(self.tag.pk)]})
        self.assertContains(r, "These clients have no date for this cadence: Bolt Ltd")

    def test_the_clients_stage_runs_the_same_queries_for_10_and_50_clients(self) -> None:
        draft_id = self.start_at_clients()
        counts = []
        for n in (10, 50):
            have = self.practice.clients.count()
            for i in range(have, n):
                client = f.ClientFactory(practice=self.practice, name=f"Client {i:03}")
                client.tags.add(self.tag)
            self.post(draft_id, "clients", {"tags": [str(self.tag.pk)]}, action="dates")
            with CaptureQueriesContext(connection) as queries:
                r = self.client.get(self.url(draft_id, "clients"))
            self.assertContains(r, f"{self.practice.clients.count()} clients chosen")
            counts.append(len(queries))
        self.assertEqual(counts[0], counts[1])


class TeamStageTests(CreatorTestCase):
    def test_it_defaults_to_each_clients_account_people(self) -> None:
        draft_id = self.through_clients()
        r = self.client.get(self.url(draft_id, "team"))
        form = r.context["form"]
        self.assertEqual(form[f"a_{self.acme.pk}"].value(), str(self.staff.pk))
        self.assertEqual(form[f"r_{self.acme.pk}"].value(), str(self.manager.pk))
        self.assertEqual(form[f"a_{self.bolt.pk}"].value(), str(self.admin.pk))

    def test_a_reviewer_who_is_the_assignee_is_refused_on_that_row(self) -> None:
        draft_id = self.through_clients()
        data = self.team_data(acme=(self.staff, self.staff, None), bolt=(self.admin, None, None))
        r = self.post(draft_id, "team", data)
        self.assertContains(r, "A reviewer cannot also be the assignee.")
        self.assertNotIn("team", self.draft(draft_id)["done"])

    def test_set_all_fills_every_row(self) -> None:
        draft_id = self.through_clients()
        data = {**self.team_data(acme=(self.staff, None, None), bolt=(self.admin, None, None)),
                "all_r": str(self.owner.pk)}  # fmt: skip
        self.post(draft_id, "team", data, action="set_all")
        values = self.draft(draft_id)["values"]["team"]
        self.assertEqual(values[f"r_{self.acme.pk}"], str(self.owner.pk))
        self.assertEqual(values[f"r_{self.bolt.pk}"], str(self.owner.pk))


class MovingTests(CreatorTestCase):
    def test_back_keeps_what_was_typed_without_checking_it(self) -> None:
        draft_id = self.start("one_off")
        self.post(draft_id, "checks", self.CHECKS)
        r = self.post(draft_id, "cadence", {**self.ONE_OFF, "due_date": "bad"}, action="back")
        self.assertRedirects(r, self.url(draft_id, "checks"), fetch_redirect_response=False)
        self.assertEqual(self.draft(draft_id)["values"]["cadence"]["due_date"], "bad")

    def test_a_stage_opened_before_the_ones_it_needs_sends_to_the_first_unfinished(self) -> None:
        draft_id = self.start()
        self.post(draft_id, "checks", self.CHECKS)
        r = self.client.get(self.url(draft_id, "team"))
        self.assertRedirects(r, self.url(draft_id, "cadence"), fetch_redirect_response=False)
        r = self.client.get(r["Location"])
        self.assertContains(r, "Finish “Set cadence” first")

    def test_progress_links_jump_to_finished_stages_and_the_draft_survives_a_reload(self) -> None:
        draft_id = self.through_clients()
        r = self.client.get(self.url(draft_id, "team"))
        for stage in ("checks", "cadence", "rules", "clients"):
            self.assertContains(r, f'href="{self.url(draft_id, stage)}"')
        self.assertNotContains(r, f'href="{self.url(draft_id, "review")}"')
        again = self.client.get(self.url(draft_id, "checks"))
        self.assertContains(again, 'value="Monthly review"')

    def test_htmx_gets_the_stage_partial_with_its_url_pushed(self) -> None:
        draft_id = self.start()
        r = self.client.post(
            self.url(draft_id, "checks"), {**self.CHECKS, "action": "next"},
            headers={"HX-Request": "true"},
        )  # fmt: skip
        self.assertContains(r, 'id="creator"')
        self.assertNotContains(r, "<html")
        self.assertEqual(r["HX-Push-Url"], self.url(draft_id, "cadence"))

    def test_another_practices_draft_is_expired(self) -> None:
        draft_id = self.start()
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(self.url(draft_id, "checks")).status_code, 404)


class GoTests(CreatorTestCase):
    def finish(self, kind: str, team=None, cadence=None) -> str:
        draft_id = self.through_clients(kind, cadence=cadence)
        team = team or self.team_data(
            acme=(self.staff, self.manager, None), bolt=(self.admin, self.manager, self.owner)
        )
        r = self.post(draft_id, "team", team)
        self.assertRedirects(r, self.url(draft_id, "review"), fetch_redirect_response=False)
        return draft_id

    def test_go_makes_a_one_off_flow_with_every_clients_run(self) -> None:
        draft_id = self.finish("one_off")
        review = self.client.get(self.url(draft_id, "review"))
        self.assertContains(review, "1 Sep 2026 – 30 Sep 2026")
        self.assertContains(review, "Bank reconciliation")
        r = self.client.post(f"{BASE}{draft_id}/go/")
        flow = Flow.objects.get(practice=self.practice)
        self.assertRedirects(r, f"/checks/flows/{flow.pk}/", fetch_redirect_response=False)
        self.assertEqual(flow.kind, "one_off")
        self.assertEqual(FlowRun.objects.filter(flow=flow).count(), 2)
        bolt_run = FlowRun.objects.get(flow=flow, client=self.bolt)
        self.assertEqual(
            (bolt_run.assignee, bolt_run.reviewer, bolt_run.second_reviewer),
            (self.admin, self.manager, self.owner),
        )
        self.assertNotIn(draft_id, self.client.session[creator.SESSION_KEY])

    def test_go_makes_a_repeating_flow_whose_runs_come_later(self) -> None:
        draft_id = self.finish("repeating")
        review = self.client.get(self.url(draft_id, "review"))
        self.assertContains(review, "1 day after each month ends; complete within 2 weeks")
        self.assertContains(review, "1 Nov 2026")
        r = self.client.post(f"{BASE}{draft_id}/go/")
        flow = Flow.objects.get(practice=self.practice)
        self.assertRedirects(r, f"/checks/flows/{flow.pk}/", fetch_redirect_response=False)
        self.assertEqual(flow.kind, "repeating")
        self.assertEqual(FlowClient.objects.filter(flow=flow).count(), 2)
        self.assertEqual(FlowRun.objects.filter(flow=flow).count(), 0)
        self.assertContains(self.client.get(BASE), "Created the flow “Monthly review”")

    def test_go_creates_nothing_when_a_client_went_meanwhile_and_links_to_the_stage(self) -> None:
        picked = {"clients": [str(self.acme.pk), str(self.bolt.pk)]}
        draft_id = self.through_clients("one_off", clients=picked)
        team = self.team_data(acme=(self.staff, None, None), bolt=(self.admin, None, None))
        self.post(draft_id, "team", team)
        self.bolt.status = "archived"
        self.bolt.save()
        r = self.client.post(f"{BASE}{draft_id}/go/")
        self.assertContains(r, "The flow was not created")
        self.assertContains(r, f'href="{self.url(draft_id, "clients")}"')
        self.assertFalse(Flow.objects.filter(practice=self.practice).exists())
        self.assertFalse(FlowRun.objects.filter(practice=self.practice).exists())
        self.assertContains(r, "One of the chosen clients is no longer active.")

    def test_a_member_who_left_is_refused_at_go_on_the_team_stage(self) -> None:
        draft_id = self.finish("one_off")
        self.memberships[Role.OWNER].delete()
        r = self.client.post(f"{BASE}{draft_id}/go/")
        self.assertContains(r, "Choose members of the practice.")
        self.assertContains(r, f'href="{self.url(draft_id, "team")}"')
        self.assertFalse(Flow.objects.filter(practice=self.practice).exists())

    def test_go_before_the_stages_are_done_sends_to_the_first_unfinished(self) -> None:
        draft_id = self.through_clients()
        r = self.client.post(f"{BASE}{draft_id}/go/")
        self.assertRedirects(r, self.url(draft_id, "team"), fetch_redirect_response=False)
        self.assertFalse(Flow.objects.filter(practice=self.practice).exists())


class StageValidatesOnceTests(CreatorTestCase):
    def count_forms(self, draft_id: str, stage: str, data: dict) -> tuple[Counter, Counter]:
        built: Counter = Counter()
        cleaned: Counter = Counter()
        init, full_clean = StageForm.__init__, StageForm.full_clean

        def counting_init(form, *args, **kwargs):
            built[type(form).__name__] += 1
            init(form, *args, **kwargs)

        def counting_clean(form):
            cleaned[type(form).__name__] += 1
            full_clean(form)

        with (
            mock.patch.object(StageForm, "__init__", counting_init),
            mock.patch.object(StageForm, "full_clean", counting_clean),
        ):
            r = self.post(draft_id, stage, data)
        self.assertEqual(r.status_code, 302, r.content.decode()[:1000])
        return built, cleaned

    def test_saving_a_stage_builds_and_cleans_only_its_own_form_once(self) -> None:
        draft_id = self.through_clients()
        self.post(draft_id, "team", self.team_data(acme=(self.staff, None, None),
                                                   bolt=(self.admin, None, None)))  # fmt: skip
        built, cleaned = self.count_forms(draft_id, "clients", {"tags": [str(self.tag.pk)]})
        self.assertEqual(built, Counter({"ClientsForm": 1}))
        self.assertEqual(cleaned, Counter({"ClientsForm": 1}))
        built, cleaned = self.count_forms(draft_id, "cadence", self.REPEATING)
        self.assertEqual((built, cleaned), (Counter({"RepeatingForm": 1}),) * 2)
