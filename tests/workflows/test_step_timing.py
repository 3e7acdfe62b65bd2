"""Step due dates and scheduled sends, with the clock moved (workflows.timing, .scheduling).

December 2026 in England: Friday 25 is Christmas Day, Saturday 26 Boxing Day, whose
substitute is Monday 28; Friday 1 January 2027 is New Year's Day.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from unittest import mock
from zoneinfo import ZoneInfo

from django.db import connection
from django.test.utils import CaptureQueriesContext

from sodium import engine as core_engine
from sodium import timers
from sodium.models import ActivityEvent, OutboundMessage, Timer
from sodium.schedules.practice import sending_moment
from tests import factories as f
from tests.base import BaseTestCase
from workflows import attach, building, engine, scheduling
from workflows.models import Step

LONDON = ZoneInfo("Europe/London")
RUN = "workflows.tasks.run_step_task.delay"
DELIVER = "sodium.tasks.deliver_message_task.delay"


def at(day: int, hour: int = 10, minute: int = 0, month: int = 12, year: int = 2026):
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


@contextmanager
def clock(when: dt.datetime):
    with mock.patch("django.utils.timezone.now", return_value=when):
        yield


class TimingCase(BaseTestCase):
    def make_template(self, *steps: dict):
        template = building.create_template(
            practice=self.practice, actor=self.manager, name="Year end"
        )
        group = template.groups.get()
        made = []
        for i, spec in enumerate(steps):
            depends = [made[j] for j in spec.pop("after", [])]
            made.append(
                building.add_step(
                    group,
                    actor=self.manager,
                    name=spec.pop("name", f"Step {i}"),
                    depends_on=depends,
                    **spec,
                )
            )
        return template

    def task(self, **dates):
        client = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        f.ContactFactory(client=client, first_name="Ann", email="ann@acme.example", is_main=True)
        return f.TaskFactory(client=client, owner=self.staff, status="in_progress", **dates)

    def attach(self, task, template, when):
        with clock(when), mock.patch(RUN) as run, self.captureOnCommitCallbacks(execute=True):
            steps = attach.attach_template(task, template, actor=self.manager)
        return steps, run

    def sent(self, step):
        return OutboundMessage.objects.filter(idempotency_key__startswith=f"step:{step.pk}:")


EMAIL = {
    "type": "email",
    "mode": "automatic",
    "subject": "Your accounts",
    "body": "Dear {{ contacts.main.first_name }}, a reminder.",
    "to_recipients": ["contact:main"],
}


class DueDateTests(TimingCase):
    def test_a_step_ready_at_attach_is_due_n_working_days_later_over_christmas(self) -> None:
        template = self.make_template({"type": "simple", "due_rule": "after_ready", "due_days": 3})
        (step,), _ = self.attach(self.task(), template, at(23))
        # Thu 24, (Fri 25, Sat 26, Sun 27, Mon 28 are holidays or weekend), Tue 29, Wed 30.
        self.assertEqual(step.deadline, dt.date(2026, 12, 30))

    def test_a_blocked_step_gets_its_due_date_when_it_becomes_ready(self) -> None:
        template = self.make_template(
            {"type": "simple", "name": "Prepare"},
            {
                "type": "simple",
                "name": "Review",
                "due_rule": "after_ready",
                "due_days": 2,
                "after": [0],
            },
        )
        (prepare, review), _ = self.attach(self.task(), template, at(7))
        self.assertIsNone(review.deadline)
        with clock(at(10)):  # Thursday 10 December
            engine.complete_step(prepare, actor=self.staff)
        review.refresh_from_db()
        self.assertEqual(review.status, "ready")
        self.assertEqual(review.deadline, dt.date(2026, 12, 14))  # Fri 11, Mon 14
        event = ActivityEvent.objects.filter(verb="step.status", object_id=review.pk).last()
        self.assertEqual(event.data["deadline"], "2026-12-14")

    def test_task_date_rules_count_from_the_tasks_dates_and_follow_them(self) -> None:
        template = self.make_template(
            {"type": "simple", "name": "Book in", "due_rule": "after_start", "due_days": 5},
            {"type": "simple", "name": "File", "due_rule": "before_due", "due_days": 2},
        )
        task = self.task(start_date=dt.date(2026, 12, 7), due_date=dt.date(2027, 1, 4))
        (book, file), _ = self.attach(task, template, at(7))
        self.assertEqual(book.deadline, dt.date(2026, 12, 14))
        # Back from Mon 4 January: Thu 31 December (Fri 1 January is a holiday), Wed 30.
        self.assertEqual(file.deadline, dt.date(2026, 12, 30))
        with clock(at(8)):
            core_engine.update_task(task, actor=self.manager, due_date=dt.date(2027, 1, 15))
        file.refresh_from_db()
        self.assertEqual(file.deadline, dt.date(2027, 1, 13))

    def test_a_finished_steps_due_date_stays_when_the_task_moves(self) -> None:
        template = self.make_template(
            {"type": "simple", "name": "File", "due_rule": "before_due", "due_days": 0}
        )
        task = self.task(due_date=dt.date(2026, 12, 18))
        (step,), _ = self.attach(task, template, at(7))
        with clock(at(8)):
            engine.complete_step(step, actor=self.staff)
            core_engine.update_task(task, actor=self.manager, due_date=dt.date(2027, 2, 1))
        step.refresh_from_db()
        self.assertEqual(step.deadline, dt.date(2026, 12, 18))

    def test_due_rules_cost_two_queries_at_attach_whatever_the_number_of_tasks(self) -> None:
        plain = self.make_template({"type": "simple"}, {"type": "simple"})
        ruled = self.make_template(
            {"type": "simple"}, {"type": "simple", "due_rule": "after_start", "due_days": 1}
        )

        def count(template, n):
            tasks = [self.task() for _ in range(n)]
            with clock(at(7)), mock.patch(RUN), CaptureQueriesContext(connection) as seen:
                attach.attach_template_to_tasks(tasks, template, actor=self.manager)
            return len(seen)

        plain_2, plain_6 = count(plain, 2), count(plain, 6)
        self.assertEqual(plain_2, plain_6)
        # One read of the ruled steps and one bulk write, whatever the count.
        self.assertEqual(count(ruled, 2), plain_2 + 2)
        self.assertEqual(count(ruled, 6), plain_2 + 2)


class DueDisplayTests(TimingCase):
    def test_overdue_and_due_today_steps_stand_out_in_my_steps_and_the_panel(self) -> None:
        template = self.make_template(
            {"type": "simple", "name": "Late one", "due_rule": "after_ready", "due_days": 1},
        )
        task = self.task()
        (step,), _ = self.attach(task, template, at(7))  # due Tue 8 December
        self.client.force_login(self.staff)
        with clock(at(10)):
            self.client.force_login(self.staff)  # sessions idle out: sign in at the clock's time
            page = self.client.get("/workflows/my-steps/")
            self.assertContains(page, "Overdue 2 days")
            self.assertContains(page, "chip-due-overdue")
        with clock(at(8, 9)):
            self.client.force_login(self.staff)
            panel = self.client.get(
                f"/workflows/tasks/{task.pk}/focus/", headers={"HX-Request": "true"}
            )
            self.assertContains(panel, "Due today")
            card = self.client.get(f"/tasks/{task.pk}/")
            self.assertContains(card, "Due today")
        with clock(at(7, 11)):
            self.client.force_login(self.staff)
            self.assertContains(self.client.get("/workflows/my-steps/"), "Due tomorrow")

    def test_the_template_editor_saves_a_due_rule_and_refuses_a_bad_one(self) -> None:
        template = self.make_template({"type": "simple", "name": "Review"})
        step = template.groups.get().steps.get()
        self.client.force_login(self.manager)
        url = f"/workflows/templates/steps/{step.pk}/edit/"
        form = self.client.get(url, headers={"HX-Request": "true"}).context["form"]
        data = {f"{form.prefix}-{k}": v for k, v in form.initial.items() if v is not None}
        data.update({f"{form.prefix}-due_rule": "after_ready", f"{form.prefix}-due_days": "400"})
        self.client.post(url, data)
        step.refresh_from_db()
        self.assertEqual(step.due_rule, "none")
        data[f"{form.prefix}-due_days"] = "4"
        self.client.post(url, data)
        step.refresh_from_db()
        self.assertEqual((step.due_rule, step.due_days), ("after_ready", 4))


class ScheduledSendTests(TimingCase):
    def test_a_send_before_a_bank_holiday_due_date_moves_to_the_working_day_before(self) -> None:
        template = self.make_template({**EMAIL, "send_rule": "before_due", "send_days": 0})
        task = self.task(due_date=dt.date(2026, 12, 28))  # Boxing Day's substitute
        (step,), run = self.attach(task, template, at(21))
        step.refresh_from_db()
        run.assert_not_called()
        self.assertEqual(step.scheduled_for, at(24, 9))  # Thursday, 09:00
        self.assertEqual(Timer.objects.get(key=f"step:{step.pk}:send").due_at, at(24, 9))
        # Neither the sweep nor a stray run sends it early.
        with clock(at(23, 16)), mock.patch(RUN) as early:
            timers.sweep(at(23, 16))
            engine.run_step(step.pk)
        early.assert_not_called()
        self.assertFalse(self.sent(step).exists())
        with clock(at(24, 9, 1)), mock.patch(RUN) as due, mock.patch(DELIVER):
            timers.sweep(at(24, 9, 1))
            due.assert_called_once_with(step.pk)
            engine.run_step(step.pk)
        step.refresh_from_db()
        self.assertEqual(step.status, "done")
        self.assertIsNone(step.scheduled_for)
        self.assertEqual(self.sent(step).count(), 1)

    def test_days_after_the_step_before_skip_the_christmas_weekend(self) -> None:
        template = self.make_template(
            {"type": "simple", "name": "Prepare"},
            {**EMAIL, "name": "Send", "send_rule": "after_ready", "send_days": 1, "after": [0]},
        )
        (prepare, send), _ = self.attach(self.task(), template, at(21))
        with clock(at(24, 15)), mock.patch(RUN) as run:
            engine.complete_step(prepare, actor=self.staff)
        run.assert_not_called()
        send.refresh_from_db()
        # Fri 25 (Christmas), Sat 26, Sun 27, Mon 28 (Boxing Day substitute): Tuesday 29.
        self.assertEqual(send.scheduled_for, at(29, 9))
        page_event = ActivityEvent.objects.filter(verb="step.scheduled", object_id=send.pk).get()
        self.assertIn("Tue 29 Dec, 09:00", page_event.summary)
        self.assertIn("Fri 25 Dec is Christmas Day", page_event.summary)

    def test_on_the_start_date_and_a_passed_moment_goes_out_inside_sending_hours(self) -> None:
        template = self.make_template({**EMAIL, "send_rule": "on_start"})
        task = self.task(start_date=dt.date(2026, 12, 4))  # a Friday, already past
        (step,), run = self.attach(task, template, at(7, 20))  # Monday evening
        step.refresh_from_db()
        run.assert_not_called()
        self.assertEqual(step.scheduled_for, at(8, 9))  # the next morning's hours
        (step2,), run2 = self.attach(
            self.task(start_date=dt.date(2026, 12, 4)), template, at(7, 11)
        )
        run2.assert_called_once_with(step2.pk)  # inside today's hours: at once

    def test_the_assignee_can_send_now_or_reschedule_from_the_panel(self) -> None:
        template = self.make_template({**EMAIL, "send_rule": "before_due", "send_days": 5})
        task = self.task(due_date=dt.date(2026, 12, 18))
        (step,), _ = self.attach(task, template, at(7))
        step.refresh_from_db()
        self.assertEqual(step.scheduled_for, at(11, 9))
        with clock(at(7, 12)):
            self.client.force_login(self.staff)
            panel = self.client.get(
                f"/workflows/tasks/{task.pk}/focus/", headers={"HX-Request": "true"}
            )
            self.assertContains(panel, "Fri 11 Dec, 09:00")
            bad = self.client.post(
                f"/workflows/steps/{step.pk}/reschedule/",
                {"when": "2026-12-01T09:00"},
                headers={"HX-Request": "true"},
            )
            self.assertContains(bad, "Choose a time in the future")
            junk = self.client.post(
                f"/workflows/steps/{step.pk}/reschedule/",
                {"when": "soon"},
                headers={"HX-Request": "true"},
            )
            self.assertContains(junk, "Give the date and time")
            step.refresh_from_db()
            self.assertEqual(step.scheduled_for, at(11, 9))
            self.client.post(
                f"/workflows/steps/{step.pk}/reschedule/", {"when": "2026-12-15T14:30"}
            )
            step.refresh_from_db()
            self.assertEqual(step.scheduled_for, at(15, 14, 30))
            self.assertEqual(Timer.objects.get(key=f"step:{step.pk}:send").due_at, at(15, 14, 30))
            with mock.patch(RUN) as run, self.captureOnCommitCallbacks(execute=True):
                self.client.post(f"/workflows/steps/{step.pk}/send-now/")
            run.assert_called_once_with(step.pk)
            step.refresh_from_db()
            self.assertIsNone(step.scheduled_for)
            self.assertFalse(Timer.objects.filter(key=f"step:{step.pk}:send").exists())
            again = self.client.post(
                f"/workflows/steps/{step.pk}/send-now/", headers={"HX-Request": "true"}
            )
            self.assertContains(again, "is not waiting to be sent")

    def test_another_practices_step_cannot_be_sent_or_moved(self) -> None:
        template = self.make_template({**EMAIL, "send_rule": "before_due", "send_days": 5})
        (step,), _ = self.attach(self.task(due_date=dt.date(2026, 12, 18)), template, at(7))
        with clock(at(7, 12)):
            self.client.force_login(self.outsider)
            self.assertEqual(
                self.client.post(f"/workflows/steps/{step.pk}/send-now/").status_code, 404
            )
            r = self.client.post(
                f"/workflows/steps/{step.pk}/reschedule/", {"when": "2026-12-15T14:30"}
            )
            self.assertEqual(r.status_code, 404)
        step.refresh_from_db()
        self.assertEqual(step.scheduled_for, at(11, 9))

    def test_skipping_a_waiting_step_cancels_its_send(self) -> None:
        template = self.make_template({**EMAIL, "send_rule": "before_due", "send_days": 5})
        (step,), _ = self.attach(self.task(due_date=dt.date(2026, 12, 18)), template, at(7))
        with clock(at(8)):
            engine.skip_step(step, actor=self.staff)
        step.refresh_from_db()
        self.assertIsNone(step.scheduled_for)
        self.assertFalse(Timer.objects.filter(key=scheduling.send_key(step)).exists())

    def test_a_task_due_date_change_moves_a_waiting_send(self) -> None:
        template = self.make_template({**EMAIL, "send_rule": "before_due", "send_days": 2})
        task = self.task(due_date=dt.date(2026, 12, 18))
        (step,), _ = self.attach(task, template, at(7))
        with clock(at(8)):
            core_engine.update_task(task, actor=self.manager, due_date=dt.date(2026, 12, 23))
        step.refresh_from_db()
        self.assertEqual(step.scheduled_for, at(21, 9))

    def test_only_automatic_steps_that_send_may_wait_for_a_date(self) -> None:
        template = building.create_template(practice=self.practice, actor=self.manager, name="T")
        with self.assertRaises(building.TemplateError) as caught:
            building.add_step(
                template.groups.get(),
                actor=self.manager,
                name="Manual",
                **{**EMAIL, "mode": "manual", "send_rule": "before_due"},
            )
        self.assertIn("Only automatic steps", str(caught.exception.errors))


class SendingMomentTests(BaseTestCase):
    def test_it_keeps_a_future_day_and_moves_a_passed_one_into_the_hours(self) -> None:
        p = self.practice
        self.assertEqual(sending_moment(p, dt.date(2026, 12, 10), at(7)), at(10, 9))
        self.assertEqual(sending_moment(p, dt.date(2026, 12, 7), at(7, 8)), at(7, 9))
        self.assertEqual(sending_moment(p, dt.date(2026, 12, 7), at(7, 12)), at(7, 12))
        self.assertEqual(sending_moment(p, dt.date(2026, 12, 24), at(24, 18)), at(29, 9))


class DryRunTimelineTests(TimingCase):
    """The timeline of a five-step template is what goes out when the clock runs through it."""

    def five_step_template(self):
        return self.make_template(
            {**EMAIL, "name": "Welcome", "subject": "Welcome, {{ client.name }}"},
            {
                **EMAIL,
                "name": "Records reminder",
                "subject": "Your records",
                "send_rule": "after_ready",
                "send_days": 3,
                "after": [0],
            },
            {
                "name": "Confirm entries",
                "type": "client_confirmation",
                "mode": "automatic",
                "to_recipients": ["contact:main"],
                "after": [1],
                "settings": {
                    "message": "All entries are in.",
                    "button_text": "Confirm",
                    "thank_you": "Thanks!",
                    "chase": {"enabled": True, "every_days": 3, "max_times": 2},
                },
            },
            {"name": "Prepare accounts", "type": "simple"},
            {**EMAIL, "name": "Accounts ready", "subject": "Accounts ready", "after": [3]},
        )

    def run_clock(self, start, end, step_by=dt.timedelta(hours=1)):
        """Sweep every hour like beat, run what is enqueued like a worker; return
        {outbox key: the tick it first appeared at}."""
        seen: dict[str, dt.datetime] = {}
        tick = start
        while tick <= end:
            with clock(tick), mock.patch(DELIVER):
                pending = []
                with (
                    mock.patch(RUN, side_effect=pending.append),
                    self.captureOnCommitCallbacks(execute=True),
                ):
                    timers.sweep(tick)
                while pending:
                    step_id = pending.pop(0)
                    with (
                        mock.patch(RUN, side_effect=pending.append),
                        self.captureOnCommitCallbacks(execute=True),
                    ):
                        engine.run_step(step_id)
            for key in OutboundMessage.objects.values_list("idempotency_key", flat=True):
                seen.setdefault(key, tick)
            tick += step_by
        return seen

    def test_the_timeline_matches_what_is_sent(self) -> None:
        template = self.five_step_template()
        task = self.task(due_date=dt.date(2026, 12, 31))
        t0 = at(7, 10)
        with clock(t0):
            from workflows import timeline

            predicted = timeline.for_template(template, task)
        words = [(e.step.name, e.kind, e.when or f"after {e.after}") for e in predicted]
        self.assertEqual(
            words,
            [
                ("Welcome", "send", "Mon 7 Dec, 10:00"),
                ("Records reminder", "send", "Thu 10 Dec, 09:00"),
                ("Confirm entries", "send", "Thu 10 Dec, 09:00"),
                ("Confirm entries", "chase", "Sun 13 Dec, 09:00"),
                ("Confirm entries", "chase", "Wed 16 Dec, 09:00"),
                ("Prepare accounts", "person", "after "),
                ("Accounts ready", "send", "after “Prepare accounts” is done"),
            ],
        )
        self.assertEqual(predicted[0].draft.subject, "Welcome, Acme Ltd")
        self.assertEqual(predicted[0].draft.to, ["ann@acme.example"])

        # Attach for real at t0 and let the clock run for ten days.
        pending = []
        with (
            clock(t0),
            mock.patch(RUN, side_effect=pending.append),
            self.captureOnCommitCallbacks(execute=True),
        ):
            steps = attach.attach_template(task, template, actor=self.manager)
        with clock(t0), mock.patch(DELIVER), mock.patch(RUN, side_effect=pending.append):
            while pending:
                with self.captureOnCommitCallbacks(execute=True):
                    engine.run_step(pending.pop(0))
        by_source = {s.source_id: s for s in steps}
        seen = self.run_clock(t0, at(17, 10))

        expected = {}
        for e in predicted:
            if e.moment is None:
                continue
            step = by_source[e.step.pk]
            suffix = {
                "send": "open" if step.is_client_facing else "send",
                "chase": f"chase:{e.number}",
            }[e.kind]
            expected[f"step:{step.pk}:{suffix}"] = e.moment
        self.assertEqual({k: v for k, v in seen.items() if k.startswith("step:")}, expected)
        for e in predicted:
            if e.kind == "send" and e.moment:
                message = OutboundMessage.objects.get(
                    idempotency_key__startswith=f"step:{by_source[e.step.pk].pk}:",
                    idempotency_key__regex=r":(send|open)$",
                )
                self.assertEqual((message.subject, message.to), (e.draft.subject, e.draft.to))
        # What waits on a person sent nothing; once done, the task's timeline has it next.
        accounts_ready = by_source[predicted[-1].step.pk]
        self.assertFalse(self.sent(accounts_ready).exists())
        with clock(at(17, 11)):
            engine.complete_step(by_source[predicted[-2].step.pk], actor=self.staff)
            from workflows import timeline

            after = [e for e in timeline.for_task(task) if e.step.pk == accounts_ready.pk]
        self.assertEqual([(e.kind, e.when) for e in after], [("send", "Thu 17 Dec, 11:00")])

    def test_the_pages_show_the_timeline_and_hide_other_practices(self) -> None:
        template = self.five_step_template()
        task = self.task(due_date=dt.date(2026, 12, 31))
        with clock(at(7, 10)):
            self.client.force_login(self.manager)
            page = self.client.get(f"/workflows/templates/{template.pk}/timeline/?task={task.pk}")
            self.assertContains(page, "Thu 10 Dec, 09:00")
            self.assertContains(page, "After “Prepare accounts” is done")
            self.assertContains(page, "Welcome, Acme Ltd")
            empty = self.client.get(f"/workflows/templates/{template.pk}/timeline/")
            self.assertContains(empty, "Choose a task")
            self.assertFalse(Step.objects.filter(task=task).exists())  # a dry run writes nothing
            rival = f.TaskFactory(client=self.other_client)
            r = self.client.get(f"/workflows/templates/{template.pk}/timeline/?task={rival.pk}")
            self.assertEqual(r.status_code, 404)
            self.client.force_login(self.outsider)
            self.assertEqual(
                self.client.get(f"/workflows/templates/{template.pk}/timeline/").status_code, 404
            )
            self.assertEqual(
                self.client.get(f"/workflows/tasks/{task.pk}/timeline/").status_code, 404
            )
