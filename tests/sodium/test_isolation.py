"""Walk every URL pattern of the project with another practice's object ids.

New URLs are picked up by themselves: a URL with an id parameter this test does not know
fails the test until it is taught which object that parameter names.
"""

from __future__ import annotations

from collections.abc import Iterator

import anymail.urls
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from django_scopes import scopes_disabled

import portal.urls
from checks.models import CustomCheck, Finding, FlowRun, FlowTemplate, LedgerImport
from portal import files
from portal.models import DocumentRequest, Submission
from sodium.models import ActivityEvent, OutboundMessage, Recurrence
from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.wf_factories import chain_template
from workflows import attach, building

# URLs that take no practice object and need no sign-in (or are the sign-in itself).
PUBLIC = {
    "sodium:login",
    "sodium:logout",
    "sodium:forgot-password",
    "sodium:set-password",
    "sodium:practice-logo",
    # Email provider webhooks: authenticated by ANYMAIL_WEBHOOK_SECRET, not by a sign-in.
    *(f"anymail:{p.name}" for p in anymail.urls.urlpatterns),
    # The client portal: contacts sign in with emailed links, never with a staff session, so
    # staff ids mean nothing there; tests/portal covers which contact sees what.
    *(f"portal:{p.name}" for p in portal.urls.urlpatterns),
}


def walk(patterns, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str, list]]:
    """Yield (name, route, converters) for every pattern, depth first."""
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield f"{namespace}{p.name}", prefix + str(p.pattern), list(p.pattern.converters)


class IsolationTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        other = cls.other_practice
        client = cls.other_client
        with scopes_disabled():
            contact = f.ContactFactory(client=client)
            rival_step = attach.attach_template(
                f.TaskFactory(client=client),
                chain_template(other, cls.outsider),
                actor=cls.outsider,
            )[0]
            document = files.store(
                SimpleUploadedFile("rival.pdf", b"%PDF-1.4\n%%EOF\n"),
                practice_id=other.pk,
                client_id=client.pk,
            )
            request = DocumentRequest.objects.create(
                practice=other, step=rival_step, client=client, title="Rival request"
            )
            submission = Submission.objects.create(practice=other, request=request, contact=contact)
            submission.documents.add(document)
            # Template editor and content blocks
            rival_template = chain_template(other, cls.outsider)
            rival_group = rival_template.groups.get()
            rival_block = building.save_content_block(
                practice=other, actor=cls.outsider, name="Rival block", subject="s", body="b"
            )
            cls.other_ids = {
                "client_id": client.pk,
                "contact_id": contact.pk,
                "client_service_id": f.ClientServiceFactory(client=client).pk,
                "task_id": f.TaskFactory(client=client).pk,
                "membership_id": f.MembershipFactory(practice=other).pk,
                "team_id": f.TeamFactory(practice=other).pk,
                "service_id": f.ServiceFactory(practice=other).pk,
                "tag_id": f.TagFactory(practice=other).pk,
                "step_id": attach.attach_template(
                    f.TaskFactory(client=client),
                    chain_template(other, cls.outsider),
                    actor=cls.outsider,
                )[0].pk,
                "document_id": document.pk,
                "submission_id": submission.pk,
                "template_id": rival_template.pk,
                "group_id": rival_group.pk,
                "template_step_id": rival_group.steps.first().pk,
                "content_block_id": rival_block.pk,
                "finding_id": Finding.objects.create(
                    practice=other,
                    client=client,
                    check_key="lock_date",
                    fingerprint="lock-date",
                    severity="amber",
                    title="Rival finding",
                ).pk,
                # Check keys are the same in every practice; the client in the URL is not.
                "check_key": "vat",
                "run_id": _rival_run(other, client, cls.outsider),
                # A file on a run's check: only ever looked up inside the (rival) run.
                "note_id": _rival_note(other, client, cls.outsider),
                # A flow's own pages (and its runs' delete) look the flow up in the practice.
                "flow_id": FlowRun.objects.get(pk=_rival_run_id(other)).flow_id,
                "check_id": CustomCheck.objects.create(practice=other, name="Rival check").pk,
                "flow_template_id": FlowTemplate.objects.create(
                    practice=other, name="Rival Secret Template"
                ).pk,
                "import_id": LedgerImport.objects.create(
                    practice=other, client=client, file_name="rival.csv", status="ready"
                ).pk,
                "recurrence_id": Recurrence.objects.create(
                    practice=other,
                    name="Rival VAT",
                    schedule={"kind": "calendar", "frequency": "daily", "start": "2026-01-01"},
                    task_name="x",
                ).pk,
                # Built-in emails are addressed by key, the same in every practice; the page
                # shows the practice's own copy (tests/workflows/test_content_block_views.py).
                "key": "portal.not-a-built-in-email",
                # Step wizard drafts live in the session; one started in another practice is
                # refused like an unknown one (tests/workflows/test_wizard.py plants a real one).
                # The flow creator's drafts too (tests/checks/flows/test_creator.py).
                "draft_id": "rival-draft",
                "stage": "name",
                # Receivables: a customer, its invoice and a collection status of the rival.
                **_rival_receivables(other, client, cls.outsider),
                "message_id": OutboundMessage.objects.create(
                    practice=other,
                    idempotency_key="isolation:rival",
                    to=["boss@rival.example"],
                    subject="Rival Secret Message",
                    client=client,
                ).pk,
            }
            # Everything in the other practice carries a marker no page of ours may show.
            f.ContactFactory(client=client, first_name="Zebedee", last_name="Outsider")
            f.TaskFactory(client=client, name="Rival Secret Task")
            ActivityEvent.objects.create(
                practice=other, verb="x", summary="Rival Secret Event", client=client
            )
        cls.patterns = list(walk(get_resolver().url_patterns))

    def _url(self, route: str) -> str:
        url = "/" + route
        for name, value in self.other_ids.items():
            for conv in ("int", "str", "slug"):
                url = url.replace(f"<{conv}:{name}>", str(value))
        return url

    def test_it_knows_every_id_parameter(self) -> None:
        unknown = {
            (name, conv)
            for name, route, convs in self.patterns
            for conv in convs
            if conv not in self.other_ids and name not in PUBLIC
        }
        self.assertEqual(unknown, set(), "Teach the isolation test these URL parameters")

    def test_other_practices_ids_answer_404_on_every_url(self) -> None:
        self.client.force_login(self.owner)
        checked = 0
        for name, route, convs in self.patterns:
            if not convs or name in PUBLIC:
                continue
            url = self._url(route)
            before = ActivityEvent.objects.count()
            with self.subTest(url=url):
                get = self.client.get(url)
                post = self.client.post(url, {"status": "done", "role": "staff"})
                self.assertIn(get.status_code, {404, 405}, f"GET {url}")
                self.assertIn(post.status_code, {404, 405}, f"POST {url}")
                self.assertIn(404, {get.status_code, post.status_code})
                self.assertEqual(ActivityEvent.objects.count(), before, "nothing may change")
            checked += 1
        self.assertGreaterEqual(checked, 10)

    def test_pages_without_ids_never_show_another_practices_rows(self) -> None:
        self.client.force_login(self.owner)
        for name, route, convs in self.patterns:
            if convs or name in PUBLIC:
                continue
            url = self._url(route)
            with self.subTest(url=url):
                r = self.client.get(url, {"q": "Rival", "status": "all"})
                self.assertLess(r.status_code, 500)
                for marker in (b"Rival Secret", b"Zebedee"):
                    self.assertNotIn(marker, r.content)

    def test_signed_out_visitors_are_sent_to_sign_in_everywhere(self) -> None:
        for name, route, _convs in self.patterns:
            if name in PUBLIC:
                continue
            url = self._url(route)
            with self.subTest(url=url):
                r = self.client.get(url)
                self.assertIn(r.status_code, {302, 405})
                if r.status_code == 302:
                    self.assertTrue(r["Location"].startswith("/sign-in/"))


