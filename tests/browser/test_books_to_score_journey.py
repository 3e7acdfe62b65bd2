"""From a client's exported files to its health score, in a real browser with a real Celery
worker: a client with no books yet gets its Xero chart of accounts, contacts, sales invoices,
bills and a bank statement imported one file at a time (each previewed, then imported by the
worker); the checks are run (the progress bar shows while the run waits for the worker), the
score and its band appear, a duplicate bill is dismissed with a reason and the score rises.
Under the CSP and axe (see conftest.py).

The files carry planted problems the checks must find: two bills from one supplier for the
same amount two days apart (duplicate transactions), a sale coded to the suspense account
(transaction clean-up) and statement lines over 30 days old left unreconciled (bank
reconciliation). Their dates are relative to today, each file with a day past the 12th so
its dates read one way only.

The worker is a `celery worker` process on the test database and the embedded broker (as
tests/workers/test_celery_worker.py starts it), also given the test's MEDIA_ROOT so it reads
the uploaded files. It runs while the files are imported, is stopped, and is started again
only once the page shows the queued run, so the progress bar is seen every time.

Screenshots: var/screenshots/books_{import_done,running,checked,dismissed}_<width>.png.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from django_scopes import scopes_disabled

from checks.models import BankStatementLine, CheckRun, Finding, LedgerAccount, Transaction
from sodium.celery import app
from sodium.roles import Role
from tests import factories as f
from tests.checks.files import layouts
from tests.workers.test_celery_worker import database_url, purge, queued_count, wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "pw-for-tests-1"
EMAIL = "sam@hartleyfinch.example"


def band_words(score: int) -> str:
    """The band the page names for a score (71–100 good, 36–70 needs attention, 0–35 poor)."""
    return "Good" if score >= 71 else "Needs attention" if score >= 36 else "Poor"


def _day(d: dt.date) -> str:
    return d.strftime("%d/%m/%Y")


def books_dates() -> dict[str, dt.date]:
    """Dates 5–10 weeks back whose day is past the 12th (so day-first is the only reading)."""
    first = timezone.localdate() - dt.timedelta(days=38)
    while not 13 <= first.day <= 20:
        first -= dt.timedelta(days=1)
    return {
        "sale": first,
        "bill": first + dt.timedelta(days=1),
        "twin": first + dt.timedelta(days=3),  # the same bill again, two days later
        "bank": first + dt.timedelta(days=2),
    }


def chart_file() -> bytes:
    return layouts.csv_bytes(
        layouts.table(
            layouts.XERO_ACCOUNTS,
            {"Code": "090", "Name": "Business Bank Account", "Type": "Bank",
             "Tax Code": "No VAT"},
            {"Code": "200", "Name": "Sales", "Type": "Sales", "Tax Code": "20% (VAT on Income)"},
            {"Code": "400", "Name": "Advertising", "Type": "Overhead",
             "Tax Code": "20% (VAT on Expenses)"},
            {"Code": "610", "Name": "Accounts Receivable", "Type": "Current Asset",
             "Tax Code": "No VAT"},
            {"Code": "800", "Name": "Accounts Payable", "Type": "Current Liability",
             "Tax Code": "No VAT"},
            {"Code": "820", "Name": "VAT", "Type": "Current Liability", "Tax Code": "No VAT"},
            {"Code": "9999", "Name": "Suspense", "Type": "Current Liability",
             "Tax Code": "No VAT"},
        )
    )  # fmt: skip


def contacts_file() -> bytes:
    return layouts.csv_bytes(
        layouts.table(
            layouts.XERO_CONTACTS,
            {"ContactName": "Bright Ideas Ltd", "EmailAddress": "accounts@brightideas.example"},
            {"ContactName": "Harbour Cafe", "EmailAddress": "hello@harbourcafe.example"},
            {"ContactName": "Kingsway Print Ltd", "EmailAddress": "bills@kingswayprint.example"},
        )
    )


def sales_file(d: dict[str, dt.date]) -> bytes:
    dates = {"InvoiceDate": _day(d["sale"]), "DueDate": _day(d["sale"] + dt.timedelta(days=30))}
    return layouts.csv_bytes(
        layouts.table(
            layouts.XERO_SALES_INVOICES,
            layouts.invoice_line("INV-0101", "Bright Ideas Ltd", **dates),
            # The planted sale on the suspense account.
            layouts.invoice_line("INV-0102", "Harbour Cafe", AccountCode="9999", **dates),
        )
    )


def bill(number: str, when: dt.date, **fields: str) -> dict[str, str]:
    return layouts.invoice_line(
        number,
        "Kingsway Print Ltd",
        InvoiceDate=_day(when),
        DueDate=_day(when + dt.timedelta(days=30)),
        Total="240.00",
        TaxTotal="40.00",
        InvoiceAmountDue="240.00",
        Description="Leaflets",
        UnitAmount="200.00",
        LineAmount="200.00",
        AccountCode="400",
        TaxType="20% (VAT on Expenses)",
        TaxAmount="40.00",
        Type="Bill",
        Sent="",
        **fields,
    )


def bills_file(d: dict[str, dt.date]) -> bytes:
    # The planted duplicate: KP-881 and KP-883, the same supplier and total two days apart.
    return layouts.csv_bytes(
        layouts.table(layouts.XERO_BILLS, bill("KP-881", d["bill"]), bill("KP-883", d["twin"]))
    )


def statement_file(d: dict[str, dt.date]) -> bytes:
    day = d["bank"]
    return layouts.csv_bytes([
        layouts.XERO_BANK_STATEMENT,
        [_day(day), "120.00", "Bright Ideas Ltd", "INV-0101", "BACS", ""],
        [_day(day + dt.timedelta(days=1)), "-240.00", "Kingsway Print Ltd", "KP-881", "", ""],
        [_day(day + dt.timedelta(days=2)), "-12.50", "Coffee Shop", "Card payment", "", ""],
    ])  # fmt: skip


@pytest.fixture
def world():
    with scopes_disabled():
        practice = f.PracticeFactory(name="Hartley & Finch Accountants", slug="hartley-finch")
        sam = f.MembershipFactory(
            practice=practice,
            role=Role.STAFF,
            user=f.UserFactory(full_name="Sam Carter", email=EMAIL),
        ).user
        sam.set_password(PASSWORD)
        sam.save()
        client = f.ClientFactory(practice=practice, name="Acorn Bakery Ltd")
    return {"practice": practice, "client": client}


@contextlib.contextmanager
def celery_worker(log_path: Path):
    """Run `celery worker` in its own process on the test database, broker and media."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sodium.settings",
        "DATABASE_URL": database_url(),
        "SODIUM_CELERY_BROKER_URL": str(app.conf.broker_url),
        "SODIUM_MEDIA_ROOT": str(settings.MEDIA_ROOT),  # the uploads the web side stored
        "SODIUM_DATA_DIR": str(log_path.parent),
        "SODIUM_SECRET_KEY": "worker-test-secret",
    }
    with log_path.open("w+") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "sodium", "worker", "--pool=solo",
             "--loglevel=INFO", "-n", f"books-{os.getpid()}-{log_path.stem}@%h"],
            cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while "ready." not in log_path.read_text():
                assert proc.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the worker did not start"
                time.sleep(0.2)
            yield proc
        finally:
            proc.terminate()  # a warm shutdown: a task in hand is finished first
            proc.wait(timeout=30)
    assert "Traceback" not in log_path.read_text(), log_path.read_text()


