"""The AR workflow builder's writes: actions of every kind and their refusals, the chain,
clone, delete, ON/OFF, the default workflow and the prebuilt workflows."""

from __future__ import annotations

from collections_ar import engine, statuses
from collections_ar.builder import editing, prebuilt, rules
from collections_ar.errors import ARError
from collections_ar.models import ARAction, ARWorkflow, CollectionStatus, Customer
from sodium.models import ActivityEvent, ContentBlock
from sodium.schedules.practice import today_for
from tests import factories as f
from tests.collections_ar.ar_helpers import ARTestCase

K = ARAction.Kind
B = ARAction.Base
W = ARWorkflow.State

EMAIL_BODY = "Dear {{ customer.name }}, you owe {{ customer.balance }}."
LONG_SMS = "x" * (160 * 7)  # well over six GSM segments


class BuilderTestCase(ARTestCase):
    def workflow(self, name: str = "Chase", **kw) -> ARWorkflow:
        return editing.create_workflow(self.practice, actor=self.owner, name=name, **kw)

    def status(self, name: str = "Reminded") -> CollectionStatus:
        return CollectionStatus.objects.get(practice=self.practice, name=name)

    def block(self, name: str, channel: str, body: str, subject: str = "") -> ContentBlock:
        return ContentBlock.objects.create(
            practice=self.practice, name=name, channel=channel, subject=subject, body=body
        )

    def email(self, wf: ARWorkflow, days: int = 0, **kw) -> ARAction:
        kw.setdefault("subject", "About {{ customer.name }}")
        kw.setdefault("body", EMAIL_BODY)
        return editing.add_action(wf, actor=self.owner, kind=K.EMAIL, days=days, **kw)

    def n_actions(self, wf: ARWorkflow | None = None) -> int:
        qs = ARAction.objects.filter(practice=self.practice)
        return qs.filter(workflow=wf).count() if wf else qs.count()

    def refused(self, wf: ARWorkflow, field: str, **fields) -> str:
        before = self.n_actions()
        with self.assertRaises(ARError) as ctx:
            editing.add_action(wf, actor=self.owner, **fields)
        self.assertIn(field, ctx.exception.errors, ctx.exception.errors)
        self.assertEqual(self.n_actions(), before, "nothing is written after a refusal")
        return ctx.exception.errors[field]

    def put_on(self, wf: ARWorkflow, customer: Customer | None = None) -> Customer:
        customer = customer or self.customer
        Customer.objects.filter(pk=customer.pk).update(workflow=wf)
        customer.refresh_from_db()
        return customer


