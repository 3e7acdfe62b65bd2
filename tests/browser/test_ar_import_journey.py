"""An AR manager imports Xero's sales-invoice export: a file with a refused line first (the
lines listed, nothing written), then the good file, previewed and imported; the customers
then owe what the file says.

Screenshots: var/screenshots/ar_import_refused_<width>.png, ar_import_preview_<width>.png,
ar_customers_imported_<width>.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django_scopes import scopes_disabled

from collections_ar import statuses
from collections_ar.models import Invoice
from sodium.roles import Role
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-1"
XERO_FILE = Path(__file__).parent.parent / "collections_ar" / "files" / "xero_sales_invoices.csv"


@pytest.fixture
def world(tmp_path):
    with scopes_disabled():
        practice = f.PracticeFactory(name="Hartley & Finch", slug="hartley-finch")
        rachel = f.UserFactory(full_name="Rachel Green", email="rachel@hartleyfinch.example")
        f.MembershipFactory(practice=practice, role=Role.AR_MANAGER, user=rachel)
        statuses.ensure_default_statuses(practice)
        for name in ("Acme Widgets", "Bolt Ltd"):
            f.ClientFactory(practice=practice, name=name)
    bad = tmp_path / "invoices_bad.csv"
    bad.write_bytes(XERO_FILE.read_bytes().replace(b"Bolt Ltd", b"Bolt Limited"))
    return {"bad": bad}


@pytest.mark.parametrize("width", [1280, 390])
def test_an_ar_manager_imports_xeros_export(live_server, browser, screenshot, world, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill("rachel@hartleyfinch.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/ar/")
    page.get_by_role("link", name="Import invoices").click()

    page.get_by_label("Invoice file").set_input_files(str(world["bad"]))
    page.get_by_role("button", name="Check the file").click()
    preview = page.locator("#ar-import-preview")
    assert "There is no client named “Bolt Limited”." in preview.inner_text()
    assert page.get_by_role("button", name="Import this file").count() == 0
    screenshot(page, "ar_import_refused")
    with scopes_disabled():
        assert not Invoice.objects.exists()

    page.get_by_label("Invoice file").set_input_files(str(XERO_FILE))
    page.get_by_role("button", name="Check the file").click()
    assert "New invoices" in preview.inner_text()
    screenshot(page, "ar_import_preview")
    page.get_by_role("button", name="Import this file").click()
    page.wait_for_url(f"{live_server.url}/ar/")
    assert "Imported: 3 new invoices, 2 with a payment recorded" in page.content()
    table = page.locator("#ar-customers")
    assert "Acme Widgets" in table.inner_text() and "£1,790.00" in table.inner_text()
    screenshot(page, "ar_customers_imported")
    context.close()