def sign_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def import_file(page, name: str, data: bytes, *, layout: str, shows: str, rows: int,
                bank: bool = False) -> None:  # fmt: skip
    """Upload one file on the import page, check its preview, import it, wait for done."""
    page.get_by_label("File (CSV)").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": data}
    )
    if bank:
        page.get_by_label("Bank account").select_option(label="090 Business Bank Account")
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_role("heading", name="Preview: as they will be read").wait_for()
    assert layout in page.locator(".import-head").inner_text()
    preview = page.locator("table.import-preview")
    assert shows in preview.inner_text()
    assert preview.locator("tbody tr").count() == rows
    assert page.locator("tr.import-row-bad").count() == 0
    page.get_by_role("button", name="Import", exact=True).click()
    # The worker imports it; the page polls and swaps in the result by itself.
    page.get_by_role("heading", name="Imported").wait_for(timeout=45_000)
    counts = page.locator(".import-counts .stat").first.inner_text()
    assert counts.split() == [str(rows), "Created"], counts


def score(page) -> int:
    return int(page.locator(".health-score-value").first.inner_text())


@pytest.mark.parametrize("width", [1280, 390])
def test_a_clients_files_are_imported_checked_and_a_finding_dismissed_raises_the_score(
    live_server, browser, screenshot, world, tmp_path, width
):
    purge()  # nothing left on the broker by an earlier test
    client = world["client"]
    dates = books_dates()
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, live_server)

    # The client page's Data health card: nothing imported yet.
    page.goto(f"{live_server.url}/clients/{client.pk}/")
    card = page.locator("section", has=page.get_by_role("heading", name="Data health"))
    assert "No bookkeeping imported yet" in card.inner_text()
    card.get_by_role("link", name="Open").click()
    page.wait_for_url(f"{live_server.url}/checks/clients/{client.pk}/")
    assert page.get_by_role("heading", name="No bookkeeping yet").is_visible()
    assert page.get_by_role("button", name="Run checks now").is_disabled()
    page.get_by_role("link", name="Import files").click()
    page.wait_for_url(f"{live_server.url}/checks/clients/{client.pk}/import/")

    with celery_worker(tmp_path / "import-worker.log"):
        files = [
            ("Chart of Accounts.csv", chart_file(), "Xero chart of accounts", "Suspense", 7),
            ("Contacts.csv", contacts_file(), "Xero contacts", "Kingsway Print Ltd", 3),
            ("Sales Invoices.csv", sales_file(dates), "Xero sales invoices", "INV-0102", 2),
            ("Bills.csv", bills_file(dates), "Xero bills", "KP-883", 2),
        ]
        for name, data, layout, shows, rows in files:
            import_file(page, name, data, layout=layout, shows=shows, rows=rows)
            page.get_by_role("link", name="Import another file").click()
        import_file(
            page, "Bank Statement.csv", statement_file(dates),
            layout="Bank statement (Xero layout)", shows="Coffee Shop", rows=3, bank=True,
        )  # fmt: skip
        assert no_horizontal_scroll(page)
        screenshot(page, "books_import_done")
        wait_for(lambda: queued_count() == 0)
    with scopes_disabled():
        assert LedgerAccount.objects.filter(client=client).count() == 7
        assert Transaction.objects.filter(client=client, kind="bill").count() == 2
        assert BankStatementLine.objects.filter(client=client, reconciled=False).count() == 3

    # Back to Data health; the run waits on the broker until a worker starts.
    page.get_by_role("link", name="Data health").last.click()
    page.wait_for_url(f"{live_server.url}/checks/clients/{client.pk}/")
    page.get_by_role("button", name="Run checks now").click()
    progress = page.locator("#check-run progress")
    progress.wait_for()
    assert "waiting for a worker to start" in page.locator("#check-run").inner_text()
    assert page.locator("#check-run").get_attribute("hx-trigger") == "every 1s"
    assert no_horizontal_scroll(page)
    screenshot(page, "books_running")
    with celery_worker(tmp_path / "checks-worker.log"):
        # The poll answers HX-Refresh once the run is over: the page reloads with the score.
        page.locator(".health-score-value").wait_for(timeout=45_000)
        wait_for(lambda: queued_count() == 0)
    with scopes_disabled():
        run = CheckRun.objects.get(client=client)
        assert (run.status, run.error) == ("done", "")
    assert page.locator("#check-run progress").count() == 0
    before = score(page)
    assert page.locator(".health-score-band").first.inner_text() == band_words(before)
    assert before < 100

    bank_finding = page.locator("#check-bank_reconciliation .finding")
    assert bank_finding.count() == 1
    assert "3 unreconciled statement lines" in bank_finding.inner_text()
    assert "finding-red" in bank_finding.get_attribute("class")  # over 30 days old
    suspense = page.locator("#check-transaction_cleanup .finding", has_text="Suspense")
    assert suspense.count() == 1, page.locator("#check-transaction_cleanup").inner_text()
    assert "Sales invoice of" in suspense.inner_text()
    duplicate = page.locator("#check-duplicate_transactions .finding")
    assert duplicate.count() == 1
    title = duplicate.locator(".row-title").inner_text()
    assert re.fullmatch(r"Possible duplicate bills: Kingsway Print Ltd, £240\.00 \(2\)", title)
    assert "KP-881, KP-883" in duplicate.inner_text()
    assert no_horizontal_scroll(page)
    screenshot(page, "books_checked")

    reason = "Kingsway billed the leaflets twice; credit note asked for"
    duplicate.get_by_text("Dismiss").first.click()
    duplicate.get_by_placeholder("Why").fill(reason)
    duplicate.get_by_role("button", name="Dismiss").click()
    page.locator("#check-duplicate_transactions").get_by_text("1 dismissed").wait_for()
    after = score(page)
    assert after > before, (before, after)
    open_ones = page.locator("#check-duplicate_transactions .finding:not(.finding-dismissed)")
    assert open_ones.count() == 0
    with scopes_disabled():
        dismissed = Finding.objects.get(client=client, check_key="duplicate_transactions")
        assert (dismissed.status, dismissed.dismissed_reason) == ("dismissed", reason)
    assert page.locator(".health-score-band").first.inner_text() == band_words(after)
    page.locator("#check-duplicate_transactions").get_by_text("1 dismissed").click()
    kept = page.locator("#check-duplicate_transactions .finding-dismissed")
    assert "Possible duplicate bills: Kingsway Print Ltd" in kept.inner_text()
    assert "Dismissed by Sam Carter on " in kept.inner_text()
    assert reason in kept.inner_text()
    assert no_horizontal_scroll(page)
    # At the top: a full-page screenshot draws the sticky header where the page is scrolled.
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "books_dismissed")

    # The client page's card shows the new score.
    page.goto(f"{live_server.url}/clients/{client.pk}/")
    card = page.locator("section", has=page.get_by_role("heading", name="Data health"))
    assert card.locator(".health-score-value").inner_text() == str(after)
    context.close()