class ActionKindTests(BuilderTestCase):
    def test_a_note_keeps_its_body(self) -> None:
        wf = self.workflow()
        a = editing.add_action(
            wf, actor=self.owner, kind=K.NOTE, days=2, body="Look at {{ customer.name }}"
        )
        a.refresh_from_db()
        self.assertEqual((a.kind, a.days, a.base, a.position), (K.NOTE, 2, B.ASSIGNED, 0))
        self.assertEqual(a.body, "Look at {{ customer.name }}")
        self.assertIsNone(a.user)

    def test_a_call_keeps_its_instructions_and_drops_fields_it_does_not_use(self) -> None:
        wf = self.workflow()
        a = editing.add_action(
            wf,
            actor=self.owner,
            kind=K.CALL,
            days=4,
            body="Ask when it will be paid",
            subject="ignored",
            collection_status=self.status(),
            user=self.ar_specialist,
        )
        a.refresh_from_db()
        self.assertEqual(a.body, "Ask when it will be paid")
        self.assertEqual(a.subject, "")
        self.assertIsNone(a.collection_status)
        self.assertIsNone(a.user)

    def test_an_email_written_inline(self) -> None:
        wf = self.workflow()
        a = self.email(wf, days=3, base=B.AFTER_DUE)
        a.refresh_from_db()
        self.assertEqual(a.subject, "About {{ customer.name }}")
        self.assertEqual(a.body, EMAIL_BODY)
        self.assertEqual(a.base, B.AFTER_DUE)
        self.assertIsNone(a.content_block)

    def test_an_email_from_a_content_block_clears_the_inline_text(self) -> None:
        wf = self.workflow()
        block = self.block("Reminder", ContentBlock.Channel.EMAIL, EMAIL_BODY, "Hello")
        a = editing.add_action(
            wf, actor=self.owner, kind=K.EMAIL, days=0, content_block=block, body="stale text"
        )
        a.refresh_from_db()
        self.assertEqual(a.content_block, block)
        self.assertEqual((a.subject, a.body), ("", ""))

    def test_an_sms_written_inline(self) -> None:
        wf = self.workflow()
        a = editing.add_action(
            wf, actor=self.owner, kind=K.SMS, days=1, body="{{ customer.balance }} is overdue"
        )
        a.refresh_from_db()
        self.assertEqual(a.body, "{{ customer.balance }} is overdue")
        self.assertIsNone(a.content_block)

    def test_an_sms_from_an_sms_block(self) -> None:
        wf = self.workflow()
        block = self.block("Nudge", ContentBlock.Channel.SMS, "Please pay {{ customer.balance }}")
        a = editing.add_action(wf, actor=self.owner, kind=K.SMS, days=1, content_block=block)
        a.refresh_from_db()
        self.assertEqual(a.content_block, block)
        self.assertEqual(a.body, "")

    def test_a_status_action_names_its_status(self) -> None:
        wf = self.workflow()
        a = editing.add_action(
            wf, actor=self.owner, kind=K.STATUS, days=0, collection_status=self.status()
        )
        a.refresh_from_db()
        self.assertEqual(a.collection_status, self.status())

    def test_notify_with_and_without_a_user(self) -> None:
        wf = self.workflow()
        told = editing.add_action(
            wf, actor=self.owner, kind=K.NOTIFY, days=0, user=self.ar_manager, body="Look"
        )
        nobody = editing.add_action(wf, actor=self.owner, kind=K.NOTIFY, days=1)
        told.refresh_from_db()
        nobody.refresh_from_db()
        self.assertEqual((told.user, told.body), (self.ar_manager, "Look"))
        self.assertIsNone(nobody.user)
        self.assertEqual([told.position, nobody.position], [0, 1])

    def test_assign_names_the_new_specialist(self) -> None:
        wf = self.workflow()
        a = editing.add_action(wf, actor=self.owner, kind=K.ASSIGN, days=0, user=self.ar_specialist)
        a.refresh_from_db()
        self.assertEqual(a.user, self.ar_specialist)
        self.assertTrue(
            ActivityEvent.objects.filter(verb="ar.action.added", object_id=wf.pk).exists()
        )


class ActionRefusalTests(BuilderTestCase):
    def test_an_email_with_no_template(self) -> None:
        wf = self.workflow()
        message = self.refused(wf, "body", kind=K.EMAIL, days=0, subject="Hi", body="")
        self.assertIn("no template", message)

    def test_an_email_with_an_unknown_variable_is_refused_naming_it(self) -> None:
        wf = self.workflow()
        message = self.refused(
            wf, "body", kind=K.EMAIL, days=0, subject="Hi", body="Hello {{ nope.x }}"
        )
        self.assertIn("nope.x", message)

    def test_an_email_block_for_an_sms_action(self) -> None:
        wf = self.workflow()
        block = self.block("Letter", ContentBlock.Channel.EMAIL, EMAIL_BODY, "Hi")
        message = self.refused(wf, "content_block", kind=K.SMS, days=0, content_block=block)
        self.assertIn("is an email, not a text message", message)

    def test_an_sms_over_six_segments(self) -> None:
        wf = self.workflow()
        message = self.refused(wf, "body", kind=K.SMS, days=0, body=LONG_SMS)
        self.assertIn("keep it to 6", message)

    def test_an_sms_block_over_six_segments_is_refused_too(self) -> None:
        # The six-segment limit is the action's, whichever way its text is given.
        wf = self.workflow()
        block = self.block("Essay", ContentBlock.Channel.SMS, LONG_SMS)
        message = self.refused(wf, "content_block", kind=K.SMS, days=0, content_block=block)
        self.assertIn("segments", message)

    def test_six_segments_are_allowed(self) -> None:
        wf = self.workflow()
        editing.add_action(wf, actor=self.owner, kind=K.SMS, days=0, body="x" * (153 * 6))
        self.assertEqual(self.n_actions(wf), 1)

    def test_a_status_action_with_no_status(self) -> None:
        wf = self.workflow()
        self.refused(wf, "collection_status", kind=K.STATUS, days=0)

    def test_assign_with_no_user_or_a_staff_member(self) -> None:
        wf = self.workflow()
        self.refused(wf, "user", kind=K.ASSIGN, days=0)
        message = self.refused(wf, "user", kind=K.ASSIGN, days=0, user=self.staff)
        self.assertIn("cannot be an AR specialist", message)

    def test_366_days(self) -> None:
        wf = self.workflow()
        message = self.refused(wf, "days", kind=K.NOTE, days=366, body="Too late")
        self.assertIn("0 to 365", message)
        editing.add_action(wf, actor=self.owner, kind=K.NOTE, days=365, body="Just in time")
        self.assertEqual(self.n_actions(wf), 1)

    def test_a_change_that_is_refused_saves_nothing(self) -> None:
        wf = self.workflow()
        a = self.email(wf)
        with self.assertRaises(ARError):
            editing.update_action(a, actor=self.owner, days=1, subject="Hi", body="")
        a.refresh_from_db()
        self.assertEqual((a.days, a.body), (0, EMAIL_BODY))


