"""Client portal journeys in a real browser, as the client: from the link in an email to done.

The workflows are built and run through the engines (attach a template to a started task,
play the worker with workflows.engine.run_step, send approvals with portal.engine). The links
the client clicks come from the OutboundMessage rows, i.e. the emails' text. Only the Celery
publishes that on_commit would make are replaced by mocks (the live server runs in this
process, so the same mocks cover the portal's own on_commit hooks too).

Screenshots: var/screenshots/portal_*_<width>.png.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from portal import access, files
from portal import engine as portal_engine
from portal.models import (
    AccessToken,
    ApprovalVersion,
    Confirmation,
    Document,
    DocumentRequest,
    Submission,
)
from sodium import outbox
from sodium.models import ActivityEvent, Client, Contact, OutboundMessage, Practice, User
from sodium.roles import Role
from sodium.tenancy import practice_scope
from tests import factories as f
from tests.portal.portal_factories import pdf_upload
from workflows import attach, building
from workflows import engine as wf_engine
from workflows.models import Step

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RUN = "workflows.tasks.run_step_task.delay"
DELIVER = "sodium.tasks.deliver_message_task.delay"
WIDTHS = [1280, 390]

LINK_RE = re.compile(r"https?://\S+?/portal/link/[A-Za-z0-9_-]+/")
CONFIRM_RE = re.compile(r"https?://\S+?/portal/confirm/[A-Za-z0-9_-]+/")

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CSV_BYTES = (
    b"date,description,amount\n2026-01-05,Opening balance,1200.00\n2026-01-09,HMRC,-310.50\n"
)

CONFIRM_SETTINGS = {
    "message": "Please confirm you are happy for us to file the accounts.",
    "button_text": "Yes, file them",
    "thank_you": "Thank you, we will file them this week.",
    "notify_assignee": True,
}


# --- set-up helpers ---------------------------------------------------------------------------


@dataclass
class World:
    practice: Practice
    manager: User
    client: Client
    ann: Contact


@pytest.fixture
def brokerless():
    """Stand in for the Celery broker: on_commit publishes land on mocks, for the whole test."""
    with mock.patch(RUN) as run, mock.patch(DELIVER) as deliver:
        yield run, deliver


@pytest.fixture
def world(brokerless) -> World:
    cache.clear()  # the sign-in rate limits live in the cache
    with scopes_disabled():
        practice = f.PracticeFactory(
            name="Hartley & Finch Accountants", slug="hartley-finch", primary_colour="#0f6e6e"
        )
        manager = f.MembershipFactory(
            practice=practice,
            role=Role.MANAGER,
            user=f.UserFactory(full_name="Maya Patel", email="maya@hartleyfinch.example"),
        ).user
        client = f.ClientFactory(practice=practice, name="Acme Trading Ltd")
        ann = f.ContactFactory(
            client=client,
            first_name="Ann",
            last_name="Baker",
            email="ann@acme.example",
            is_main=True,
        )
    return World(practice, manager, client, ann)


def start_task(world: World, task_name: str, steps: list[dict], client=None) -> list[Step]:
    """Attach a one-group template with `steps` (no dependencies) to a started task."""
    with scopes_disabled():
        template = building.create_template(
            practice=world.practice, actor=world.manager, name=f"{task_name} template"
        )
        group = template.groups.get()
        for fields in steps:
            building.add_step(group, actor=world.manager, **fields)
        task = f.TaskFactory(
            client=client or world.client,
            owner=world.manager,
            status="in_progress",
            name=task_name,
        )
        return attach.attach_template(task, template, actor=world.manager)


def play_worker(world: World, step: Step) -> Step:
    """Do what the Celery worker does with run_step_task(step.pk)."""
    with practice_scope(world.practice):
        wf_engine.run_step(step.pk)
    return refreshed(step)


def refreshed(step: Step) -> Step:
    with scopes_disabled():
        return Step.objects.get(pk=step.pk)


def request_step(**overrides) -> dict:
    fields = {
        "name": "Send bank statements",
        "type": "document_request",
        "mode": "automatic",
        "to_recipients": ["contact:main"],
        "settings": {
            "title": "Bank statements 2026",
            "request_description": "Please upload the statements of every business bank "
            "account for 1 January to 31 December 2026.",
            "deadline_days": 14,
        },
    }
    fields.update(overrides)
    return fields


def approval_step(name: str = "Approve draft accounts") -> dict:
    return {
        "name": name,
        "type": "document_approval",
        "mode": "manual",
        "to_recipients": ["contact:main"],
    }


def confirmation_step(name: str = "Confirm filing", **settings_) -> dict:
    return {
        "name": name,
        "type": "client_confirmation",
        "mode": "automatic",
        "to_recipients": ["contact:main"],
        "settings": {**CONFIRM_SETTINGS, **settings_},
    }


def send_for_approval(world: World, step: Step, title: str = "Draft accounts 2026"):
    with scopes_disabled():
        step = Step.objects.select_related("task").get(pk=step.pk)
        assert step.status == "ready", step.status
        document = files.store(
            pdf_upload("draft-accounts-2026.pdf"),
            practice_id=step.practice_id,
            client_id=step.task.client_id,
            user=world.manager,
            task=step.task,
        )
        return portal_engine.send_for_approval(
            step,
            actor=world.manager,
            document=document,
            title=title,
            category="Accounts",
            note="Here are your draft accounts. Please check the director's loan balance.",
        )


def emailed_link(live_server, key: str, pattern: re.Pattern) -> str:
    """The link in the email `key`, pointed at the live server instead of SITE_URL."""
    with scopes_disabled():
        email = OutboundMessage.objects.get(idempotency_key=key)
        # The stored body has a placeholder where the token goes; derive it as the send does.
        body = outbox.shown_secrets(email, email.body_text, reveal=True)
    match = pattern.search(body)
    assert match, body
    link = match.group(0)
    assert link.startswith(settings.SITE_URL), link
    return live_server.url + link[len(settings.SITE_URL) :]


def item_url(live_server, step: Step) -> str:
    return live_server.url + reverse("portal:item", kwargs={"step_id": step.pk})


def new_page(browser, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    return context, context.new_page()


def sign_in_through(page, link: str, expected_url: str) -> None:
    """Open an emailed link's landing page and click Continue."""
    page.goto(link)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(expected_url)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