def _rival_receivables(practice, client, owner) -> dict[str, int]:
    """Another practice's AR customer, one of its invoices, one of its statuses, and one of
    its AR workflows with an action."""
    import datetime as dt
    from decimal import Decimal

    from collections_ar import engine as ar_engine

    customer = ar_engine.get_or_create_customer(client, actor=owner)
    invoice = ar_engine.create_invoice(
        customer,
        actor=owner,
        number="RIVAL-1",
        issue_date=dt.date(2026, 10, 1),
        due_date=dt.date(2026, 10, 31),
        total=Decimal("100.00"),
    )
    from collections_ar.builder import editing as ar_editing

    workflow = ar_editing.create_workflow(practice, actor=owner, name="Rival Secret chase")
    action = ar_editing.add_action(
        workflow, actor=owner, kind="note", base="assigned", days=0, body="Rival Secret note"
    )
    return {
        "customer_id": customer.pk,
        "invoice_id": invoice.pk,
        "status_id": invoice.collection_status_id,
        "workflow_id": workflow.pk,
        "action_id": action.pk,
    }


def _rival_run(practice, client, owner) -> int:
    """A one-off flow run of another practice's client."""
    import datetime as dt

    from checks.flows import making as flow_making

    flow = flow_making.create_flow(
        practice,
        flow_making.FlowSpec(
            kind="one_off",
            name="Rival flow",
            checks=("builtin:vat",),
            clients=(flow_making.ClientTeam(client.pk, owner.pk),),
            period_start=dt.date(2026, 10, 1),
            period_end=dt.date(2026, 10, 31),
            due_date=dt.date(2026, 11, 30),
        ),
        actor=owner,
        today=dt.date(2026, 11, 2),
    )
    return flow.runs.get().pk


def _rival_note(practice, client, owner) -> int:
    """A comment on another practice's flow run."""
    from checks.flows import engine as flow_engine
    from checks.models import FlowRun

    run = FlowRun.objects.filter(practice=practice).first()
    return flow_engine.add_note(run, actor=owner, body="Rival Secret Note").pk


def _rival_run_id(practice) -> int:
    """The other practice's run made by `_rival_run`."""
    return FlowRun.objects.filter(practice=practice).values_list("pk", flat=True).get()
