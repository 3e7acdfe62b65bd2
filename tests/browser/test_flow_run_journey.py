"""A staff member works a flow run and a reviewer reviews it, at 1280 and 390 px.

The staff member opens the run from My work in the slide-out focus panel and starts it
there, then on the run page dismisses a finding with a reason, marks one check "some issues"
with a comment and the others done, and submits; the reviewer hands it back with a comment,
the staff member resubmits, the reviewer approves and the staff member completes it.

Screenshots: var/screenshots/flow_run_<step>_<width>.png (panel, started, worked, submitted,
hand_back, handed_back, approved, complete).
"""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from checks import demo
from checks.flows import making
from checks.flows.cadence import last_full_month
from checks.models import CustomCheck, Finding, Flow, FlowRun
from checks.runs import run_checks
from sodium.roles import Role
from sodium.schedules.practice import today_for
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-1"
SAM = "sam@hartleyfinch.example"
RIA = "ria@hartleyfinch.example"


@pytest.fixture
def run():
    with scopes_disabled():
        practice = f.PracticeFactory(name="Hartley & Finch", slug="hartley-finch")
        sam = f.UserFactory(full_name="Sam Okafor", email=SAM)
        ria = f.UserFactory(full_name="Ria Mendes", email=RIA)
        f.MembershipFactory(practice=practice, role=Role.STAFF, user=sam)
        f.MembershipFactory(practice=practice, role=Role.MANAGER, user=ria)
        for name in ["Acorn Bakery Ltd", "Bluebell Florists", "Copperleaf Design Ltd"]:
            f.ClientFactory(practice=practice, name=name, vat_periods="q_mar")
        clients = demo.build_ledgers(practice)
        messy = clients[1]  # a duplicate bill and old unreconciled bank lines
        run_checks(messy)
        register = CustomCheck.objects.create(
            practice=practice,
            name="Fixed asset register",
            description="Agree additions to the register: https://example.com/far-guide",
        )
        period = last_full_month(today_for(practice))
        flow = making.create_flow(
            practice,
            making.FlowSpec(
                kind=Flow.Kind.ONE_OFF,
                name="Month-end review",
                checks=(
                    "builtin:bank_reconciliation",
                    "builtin:duplicate_transactions",
                    f"custom:{register.pk}",
                ),
                clients=(making.ClientTeam(messy.pk, sam.pk, ria.pk),),
                period_start=period.start,
                period_end=period.end,
                due_date=today_for(practice),
            ),
            actor=ria,
        )
        return FlowRun.objects.get(flow=flow)


def sign_in(browser, live_server, email: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    return page


def card(page, name: str):
    return page.locator(".run-check", has=page.get_by_role("heading", name=name))


def flash(page, text: str) -> None:
    page.locator(".flash", has_text=text).first.wait_for()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_run_is_worked_reviewed_handed_back_approved_and_completed(
    live_server, browser, screenshot, run, width
):
    run_url = f"{live_server.url}/checks/flows/runs/{run.pk}/"
    sam = sign_in(browser, live_server, SAM, width)

    # My work lists the run; it opens in the slide-out panel, where it is started.
    sam.goto(f"{live_server.url}/work/")
    row = sam.locator("#work-table tr", has_text="Month-end review")
    assert "To start" in row.inner_text()
    row.get_by_role("link", name="Month-end review").click()
    panel = sam.locator("#focus-panel.is-open")
    panel.get_by_role("button", name="Start the run").click()
    panel.get_by_text("Started: the checks ran").wait_for()
    assert panel.get_by_role("button", name="No issues for Bank reconciliation").is_visible()
    screenshot(sam, "flow_run_panel")
    panel.get_by_role("link", name="Open the run page").click()
    sam.wait_for_url(run_url)
    screenshot(sam, "flow_run_started")

    # A duplicate is dismissed with a reason (and the page comes back here).
    duplicates = card(sam, "Duplicate transactions")
    finding = duplicates.locator(".finding").first
    title = finding.locator(".row-title").inner_text()
    finding.get_by_text("Dismiss").first.click()
    finding.get_by_placeholder("Why").fill("Credit note agreed with the supplier")
    finding.get_by_role("button", name="Dismiss").click()
    sam.wait_for_url(run_url)
    flash(sam, f"Dismissed: {title}")
    with scopes_disabled():
        dismissed = Finding.objects.get(client=run.client, title=title, status="dismissed")
        assert dismissed.dismissed_reason == "Credit note agreed with the supplier"

    # "Some issues" needs a comment; then each check is done.
    bank = card(sam, "Bank reconciliation")
    bank.get_by_role("button", name="Some issues for Bank reconciliation").click()
    flash(sam, "Say what the issues are.")
    bank = card(sam, "Bank reconciliation")
    bank.get_by_label("Comment").first.fill("Three old lines: the client is sending statements")
    bank.get_by_role("button", name="Some issues for Bank reconciliation").click()
    flash(sam, "Bank reconciliation: Complete – some issues.")
    card(sam, "Duplicate transactions").get_by_role(
        "button", name="No issues for Duplicate transactions"
    ).click()
    flash(sam, "Duplicate transactions: Complete – no issues.")
    card(sam, "Fixed asset register").get_by_role(
        "button", name="Not applicable for Fixed asset register"
    ).click()
    flash(sam, "Fixed asset register: Not applicable.")
    assert "3 of 3" in sam.locator(".run-progress").inner_text()
    screenshot(sam, "flow_run_worked")
    sam.get_by_role("button", name="Submit for review").click()
    flash(sam, "Submitted for review.")
    assert "In review with Ria Mendes" in sam.locator(".run-meta").inner_text()
    screenshot(sam, "flow_run_submitted")

    # The reviewer hands it back with a comment.
    ria = sign_in(browser, live_server, RIA, width)
    ria.goto(run_url)
    ria.get_by_text("Hand back").first.click()
    ria.get_by_label("What needs doing before it comes back").fill(
        "Say which statements are missing"
    )
    screenshot(ria, "flow_run_hand_back")
    ria.get_by_role("button", name="Hand back to Sam Okafor").click()
    flash(ria, "Handed back to the assignee.")

    # The staff member sees why, and resubmits.
    sam.goto(run_url)
    assert "Handed back: Say which statements are missing" in sam.locator(".run-notes").inner_text()
    assert "Handed back" in sam.locator(".run-history").inner_text()
    screenshot(sam, "flow_run_handed_back")
    sam.get_by_role("button", name="Submit for review").click()
    flash(sam, "Submitted for review.")

    ria.goto(run_url)
    ria.get_by_role("button", name="Approve").click()
    flash(ria, "Approved.")
    screenshot(ria, "flow_run_approved")

    sam.goto(run_url)
    assert "Approved – ready to complete" in sam.locator(".run-meta").inner_text()
    sam.get_by_role("button", name="Complete the run").click()
    flash(sam, "Completed.")
    assert "Complete" in sam.locator(".run-meta .chip").inner_text()
    history = sam.locator(".run-history").inner_text()
    for step in ("Started", "Submitted for review", "Handed back", "Approved", "Completed"):
        assert step in history
    assert "Health score" in history
    screenshot(sam, "flow_run_complete")
    with scopes_disabled():
        run.refresh_from_db()
        assert run.status == FlowRun.Status.COMPLETE