class SmsAudienceTests(BuilderTestCase):
    def test_sms_refused_while_a_customer_cannot_be_texted(self) -> None:
        wf = self.workflow()
        self.put_on(wf)
        contact = f.ContactFactory(client=self.acme, mobile="", is_main=True)
        with self.assertRaises(ARError) as ctx:
            editing.add_action(wf, actor=self.owner, kind=K.SMS, days=0, body="Please pay")
        message = ctx.exception.errors["__all__"]
        self.assertIn("Acme Widgets", message)
        self.assertIn("cannot be texted", message)
        self.assertEqual(self.n_actions(wf), 0)
        contact.mobile = "07700 900123"
        contact.save()
        editing.add_action(wf, actor=self.owner, kind=K.SMS, days=0, body="Please pay")
        self.assertEqual(self.n_actions(wf), 1)

    def test_a_customer_with_no_contact_at_all_is_refused(self) -> None:
        wf = self.workflow()
        self.put_on(wf)
        with self.assertRaises(ARError) as ctx:
            editing.add_action(wf, actor=self.owner, kind=K.SMS, days=0, body="Please pay")
        self.assertIn("no collections contact", ctx.exception.errors["__all__"])


class CloneTests(BuilderTestCase):
    def test_clone_copies_the_actions_in_order_off_with_no_customers(self) -> None:
        wf = self.workflow("X", description="The X one")
        self.email(wf, days=0)
        editing.add_action(
            wf, actor=self.owner, kind=K.STATUS, days=2, collection_status=self.status()
        )
        editing.add_action(
            wf, actor=self.owner, kind=K.NOTIFY, days=5, base=B.AFTER_DUE, user=self.ar_manager
        )
        engine.switch_workflow(wf, actor=self.owner, on=True)
        self.put_on(wf)

        copy = editing.clone_workflow(wf, actor=self.owner)

        copy.refresh_from_db()
        self.assertEqual(copy.name, "Copy of X")
        self.assertEqual(copy.description, "The X one")
        self.assertEqual(copy.state, W.OFF)
        self.assertFalse(copy.is_default)
        self.assertEqual(Customer.objects.filter(workflow=copy).count(), 0)
        self.assertEqual(Customer.objects.filter(workflow=wf).count(), 1)

        def shape(w):
            return [
                (
                    a.position,
                    a.kind,
                    a.base,
                    a.days,
                    a.subject,
                    a.body,
                    a.content_block_id,
                    a.collection_status_id,
                    a.user_id,
                )
                for a in ARAction.objects.filter(workflow=w).order_by("position", "id")
            ]

        self.assertEqual(len(shape(copy)), 3)
        self.assertEqual(shape(copy), shape(wf))
        self.assertEqual(
            [a.kind for a in ARAction.objects.filter(workflow=copy)], [K.EMAIL, K.STATUS, K.NOTIFY]
        )

    def test_cloning_twice_numbers_the_copy(self) -> None:
        wf = self.workflow("X")
        first = editing.clone_workflow(wf, actor=self.owner)
        second = editing.clone_workflow(wf, actor=self.owner)
        self.assertEqual(first.name, "Copy of X")
        self.assertEqual(second.name, "Copy of X (2)")


