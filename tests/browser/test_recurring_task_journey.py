"""A task a recurrence generated says on its page which recurrence made it and which period it
covers.

Screenshots: var/screenshots/recurring_task_<width>.png.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django_scopes import scopes_disabled

from sodium import recurring
from sodium.models import Recurrence, Task
from sodium.roles import Role
from sodium.services.recurrences import create_recurrence
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-1"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def task():
    with scopes_disabled():
        practice = f.PracticeFactory(name="Hartley & Finch", slug="hartley-finch")
        sam = f.MembershipFactory(
            practice=practice,
            role=Role.MANAGER,
            user=f.UserFactory(full_name="Sam Carter", email="sam@hartleyfinch.example"),
        ).user
        acme = f.ClientFactory(
            practice=practice, name="Acme Trading Ltd", vat_periods="q_mar", client_manager=sam
        )
        vat = f.ServiceFactory(practice=practice, name="VAT returns")
        f.ClientServiceFactory(client=acme, service=vat)
        recurrence = create_recurrence(
            practice=practice,
            actor=sam,
            now=dt.datetime(2026, 6, 20, 6, tzinfo=LONDON),
            name="Quarterly VAT",
            service=vat,
            schedule={"kind": "client_date", "anchor": "vat_period_end", "offset": 1},
            task_name="{{ client.name }} VAT {{ period.label }}",
            due_rule=Recurrence.DueRule.VAT_RETURN,
            client_selection=Recurrence.Clients.SERVICE,
        )
        recurring.generate_due(practice, dt.datetime(2026, 7, 2, 6, tzinfo=LONDON))
        return Task.objects.get(recurrence=recurrence)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_generated_task_shows_its_recurrence_and_period(
    live_server, browser, screenshot, task, width
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill("sam@hartleyfinch.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/tasks/{task.pk}/")
    details = page.locator("dl", has=page.get_by_text("Repeats", exact=True))
    text = " ".join(details.inner_text().split())
    assert "Repeats Quarterly VAT" in text
    assert "Period Apr–Jun 2026 (1 Apr 2026 – 30 Jun 2026)" in text
    screenshot(page, "recurring_task")
    context.close()
