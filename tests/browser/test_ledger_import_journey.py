"""Importing a client's books in a real browser: from Data health to the import page, a Xero
chart of accounts previewed and imported with its progress, then a bank's own CSV whose
columns are mapped before it is imported. Under the CSP and axe (see conftest.py).

Screenshots: var/screenshots/import_{page,preview,mapping,done}_<width>.png (and
import_done_bank, import_page_list, import_preview_bad, import_rejected).
"""

from __future__ import annotations

from unittest import mock

import pytest
from django_scopes import scopes_disabled

from checks import tasks
from checks.models import BankStatementLine, LedgerAccount, LedgerImport
from sodium.roles import Role
from tests import factories as f
from tests.checks.files import layouts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-1"
BANK_CSV = layouts.csv_bytes([
    ["Number", "Date", "Account", "Amount", "Subcategory", "Memo"],
    ["1", "25/09/2026", "20-32-06 41234567", "-40.00", "Fuel", "Shell Garage Kingsway"],
    ["2", "30/09/2026", "20-32-06 41234567", "1,250.00", "Transfer", "Bright Ideas Ltd INV-0001"],
    ["3", "01/10/2026", "20-32-06 41234567", "-12.50", "Card payment", "Coffee Shop"],
])  # fmt: skip
BAD_STATEMENT = layouts.csv_bytes([
    layouts.XERO_BANK_STATEMENT,
    ["13/10/2026", "-8.20", "Post Office", "Postage", "", ""],
    ["14/10/2026", "twelve", "Stationers", "Paper", "", ""],
    ["15/10/2026", "-30.00", "Parking", "Car park", "", ""],
])  # fmt: skip


@pytest.fixture
def world():
    with scopes_disabled():
        practice = f.PracticeFactory(name="Hartley & Finch Accountants", slug="hartley-finch")
        sam = f.MembershipFactory(
            practice=practice,
            role=Role.STAFF,
            user=f.UserFactory(full_name="Sam Carter", email="sam@hartleyfinch.example"),
        ).user
        sam.set_password(PASSWORD)
        sam.save()
        acme = f.ClientFactory(practice=practice, name="Acme Trading Ltd")
    return {"practice": practice, "client": acme}


@pytest.fixture
def worker():
    """Stand in for the broker: the start's publish lands on a mock; `run()` does the
    worker's part (the real task, in this process)."""
    with mock.patch.object(tasks.import_ledger_task, "delay") as delay:

        def run() -> None:
            assert delay.call_count == 1, delay.call_args_list
            tasks.import_ledger_task.apply(args=delay.call_args.args)
            delay.reset_mock()

        yield run


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def latest_import() -> LedgerImport:
    with scopes_disabled():
        return LedgerImport.objects.order_by("-pk").first()


@pytest.mark.parametrize("width", [1280, 390])
def test_staff_import_a_chart_of_accounts_then_map_a_bank_csv(
    live_server, browser, screenshot, world, worker, width
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill("sam@hartleyfinch.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    client = world["client"]
    page.goto(f"{live_server.url}/checks/clients/{client.pk}/")
    page.get_by_role("link", name="Import files").click()
    page.wait_for_url(f"{live_server.url}/checks/clients/{client.pk}/import/")
    assert page.get_by_role("heading", name="Nothing imported yet").is_visible()
    assert no_horizontal_scroll(page)
    screenshot(page, "import_page")

    # A Xero chart of accounts: recognised, previewed as it will be read, imported.
    page.get_by_label("File (CSV)").set_input_files(
        {"name": "Chart of Accounts.csv", "mimeType": "text/csv",
         "buffer": layouts.accounts_file()}
    )  # fmt: skip
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_role("heading", name="Preview: as they will be read").wait_for()
    preview = page.locator("table.import-preview")
    assert "Business Bank Account" in preview.inner_text()
    assert preview.locator("tbody tr").count() == 7
    assert no_horizontal_scroll(page)
    screenshot(page, "import_preview")

    page.get_by_role("button", name="Import", exact=True).click()
    page.locator("progress.import-progress").wait_for()
    assert "0 of 7 rows" in page.locator("#import-status").inner_text()
    assert page.locator("#import-status").get_attribute("hx-trigger") == "every 1s"
    worker()
    # The page polls and swaps in the result by itself.
    page.get_by_role("heading", name="Imported").wait_for(timeout=10_000)
    assert page.locator("#import-status").get_attribute("hx-trigger") is None
    counts = page.locator(".import-counts").inner_text()
    assert "7" in counts and "Created" in counts
    with scopes_disabled():
        assert LedgerAccount.objects.filter(client=client).count() == 7
    assert no_horizontal_scroll(page)
    screenshot(page, "import_done")

    # A bank's own download: its columns mapped once, then previewed and imported.
    page.get_by_role("link", name="Import another file").click()
    page.get_by_label("File (CSV)").set_input_files(
        {"name": "barclays-september.csv", "mimeType": "text/csv", "buffer": BANK_CSV}
    )
    page.get_by_label("Bank account").select_option(label="090 Business Bank Account")
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_role("heading", name="Which column is which").wait_for()
    assert page.get_by_label("Date", exact=True).input_value() == "Date"  # guessed
    assert page.get_by_label("Amount", exact=True).input_value() == "Amount"
    page.get_by_label("Payee").select_option("Memo")
    page.get_by_label("Description").select_option("Subcategory")
    assert page.get_by_label("Remember for next time").is_checked()
    assert "Shell Garage Kingsway" in page.locator("table.import-raw").inner_text()
    assert no_horizontal_scroll(page)
    screenshot(page, "import_mapping")

    page.get_by_role("button", name="Save and preview").click()
    page.get_by_role("heading", name="Preview: as they will be read").wait_for()
    assert "Shell Garage Kingsway" in page.locator("table.import-preview").inner_text()
    assert "1,250.00" in page.locator("table.import-preview").inner_text()
    page.get_by_role("button", name="Import", exact=True).click()
    page.locator("progress.import-progress").wait_for()
    worker()
    page.get_by_role("heading", name="Imported").wait_for(timeout=10_000)
    imp = latest_import()
    assert (imp.status, imp.created_count) == ("done", 3)
    with scopes_disabled():
        assert BankStatementLine.objects.filter(client=client).count() == 3
    screenshot(page, "import_done_bank")

    page.get_by_role("link", name="Import another file").click()
    rows = page.locator("table.import-table tbody tr")
    assert rows.count() == 2
    assert "Bank statement (mapped columns)" in rows.first.inner_text()
    assert no_horizontal_scroll(page)
    screenshot(page, "import_page_list")

    # A statement with a bad amount: shown in red in the preview; the good rows only, chosen.
    page.get_by_label("File (CSV)").set_input_files(
        {"name": "statement-october.csv", "mimeType": "text/csv", "buffer": BAD_STATEMENT}
    )
    page.get_by_label("Bank account").select_option(label="090 Business Bank Account")
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_role("heading", name="Preview: as they will be read").wait_for()
    bad = page.locator("tr.import-row-bad")
    assert bad.inner_text().split() == "3 the amount 'twelve' is not a number".split()
    page.get_by_label("Import the good rows only, and list the rejected ones").check()
    screenshot(page, "import_preview_bad")
    page.get_by_role("button", name="Import", exact=True).click()
    page.locator("progress.import-progress").wait_for()
    worker()
    page.get_by_role("heading", name="Rejected rows").wait_for(timeout=10_000)
    assert (
        "the amount 'twelve' is not a number" in page.locator("table.import-rejected").inner_text()
    )
    assert no_horizontal_scroll(page)
    screenshot(page, "import_rejected")
    context.close()