# --- 1. upload to a request -------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_client_uploads_documents_to_a_request(
    live_server, browser, screenshot, world, brokerless, width
):
    run, _deliver = brokerless
    (step,) = start_task(world, "Year end accounts 2026", [request_step()])
    run.assert_called_once_with(step.pk)  # attach enqueued the automatic step
    step = play_worker(world, step)
    assert (step.status, step.sub_status) == ("in_progress", "awaiting_response")
    assert step.deadline == timezone.localdate() + dt.timedelta(days=14)
    link = emailed_link(live_server, f"step:{step.pk}:open", LINK_RE)

    context, page = new_page(browser, width)
    page.goto(link)
    assert page.get_by_role("heading", level=1).inner_text() == "Hello Ann"
    landing = page.locator("main").inner_text()
    assert "to see Bank statements 2026" in landing  # the request's title, not the step's name
    assert "Send bank statements" not in landing
    screenshot(page, "portal_link_landing")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(item_url(live_server, step))
    assert page.get_by_role("heading", level=1).inner_text() == "Bank statements 2026"
    assert page.locator(".portal-status").get_by_text("Waiting for your documents").is_visible()
    assert no_horizontal_scroll(page)
    screenshot(page, "portal_request")

    # A .pdf that is really plain text is refused with a readable reason; nothing is stored.
    page.get_by_label("Files").set_input_files(
        {"name": "statement.pdf", "mimeType": "application/pdf", "buffer": b"just some text\n"}
    )
    page.get_by_label("Message").fill("First try")
    page.get_by_role("button", name="Send documents").click()
    error = page.locator(".alert-error")
    error.wait_for()
    assert "statement.pdf is not really a .pdf file" in error.inner_text()
    assert page.get_by_label("Message").input_value() == "First try"  # the message is kept
    screenshot(page, "portal_request_bad_file")
    with scopes_disabled():
        assert not Document.objects.filter(client=world.client).exists()
        assert not Submission.objects.exists()
        assert refreshed(step).sub_status == "awaiting_response"

    page.get_by_label("Files").set_input_files(
        [
            {"name": "statement-jan.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES},
            {"name": "transactions.csv", "mimeType": "text/csv", "buffer": CSV_BYTES},
        ]
    )
    page.get_by_label("Message").fill("January statement and the export from our bank.")
    page.get_by_role("button", name="Send documents").click()
    page.wait_for_url(item_url(live_server, step))
    page.locator(".portal-status").get_by_text("Sent — we are reviewing it").wait_for()
    assert page.get_by_role("button", name="Send documents").count() == 0  # form is gone
    sent = page.locator("main").inner_text()
    assert "statement-jan.pdf" in sent and "transactions.csv" in sent
    assert no_horizontal_scroll(page)
    screenshot(page, "portal_request_sent")
    # What was sent can be downloaded again, byte for byte.
    with page.expect_download() as download:
        page.get_by_role("link", name="statement-jan.pdf").click()
    assert download.value.suggested_filename == "statement-jan.pdf"
    assert open(download.value.path(), "rb").read() == PDF_BYTES

    with scopes_disabled():
        submission = Submission.objects.get()
        assert submission.request.step_id == step.pk
        assert submission.contact == world.ann
        assert submission.message == "January statement and the export from our bank."
        names = sorted(submission.documents.values_list("original_name", flat=True))
        assert names == ["statement-jan.pdf", "transactions.csv"]
        assert DocumentRequest.objects.get(step=step).status == "submitted"
        step = refreshed(step)
        assert (step.status, step.sub_status) == ("in_progress", "submitted")
    context.close()


# --- 2. approve (or reject) a document --------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_client_approves_a_document(live_server, browser, screenshot, world, brokerless, width):
    run, _deliver = brokerless
    (step,) = start_task(world, "Year end accounts 2026", [approval_step()])
    version = send_for_approval(world, step)
    step = refreshed(step)
    assert (step.status, step.sub_status) == ("in_progress", "awaiting_response")
    link = emailed_link(live_server, f"step:{step.pk}:approval:1", LINK_RE)

    context, page = new_page(browser, width)
    sign_in_through(page, link, item_url(live_server, step))
    assert page.get_by_role("heading", level=1).inner_text() == "Draft accounts 2026"
    assert page.get_by_text("Waiting for your approval").is_visible()
    assert page.get_by_text("draft-accounts-2026.pdf").is_visible()
    assert no_horizontal_scroll(page)
    screenshot(page, "portal_approval")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download to read it").click()
    assert download.value.suggested_filename == "draft-accounts-2026.pdf"
    assert open(download.value.path(), "rb").read() == PDF_BYTES

    run.reset_mock()
    page.get_by_role("button", name="Approve Draft accounts 2026").click()
    page.wait_for_url(item_url(live_server, step))
    page.get_by_text("You approved it on").wait_for()
    assert page.get_by_role("button", name="Approve Draft accounts 2026").count() == 0
    screenshot(page, "portal_approval_approved")
    with scopes_disabled():
        step = refreshed(step)
        assert (step.status, step.sub_status) == ("done", "approved")
        version = ApprovalVersion.objects.get(pk=version.pk)
        assert (version.status, version.responded_by) == ("approved", world.ann)
    run.assert_not_called()  # nothing depends on the approval in this task

    page.get_by_role("link", name="← Everything for you").click()
    page.wait_for_url(f"{live_server.url}/portal/")
    done = page.locator("#portal-done")
    assert done.get_by_role("link", name="Draft accounts 2026").is_visible()
    assert done.get_by_text("Approved", exact=True).is_visible()
    assert page.locator("#portal-waiting").count() == 0
    assert no_horizontal_scroll(page)
    screenshot(page, "portal_home_after_approval")
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_client_asks_for_changes_to_a_document(
    live_server, browser, screenshot, world, brokerless, width
):
    (step,) = start_task(world, "Year end accounts 2026", [approval_step()])
    version = send_for_approval(world, step)
    link = emailed_link(live_server, f"step:{step.pk}:approval:1", LINK_RE)

    context, page = new_page(browser, width)
    sign_in_through(page, link, item_url(live_server, step))

    # Asking for changes without saying what is refused, readably, and changes nothing.
    page.get_by_role("button", name="Ask for changes").click()
    error = page.locator("#comment-error")
    error.wait_for()
    assert "Tell us what should change" in error.inner_text()
    screenshot(page, "portal_approval_reject_empty")
    with scopes_disabled():
        assert ApprovalVersion.objects.get(pk=version.pk).status == "pending"

    page.get_by_label("Or tell us what should change").fill(
        "The director's loan should be £4,200, not £2,400."
    )
    page.get_by_role("button", name="Ask for changes").click()
    page.wait_for_url(item_url(live_server, step))
    page.get_by_text("You asked for changes").wait_for()
    assert page.get_by_role("button", name="Approve Draft accounts 2026").count() == 0
    screenshot(page, "portal_approval_rejected")
    fits = no_horizontal_scroll(page)
    with scopes_disabled():
        step = refreshed(step)
        assert (step.status, step.sub_status) == ("in_progress", "rejected")
        version = ApprovalVersion.objects.get(pk=version.pk)
        assert version.status == "rejected"
        assert version.comment == "The director's loan should be £4,200, not £2,400."

    page.goto(f"{live_server.url}/portal/")
    waiting = page.locator("#portal-with-us")
    assert waiting.get_by_role("link", name="Draft accounts 2026").is_visible()
    assert waiting.get_by_text("You asked for changes").is_visible()
    screenshot(page, "portal_home_after_rejection")
    context.close()
    assert fits, "the approval page must not scroll sideways"


# --- 3. confirm from the emailed link ---------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_client_confirms_from_the_email_link(
    live_server, browser, screenshot, world, brokerless, width
):
    (step,) = start_task(world, "Year end accounts 2026", [confirmation_step()])
    step = play_worker(world, step)
    assert (step.status, step.sub_status) == ("in_progress", "awaiting_response")
    link = emailed_link(live_server, f"step:{step.pk}:open", CONFIRM_RE)

    context, page = new_page(browser, width)
    page.goto(link)
    # The task's name: the step's name is the team's own.
    assert page.get_by_role("heading", level=1).inner_text() == "Year end accounts 2026"
    assert page.get_by_text(CONFIRM_SETTINGS["message"]).is_visible()
    assert no_horizontal_scroll(page)
    screenshot(page, "portal_confirm")
    assert refreshed(step).status == "in_progress"  # opening the link changes nothing

    page.get_by_role("button", name="Yes, file them").click()
    page.wait_for_url(link)
    page.locator(".confirm-card").get_by_text("Confirmed", exact=True).wait_for()
    assert page.get_by_text(CONFIRM_SETTINGS["thank_you"]).is_visible()
    assert page.get_by_role("button", name="Yes, file them").count() == 0
    screenshot(page, "portal_confirm_thanks")
    with scopes_disabled():
        step = refreshed(step)
        assert (step.status, step.sub_status) == ("done", "confirmed")
        confirmation = Confirmation.objects.get(step=step)
        assert confirmation.confirmed_by == world.ann
        first_at = confirmation.confirmed_at

    # A reload still thanks; a replayed POST (CSRF cookie as the token) changes nothing.
    page.reload()
    page.locator(".confirm-card").get_by_text("Confirmed", exact=True).wait_for()
    assert page.get_by_role("button", name="Yes, file them").count() == 0
    csrf = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
    again = page.request.post(link, form={"csrfmiddlewaretoken": csrf})
    assert again.ok, again.status
    assert "Thank you" in again.text()
    with scopes_disabled():
        assert Confirmation.objects.get(step=step).confirmed_at == first_at
        done_events = ActivityEvent.objects.filter(
            verb="step.status", object_id=step.pk, new_status="done"
        )
        assert done_events.count() == 1
    context.close()


