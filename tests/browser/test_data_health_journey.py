"""A staff member reviews a client's data health: the score and its band, the findings per
check, a finding's rows; dismisses one with a reason and sees the score rise.

Screenshots: var/screenshots/data_health_<width>.png, data_health_list_<width>.png,
finding_rows_<width>.png, client_health_card_<width>.png.
"""

from __future__ import annotations

import re

import pytest
from django_scopes import scopes_disabled

from checks import demo
from checks.runs import run_checks
from sodium.roles import Role
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def books():
    with scopes_disabled():
        practice = f.PracticeFactory(name="Hartley & Finch", slug="hartley-finch")
        f.MembershipFactory(
            practice=practice,
            role=Role.STAFF,
            user=f.UserFactory(full_name="Sam Okafor", email="sam@hartleyfinch.example"),
        )
        names = [
            "Acorn Bakery Ltd",
            "Bluebell Florists",
            "Copperleaf Design Ltd",
            "Driftwood Joinery",
        ]
        for name in names + [f"Client {i:02d}" for i in range(8)]:
            f.ClientFactory(practice=practice, name=name, vat_periods="q_mar")
        clients = demo.build_ledgers(practice)
        for client in clients:
            run_checks(client)
        return clients


def sign_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill("sam@hartleyfinch.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")


def score(page) -> int:
    return int(page.locator(".health-score-value").first.inner_text())


@pytest.mark.parametrize("width", [1280, 390])
def test_a_finding_is_dismissed_and_the_score_rises(live_server, browser, screenshot, books, width):
    messy = books[1]  # a duplicate bill and old unreconciled bank lines
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/checks/")
    assert page.get_by_role("heading", name="Data health").is_visible()
    screenshot(page, "data_health_list")
    page.get_by_role("link", name=messy.name).click()
    before = score(page)
    assert before < 100
    section = page.locator("#check-duplicate_transactions")
    finding = section.locator(".finding").first
    title = finding.locator(".row-title").inner_text()
    assert re.search(r"duplicate|same", title, re.I), title
    screenshot(page, "data_health")

    finding.get_by_text("Dismiss").first.click()
    finding.get_by_placeholder("Why").fill("The supplier billed twice; credit note expected")
    finding.get_by_role("button", name="Dismiss").click()
    page.locator("#check-duplicate_transactions").get_by_text("1 dismissed").wait_for()
    assert score(page) > before

    page.locator("#check-bank_reconciliation .finding .row-title").first.click()
    lines = page.locator("section", has=page.get_by_role("heading", name="Unreconciled"))
    assert lines.locator("tbody tr").count() > 0
    assert "No" in lines.locator("tbody").inner_text()  # each listed line is unreconciled
    screenshot(page, "finding_rows")

    page.goto(f"{live_server.url}/clients/{messy.pk}/")
    card = page.locator("section", has=page.get_by_role("heading", name="Data health"))
    assert "open finding" in card.inner_text()
    card.scroll_into_view_if_needed()
    screenshot(page, "client_health_card")
    context.close()