class ChainTests(BuilderTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.a = self.workflow("A")
        self.b = self.workflow("B")
        self.c = self.workflow("C")

    def chain(self, wf: ARWorkflow, target: ARWorkflow | None) -> ARWorkflow:
        return editing.update_workflow(
            wf, actor=self.owner, name=wf.name, description=wf.description, continue_with=target
        )

    def continues(self, wf: ARWorkflow) -> int | None:
        return ARWorkflow.objects.get(pk=wf.pk).continue_with_id

    def test_a_to_b_is_fine(self) -> None:
        self.chain(self.a, self.b)
        self.assertEqual(self.continues(self.a), self.b.pk)

    def test_b_to_a_is_refused_when_a_continues_with_b(self) -> None:
        self.chain(self.a, self.b)
        with self.assertRaises(ARError) as ctx:
            self.chain(self.b, self.a)
        message = ctx.exception.errors["continue_with"]
        # The loop is named from the workflow being saved (B), round and back to it.
        self.assertEqual(message, "That would make a loop: B → A → B. Choose another workflow.")
        self.assertIsNone(self.continues(self.b))

    def test_a_three_long_loop_is_refused_naming_every_workflow(self) -> None:
        self.chain(self.a, self.b)
        self.chain(self.b, self.c)
        with self.assertRaises(ARError) as ctx:
            self.chain(self.c, self.a)
        message = ctx.exception.errors["continue_with"]
        self.assertIn("C → A → B → C", message)
        self.assertIsNone(self.continues(self.c))

    def test_continuing_with_itself_is_refused(self) -> None:
        with self.assertRaises(ARError) as ctx:
            editing.update_workflow(
                self.a, actor=self.owner, name="A renamed", description="", continue_with=self.a
            )
        self.assertIn("itself", ctx.exception.errors["continue_with"])
        a = ARWorkflow.objects.get(pk=self.a.pk)
        self.assertEqual((a.name, a.continue_with_id), ("A", None))

    def test_a_refused_loop_saves_no_other_change_either(self) -> None:
        self.chain(self.a, self.b)
        with self.assertRaises(ARError):
            editing.update_workflow(
                self.b, actor=self.owner, name="B2", description="new", continue_with=self.a
            )
        b = ARWorkflow.objects.get(pk=self.b.pk)
        self.assertEqual((b.name, b.description, b.continue_with_id), ("B", "", None))


class SwitchTests(BuilderTestCase):
    def test_on_with_no_actions_is_refused(self) -> None:
        wf = self.workflow()
        with self.assertRaises(ARError) as ctx:
            engine.switch_workflow(wf, actor=self.owner, on=True)
        self.assertIn("at least one action", ctx.exception.errors["__all__"])
        self.assertEqual(ARWorkflow.objects.get(pk=wf.pk).state, W.OFF)

    def test_on_with_an_incomplete_action_is_refused(self) -> None:
        wf = self.workflow()
        ARAction.objects.create(practice=self.practice, workflow=wf, kind=K.EMAIL, body="")
        with self.assertRaises(ARError) as ctx:
            engine.switch_workflow(wf, actor=self.owner, on=True)
        self.assertIn("Action 1", ctx.exception.errors["__all__"])
        self.assertIn("no template", ctx.exception.errors["__all__"])
        self.assertEqual(ARWorkflow.objects.get(pk=wf.pk).state, W.OFF)

    def test_on_then_off_with_a_complete_action(self) -> None:
        wf = self.workflow()
        self.email(wf)
        before = ActivityEvent.objects.filter(practice=self.practice).count()
        engine.switch_workflow(wf, actor=self.owner, on=True)
        self.assertEqual(ARWorkflow.objects.get(pk=wf.pk).state, W.ON)
        event = ActivityEvent.objects.filter(practice=self.practice).order_by("-id").first()
        self.assertEqual(ActivityEvent.objects.filter(practice=self.practice).count(), before + 1)
        self.assertEqual(event.object_id, wf.pk)
        self.assertEqual(event.actor, self.owner)
        self.assertEqual(event.verb, "ar.workflow.state")
        self.assertEqual(event.new_status, W.ON)
        self.assertIn("ON", event.summary)
        engine.switch_workflow(wf, actor=self.owner, on=False)
        self.assertEqual(ARWorkflow.objects.get(pk=wf.pk).state, W.OFF)
        self.assertEqual(ActivityEvent.objects.filter(practice=self.practice).count(), before + 2)

    def test_the_default_workflow_cannot_go_off(self) -> None:
        wf = self.workflow()
        self.email(wf)
        wf = engine.switch_workflow(wf, actor=self.owner, on=True)
        editing.set_default_workflow(wf, self.practice, actor=self.owner)
        with self.assertRaises(ARError) as ctx:
            engine.switch_workflow(wf, actor=self.owner, on=False)
        self.assertIn("default", ctx.exception.errors["__all__"])
        self.assertEqual(ARWorkflow.objects.get(pk=wf.pk).state, W.ON)

    def test_an_off_workflow_cannot_be_the_default(self) -> None:
        wf = self.workflow()
        with self.assertRaises(ARError):
            editing.set_default_workflow(wf, self.practice, actor=self.owner)
        self.assertFalse(ARWorkflow.objects.get(pk=wf.pk).is_default)

    def test_a_workflow_switched_off_meanwhile_cannot_be_made_the_default(self) -> None:
        # The page that offers "Make default" read the workflow while it was ON; someone
        # switched it OFF since. The default must still never be an OFF workflow.
        wf = self.workflow()
        self.email(wf)
        seen_on = engine.switch_workflow(wf, actor=self.owner, on=True)
        engine.switch_workflow(ARWorkflow.objects.get(pk=wf.pk), actor=self.owner, on=False)
        with self.assertRaises(ARError):
            editing.set_default_workflow(seen_on, self.practice, actor=self.owner)
        row = ARWorkflow.objects.get(pk=wf.pk)
        self.assertEqual((row.state, row.is_default), (W.OFF, False))


class ActionOrderTests(BuilderTestCase):
    def test_the_last_action_of_an_on_workflow_cannot_be_deleted(self) -> None:
        wf = self.workflow()
        a = self.email(wf)
        engine.switch_workflow(wf, actor=self.owner, on=True)
        with self.assertRaises(ARError) as ctx:
            editing.delete_action(a, actor=self.owner)
        self.assertIn("at least one action", ctx.exception.errors["__all__"])
        self.assertEqual(self.n_actions(wf), 1)

    def test_an_action_of_an_on_workflow_with_others_can_go(self) -> None:
        wf = self.workflow()
        a = self.email(wf)
        self.email(wf, days=3)
        engine.switch_workflow(wf, actor=self.owner, on=True)
        editing.delete_action(a, actor=self.owner)
        self.assertEqual(self.n_actions(wf), 1)

    def test_move_reorders(self) -> None:
        wf = self.workflow()
        first = editing.add_action(wf, actor=self.owner, kind=K.NOTE, days=0, body="one")
        second = editing.add_action(wf, actor=self.owner, kind=K.NOTE, days=0, body="two")
        third = editing.add_action(wf, actor=self.owner, kind=K.NOTE, days=0, body="three")

        def order():
            return list(ARAction.objects.filter(workflow=wf).values_list("body", flat=True))

        editing.move_action(third, actor=self.owner, up=True)
        self.assertEqual(order(), ["one", "three", "two"])
        editing.move_action(first, actor=self.owner, up=False)
        self.assertEqual(order(), ["three", "one", "two"])
        editing.move_action(ARAction.objects.get(pk=third.pk), actor=self.owner, up=True)
        self.assertEqual(order(), ["three", "one", "two"])  # already first
        self.assertEqual(
            list(ARAction.objects.filter(workflow=wf).values_list("position", flat=True)),
            [0, 1, 2],
        )
        self.assertEqual(ARAction.objects.get(pk=second.pk).position, 2)


class DeleteTests(BuilderTestCase):
    def test_delete_refused_while_customers_are_on_it(self) -> None:
        wf = self.workflow()
        self.put_on(wf)
        with self.assertRaises(ARError) as ctx:
            editing.delete_workflow(wf, actor=self.owner)
        self.assertIn("Acme Widgets", ctx.exception.errors["__all__"])
        self.assertTrue(ARWorkflow.objects.filter(pk=wf.pk).exists())

    def test_delete_refused_while_another_workflow_continues_with_it(self) -> None:
        first = self.workflow("First")
        then = self.workflow("Then")
        editing.update_workflow(
            first, actor=self.owner, name="First", description="", continue_with=then
        )
        with self.assertRaises(ARError) as ctx:
            editing.delete_workflow(then, actor=self.owner)
        self.assertIn("“First” continues with “Then”", ctx.exception.errors["__all__"])
        self.assertTrue(ARWorkflow.objects.filter(pk=then.pk).exists())

    def test_delete_takes_the_actions_with_it(self) -> None:
        wf = self.workflow()
        self.email(wf)
        editing.delete_workflow(wf, actor=self.owner)
        self.assertFalse(ARWorkflow.objects.filter(pk=wf.pk).exists())
        self.assertEqual(self.n_actions(), 0)

    def test_a_status_an_action_sets_cannot_be_deleted(self) -> None:
        wf = self.workflow("Chaser")
        status = statuses.create_status(self.practice, actor=self.owner, name="Nudged")
        editing.add_action(wf, actor=self.owner, kind=K.STATUS, days=0, collection_status=status)
        with self.assertRaises(ARError) as ctx:
            statuses.delete_status(status, actor=self.owner)
        self.assertIn("Chaser", ctx.exception.errors["__all__"])
        self.assertTrue(CollectionStatus.objects.filter(pk=status.pk).exists())


class DefaultWorkflowTests(BuilderTestCase):
    def on_workflow(self, name: str) -> ARWorkflow:
        wf = self.workflow(name)
        self.email(wf)
        return engine.switch_workflow(wf, actor=self.owner, on=True)

    def test_a_new_invoice_puts_a_customer_with_none_on_the_default(self) -> None:
        wf = self.on_workflow("Standard")
        editing.set_default_workflow(wf, self.practice, actor=self.owner)
        self.assertIsNone(Customer.objects.get(pk=self.customer.pk).workflow_id)
        self.invoice("INV-1")
        customer = Customer.objects.get(pk=self.customer.pk)
        self.assertEqual(customer.workflow_id, wf.pk)
        self.assertEqual(customer.workflow_assigned_on, today_for(self.practice))

    def test_a_customer_already_on_a_workflow_keeps_it(self) -> None:
        standard = self.on_workflow("Standard")
        special = self.on_workflow("Special")
        editing.set_default_workflow(standard, self.practice, actor=self.owner)
        self.put_on(special)
        self.invoice("INV-1")
        self.assertEqual(Customer.objects.get(pk=self.customer.pk).workflow_id, special.pk)

    def test_no_default_no_workflow(self) -> None:
        self.on_workflow("Standard")
        self.invoice("INV-1")
        customer = Customer.objects.get(pk=self.customer.pk)
        self.assertIsNone(customer.workflow_id)
        self.assertIsNone(customer.workflow_assigned_on)

    def test_only_one_default(self) -> None:
        one = self.on_workflow("One")
        two = self.on_workflow("Two")
        editing.set_default_workflow(one, self.practice, actor=self.owner)
        editing.set_default_workflow(two, self.practice, actor=self.owner)
        self.assertEqual(
            list(
                ARWorkflow.objects.filter(practice=self.practice, is_default=True).values_list(
                    "name", flat=True
                )
            ),
            ["Two"],
        )


class PrebuiltTests(BuilderTestCase):
    def test_three_prebuilt_workflows_off_and_chained(self) -> None:
        made = prebuilt.ensure_prebuilt_workflows(self.practice)
        self.assertEqual([w.name for w in made], ["Gentle reminder", "Firm", "Final notice"])
        gentle, firm, final = (ARWorkflow.objects.get(pk=w.pk) for w in made)
        self.assertEqual({gentle.state, firm.state, final.state}, {W.OFF})
        self.assertEqual(gentle.continue_with_id, firm.pk)
        self.assertEqual(firm.continue_with_id, final.pk)
        self.assertIsNone(final.continue_with_id)
        for wf in (gentle, firm, final):
            self.assertGreater(self.n_actions(wf), 0, wf.name)

    def test_running_it_twice_adds_none(self) -> None:
        prebuilt.ensure_prebuilt_workflows(self.practice)
        workflows = ARWorkflow.objects.filter(practice=self.practice).count()
        actions = self.n_actions()
        again = prebuilt.ensure_prebuilt_workflows(self.practice)
        self.assertEqual(len(again), 3)
        self.assertEqual(ARWorkflow.objects.filter(practice=self.practice).count(), workflows)
        self.assertEqual(self.n_actions(), actions)

    def test_every_prebuilt_can_be_switched_on(self) -> None:
        for wf in prebuilt.ensure_prebuilt_workflows(self.practice):
            with self.subTest(wf=wf.name):
                actions = ARAction.objects.filter(workflow=wf)
                self.assertEqual(rules.not_ready(wf, actions), [])
                engine.switch_workflow(wf, actor=self.owner, on=True)
                self.assertEqual(ARWorkflow.objects.get(pk=wf.pk).state, W.ON)

    def test_they_stay_in_their_practice(self) -> None:
        prebuilt.ensure_prebuilt_workflows(self.practice)
        self.assertEqual(ARWorkflow.objects.filter(practice=self.other_practice).count(), 0)


class NotifyRoleTests(BuilderTestCase):
    def test_notify_refuses_a_member_who_does_not_work_ar(self) -> None:
        wf = self.workflow()
        message = self.refused(wf, "user", kind=K.NOTIFY, days=0, user=self.staff)
        self.assertIn("does not work accounts receivable", message)