# --- 4. the portal home with several items, and the practice's sign-in page --------------------


def _several_items(world: World) -> dict[str, Step]:
    """Four waiting items over two clients of the same person, and one done."""
    with scopes_disabled():
        family = f.ClientFactory(practice=world.practice, name="Baker Family Trust")
        f.ContactFactory(
            client=family, first_name="Ann", last_name="Baker", email="ann@acme.example"
        )
    request, approval, confirm = start_task(
        world,
        "Year end accounts 2026",
        [request_step(), approval_step(), confirmation_step()],
    )
    play_worker(world, request)
    send_for_approval(world, approval)
    play_worker(world, confirm)
    (late,) = start_task(
        world,
        "VAT return Q1 2026",
        [
            request_step(
                name="Send purchase invoices",
                settings={
                    "title": "Purchase invoices Q1",
                    "request_description": "All purchase invoices for January to March.",
                    "deadline_days": 7,
                },
            )
        ],
    )
    play_worker(world, late)
    past = timezone.localdate() - dt.timedelta(days=3)
    with scopes_disabled():
        Step.objects.filter(pk=late.pk).update(deadline=past)
        DocumentRequest.objects.filter(step=late).update(deadline=past)
    (done,) = start_task(
        world,
        "Trust tax return 2025",
        [confirmation_step("Confirm trust income", message="Please confirm the trust income.")],
        client=family,
    )
    play_worker(world, done)
    with scopes_disabled():
        confirmation = Confirmation.objects.get(step=done)
        trust_ann = Contact.objects.get(client=family)
        assert portal_engine.confirm(confirmation, contact=trust_ann)
    return {"request": request, "approval": approval, "confirm": confirm, "late": late}


@pytest.mark.parametrize("width", WIDTHS)
def test_portal_home_and_sign_in_page(live_server, browser, screenshot, world, width):
    steps = _several_items(world)
    with scopes_disabled():
        token = access.issue_token(world.ann, purpose=AccessToken.Purpose.SIGN_IN)
    link = access.link_for(token)
    link = live_server.url + link[len(settings.SITE_URL) :]

    context, page = new_page(browser, width)
    sign_in_through(page, link, f"{live_server.url}/portal/")
    assert page.get_by_role("heading", level=1).inner_text() == "Hello Ann"
    waiting = page.locator("#portal-waiting > li")
    assert waiting.count() == 4
    assert page.locator("#portal-done > li").count() == 1
    text = page.locator("#portal-waiting").inner_text()
    for label in (
        "Waiting for your documents",
        "Waiting for your approval",
        "Waiting for your confirmation",
        "Overdue",
        "Acme Trading Ltd",  # two clients: each item says whose it is
    ):
        assert label in text, label
    assert "Baker Family Trust" in page.locator("#portal-done").inner_text()
    assert no_horizontal_scroll(page)
    # The practice's name is shown whole in the bar (it wraps at 390 px, never cut off).
    brand = page.locator(".portal-brand-name")
    assert brand.evaluate("el => el.scrollWidth <= el.clientWidth")
    screenshot(page, "portal_home")

    # Every listed item opens its page.
    page.locator(f"#portal-item-{steps['late'].pk}").get_by_role("link").click()
    page.wait_for_url(item_url(live_server, steps["late"]))
    assert "overdue" in page.locator(".portal-status").inner_text().lower()
    screenshot(page, "portal_request_overdue")
    page.go_back()
    page.locator(f"#portal-item-{steps['confirm'].pk}").get_by_role("link").click()
    page.wait_for_url(item_url(live_server, steps["confirm"]))
    assert page.get_by_role("button", name="Yes, file them").is_visible()
    screenshot(page, "portal_confirm_signed_in")

    # Signing out lands on the practice's sign-in page.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server.url}/portal/hartley-finch/sign-in/")
    assert page.get_by_text("You have signed out.").is_visible()
    screenshot(page, "portal_signed_out")
    context.close()

    # A fresh visitor asks for a sign-in link: the same neutral answer, known address or not.
    context, page = new_page(browser, width)
    sign_in = f"{live_server.url}/portal/hartley-finch/sign-in/"
    page.goto(sign_in)
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Sign in to Hartley & Finch Accountants"
    )
    assert no_horizontal_scroll(page)
    screenshot(page, "portal_sign_in")
    page.get_by_label("Your email address").fill("Ann@Acme.example")
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.wait_for_url(f"{sign_in}?sent=1")
    known = page.locator("main").inner_text()
    assert "Check your email" in known
    screenshot(page, "portal_sign_in_sent")
    with scopes_disabled():
        emails = OutboundMessage.objects.filter(idempotency_key__startswith="portal:sign-in:")
        assert list(emails.values_list("to", flat=True)) == [["ann@acme.example"]]
        assert "/portal/link/" in emails.get().body_text

    page.goto(sign_in)
    page.get_by_label("Your email address").fill("nobody@elsewhere.example")
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.wait_for_url(f"{sign_in}?sent=1")
    assert page.locator("main").inner_text() == known
    with scopes_disabled():
        assert emails.count() == 1

    # A bad address is refused in place.
    page.goto(sign_in)
    page.get_by_label("Your email address").fill("not-an-email")
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.locator(".error").first.wait_for()
    screenshot(page, "portal_sign_in_invalid")
    context.close()
