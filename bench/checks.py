"""Data-health checks on PostgreSQL: one client with a 1,000,000-line ledger.

  check_<key>_ms              each built-in check (`checks.rules.CHECKS`) with its default
                              rules over the big ledger, median of 3 after one warm-up
                              (budget < 1,000 ms each)
  run_checks_ms               `checks.runs.run_checks`: every check, its findings written,
                              the score stored (median of 3 after one warm-up)
  import_100k_lines_s         a 100,000-line Xero sales-invoice export through the real path
                              (upload_ledger_file → start_import → run_import, the worker's
                              task run in-process) for a fresh client (budget < 15 s)
  import_baseline_rss_mb      the importing child process's RSS just before the import
                              (Django set up; its peak RSS is then reset: Linux clear_refs)
  import_peak_rss_mb          its peak RSS during the 100,000-line import (VmHWM)
  import_20k_peak_rss_mb      the same for a 20,000-line file (flat memory: about the same)
                              The worker's task runs in-process: start_import's on-commit
                              `.delay` is replaced, so nothing reaches a broker, and
                              engine.run_import runs as the task would.
  health_page_median_ms       the client's Data health page, 30 requests after warm-up
                              (budget < 50 ms)
  health_page_queries         the queries that page runs
  health_list_median_ms       `/checks/` with 200 more clients that have scores
  health_list_queries         the queries that list runs

Usage: python bench/checks.py [--db sodium_bench_checks] [--lines 1000000] [--import-lines 100000]
                              [--only import] [--repeat 1]
Creates and drops its own database (`--db`). The ledger is generated with set-based SQL
(INSERT … SELECT over generate_series): a chart of 150 accounts (bank, suspense, directors'
loan, PAYE / wages / pension control), 2,000 customers and suppliers, three years of
invoices, bills, credit notes, bank payments and journals, about 100,000 statement lines,
lock dates, and planted problems so every check finds something; then VACUUM (ANALYZE), as
autovacuum leaves a table at rest (index-only scans need its visibility map).
`--only import` builds only the practice (no big ledger, no other clients) and prints the
import figures, `--repeat` times each.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gc
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from unittest import mock

from _setup import ROOT, report, setup_django

SLUG = "bench-checks"
STAFF_EMAIL = "staff@bench-checks.example"

# Overheads: (name, how many numbered accounts of it) — about 115 expense accounts.
OVERHEADS = [
    "Advertising", "Bank Fees", "Cleaning", "Consulting", "Depreciation Charge",
    "Entertainment", "Freight & Courier", "General Expenses", "Insurance", "Interest Paid",
    "Legal Expenses", "Light, Power, Heating", "Motor Vehicle Expenses", "Office Expenses",
    "Printing & Stationery", "Rent", "Repairs & Maintenance", "Subscriptions",
    "Telephone & Internet", "Travel - National", "Travel - International", "Training",
]  # fmt: skip
FIRST_WORDS = [
    "Abbott", "Bramley", "Castlegate", "Delph", "Eastgate", "Fenwick", "Greystone", "Harbour",
    "Inkwell", "Juniper", "Kestrel", "Larchwood", "Marston", "Northgate", "Oakridge",
    "Pembroke", "Quayside", "Redcliffe", "Saltash", "Thornbury", "Ullswater", "Valley",
    "Westbury", "Yardley", "Zenith", "Ashcombe", "Beacon", "Coldharbour", "Dunmore",
    "Elmstead", "Foxley", "Gatwick", "Hollins", "Ivybridge", "Jarrow", "Kingsley", "Lowther",
    "Millbrook", "Newbold", "Orchard", "Penrose", "Rookwood", "Sedgefield", "Tamworth",
    "Upton", "Verity", "Whitacre", "Yelland", "Alder", "Birchfield",
]  # fmt: skip
TRADES = [
    "Joinery", "Engineering", "Hotels", "Dental Care", "Builders", "Florists", "Motors",
    "Bakery", "Logistics", "Print", "Plumbing", "Roofing", "Catering", "Pharmacy", "Optics",
    "Accountancy", "Electrical", "Farms", "Interiors", "Software", "Surveyors", "Architects",
    "Cycles", "Brewery", "Kennels", "Garden Centre", "Opticians", "Salon", "Tyres", "Glazing",
    "Scaffolding", "Couriers", "Textiles", "Timber", "Upholstery", "Vets", "Windows", "Yachts",
    "Galleries", "Studios",
]  # fmt: skip
SALES_TAX, PURCHASE_TAX, NO_VAT = "No VAT", "20% (VAT on Expenses)", "No VAT"


# --- the big ledger --------------------------------------------------------------------------


def _chart(practice, client):
    """Write the client's chart of accounts (150); return {role: account or list}."""
    from checks.models import LedgerAccount

    A = LedgerAccount.Type
    rows = [
        ("090", "Business Current Account", A.BANK, False),
        ("091", "Business Savings Account", A.BANK, False),
        ("610", "Accounts Receivable", A.CURRENT_ASSET, True),
        ("620", "Prepayments", A.CURRENT_ASSET, False),
        ("800", "Accounts Payable", A.CURRENT_LIABILITY, True),
        ("814", "Wages Payable - Payroll", A.CURRENT_LIABILITY, False),
        ("820", "VAT", A.CURRENT_LIABILITY, True),
        ("825", "PAYE & NIC Payable", A.CURRENT_LIABILITY, False),
        ("826", "Pension Payable", A.CURRENT_LIABILITY, False),
        ("835", "Directors' Loan Account", A.CURRENT_LIABILITY, False),
        ("960", "Retained Earnings", A.EQUITY, True),
        ("970", "Share Capital", A.EQUITY, False),
        ("477", "Salaries", A.OVERHEAD, False),
        ("9999", "Suspense", A.CURRENT_LIABILITY, False),
        ("710", "Office Equipment", A.FIXED_ASSET, False),
        ("720", "Computer Equipment", A.FIXED_ASSET, False),
        ("730", "Motor Vehicles", A.FIXED_ASSET, False),
    ]
    rows += [(f"{200 + i}", f"Sales - Line {i + 1}", A.REVENUE, False) for i in range(10)]
    rows += [("260", "Other Revenue", A.OTHER_INCOME, False)]
    rows += [(f"{310 + i}", f"Cost of Goods Sold - {i + 1}", A.DIRECT_COSTS, False)
             for i in range(10)]  # fmt: skip
    code, n = 400, 0
    while len(rows) < 150:
        if str(code) not in {r[0] for r in rows}:
            name = OVERHEADS[n % len(OVERHEADS)]
            rows.append((str(code), f"{name} {n // len(OVERHEADS) + 1}", A.OVERHEAD, False))
            n += 1
        code += 1
    accounts = LedgerAccount.objects.bulk_create(
        LedgerAccount(
            practice=practice, client=client, code=c, name=n, type=t, is_system=s,
            tax_code=NO_VAT,
        )
        for c, n, t, s in rows
    )  # fmt: skip
    by_code = {a.code: a for a in accounts}
    overheads = [a for a in accounts if a.type in (A.OVERHEAD, A.DIRECT_COSTS) and a.code != "477"]
    return {
        "by_code": by_code,
        "revenue": [a for a in accounts if a.type == A.REVENUE],
        # The last 10 overheads are never coded to (dormant, never used).
        "purchases": overheads[:-10],
        "journals": overheads[:20],
        "old_only": overheads[20:25],  # used until a year ago only (dormant)
    }


def _contacts(practice, client):
    """Write 1,000 customers then 1,000 suppliers (ids contiguous) and the payroll payees."""
    from checks.models import LedgerContact

    names = [f"{a} {t}" for t in TRADES for a in FIRST_WORDS]  # 2,000 distinct
    random.Random(7).shuffle(names)
    customers = LedgerContact.objects.bulk_create(
        LedgerContact(practice=practice, client=client, name=f"{n} Ltd", is_customer=True)
        for n in names[:1000]
    )
    suppliers = LedgerContact.objects.bulk_create(
        LedgerContact(practice=practice, client=client, name=n, is_supplier=True)
        for n in names[1000:]
    )
    # Planted duplicates: "X Ltd" and "X Limited", and a one-letter typo.
    twins = LedgerContact.objects.bulk_create(
        LedgerContact(
            practice=practice, client=client, is_customer=True,
            name=c.name.replace(" Ltd", " Limited") if i % 2 else c.name[:-4] + "s Ltd",
        )
        for i, c in enumerate(customers[:6])
    )  # fmt: skip
    payees = {
        name: LedgerContact.objects.create(
            practice=practice, client=client, name=name, is_supplier=True
        )
        for name in ("Staff wages", "HM Revenue & Customs", "Pension Provider", "Director")
    }
    return customers, suppliers, twins, payees


def _sql(cur, text: str, params: dict) -> None:
    """Run `text`'s statements one by one (a prepared statement holds one)."""
    for statement in text.split(";\n"):
        if statement.strip():
            cur.execute(statement, params)


def build_ledger(practice, client, today: dt.date, n_lines: int) -> dict:
    """Generate the client's ledger; return what was planted (for the report)."""
    from django.db import connection

    chart = _chart(practice, client)
    customers, suppliers, twins, payees = _contacts(practice, client)
    bank, savings = chart["by_code"]["090"], chart["by_code"]["091"]
    suspense = chart["by_code"]["9999"]
    travel = next(a for a in chart["purchases"] if a.name.startswith("Travel - National"))
    # Every contact codes to one account (customers to a sales account).
    contact_ids = [c.pk for c in customers] + [c.pk for c in suppliers]
    contact_accounts = [chart["revenue"][i % 10].pk for i in range(1000)] + [
        chart["purchases"][i % len(chart["purchases"])].pk for i in range(1000)
    ]
    assert contact_ids == list(range(customers[0].pk, customers[0].pk + 2000)), "ids not contiguous"
    n_tx = n_lines * 4 // 10  # 1 + g % 4 lines each: 2.5 a transaction
    p = {
        "practice": practice.pk,
        "client": client.pk,
        "today": today,
        "n_tx": n_tx,
        "cust0": customers[0].pk,
        "supp0": suppliers[0].pk,
        "contact_ids": contact_ids,
        "contact_accounts": contact_accounts,
        "journals": [a.pk for a in chart["journals"]],
        "old_only": [a.pk for a in chart["old_only"]],
        "bank": bank.pk,
        "savings": savings.pk,
        "suspense": suspense.pk,
        "travel": travel.pk,
        "multi_suppliers": [s.pk for s in suppliers[:25]],
    }
    with connection.cursor() as cur:
        cur.execute("SELECT setseed(0.17)")
        _sql(
            cur,
            """
            CREATE TEMP TABLE bench_contact AS
            SELECT unnest(%(contact_ids)s::bigint[]) AS contact_id,
                   unnest(%(contact_accounts)s::bigint[]) AS account_id
            """,
            p,
        )
        _sql(
            cur,
            """
            CREATE TEMP TABLE bench_tx AS
            SELECT g, kind, date, nlines, r_status, r_bank,
                   CASE WHEN kind IN ('sales_invoice', 'sales_credit_note', 'bank_receive')
                        THEN %(cust0)s + who
                        WHEN kind = 'journal' THEN NULL
                        ELSE %(supp0)s + who END AS contact_id
            FROM (
                SELECT g, 1 + g %% 4 AS nlines, %(today)s::date - (random() * 1094)::int AS date,
                       (random() * 999)::int AS who, random() AS r_status, random() AS r_bank,
                       CASE WHEN b < 38 THEN 'sales_invoice' WHEN b < 76 THEN 'bill'
                            WHEN b < 88 THEN 'bank_spend' WHEN b < 96 THEN 'bank_receive'
                            WHEN b < 98 THEN 'sales_credit_note'
                            WHEN b < 99 THEN 'purchase_credit_note' ELSE 'journal' END AS kind
                FROM (SELECT g, (random() * 99.999)::int AS b
                      FROM generate_series(1, %(n_tx)s) g) s
            ) t
            """,
            p,
        )
        _sql(
            cur,
            """
            CREATE TEMP TABLE bench_line AS
            SELECT t.g, i AS line_no, t.kind, t.date, t.contact_id,
                   CASE WHEN t.kind = 'journal'
                        THEN (%(journals)s::bigint[])[1 + (t.g + i) %% 20]
                        ELSE c.account_id END AS account_id,
                   round((5 + random() * 995)::numeric, 2) AS net,
                   random() AS r_tax
            FROM bench_tx t LEFT JOIN bench_contact c USING (contact_id),
                 generate_series(1, t.nlines) i
            """,
            p,
        )
        # Lines coded to the "old only" accounts move off them in the last year (dormant).
        _sql(
            cur,
            """
            UPDATE bench_line SET account_id = (%(journals)s::bigint[])[1]
            WHERE account_id = ANY(%(old_only)s) AND date > %(today)s::date - 365
            """,
            p,
        )
        # Planted: 25 suppliers also coded to travel lately (multi-coded contacts).
        _sql(
            cur,
            """
            UPDATE bench_line SET account_id = %(travel)s
            WHERE contact_id = ANY(%(multi_suppliers)s) AND kind = 'bill' AND line_no = 2
              AND date > %(today)s::date - 60
            """,
            p,
        )
        # Planted: some recent money spent left on suspense (transaction clean-up).
        _sql(
            cur,
            """
            UPDATE bench_line SET account_id = %(suspense)s
            WHERE kind = 'bank_spend' AND g %% 500 = 0 AND date > %(today)s::date - 300
            """,
            p,
        )
        _sql(
            cur,
            """
            ALTER TABLE bench_line ADD COLUMN tax_rate text, ADD COLUMN tax numeric(16, 2);
            UPDATE bench_line SET
              net = CASE WHEN kind = 'journal' AND line_no %% 2 = 0 THEN -net ELSE net END,
              tax_rate = CASE
                WHEN kind IN ('bill', 'purchase_credit_note')
                  OR (kind = 'bank_spend' AND r_tax < 0.7) THEN '20%% (VAT on Expenses)'
                WHEN kind IN ('sales_invoice', 'sales_credit_note') AND r_tax < 0.02 THEN 'Exempt'
                ELSE 'No VAT' END;
            UPDATE bench_line SET tax = CASE WHEN tax_rate LIKE '20%%' THEN round(net * 0.2, 2)
                                             ELSE 0 END;
            """,
            p,
        )
        # Planted: 15 bills entered twice, two days apart (duplicate transactions).
        _sql(
            cur,
            """
            CREATE TEMP TABLE bench_dup AS
            SELECT g AS original, %(n_tx)s + row_number() OVER (ORDER BY g) AS g
            FROM bench_tx WHERE kind = 'bill' AND g %% 9973 = 5 AND date < %(today)s::date - 40
            ORDER BY g LIMIT 15;
            INSERT INTO bench_tx (g, kind, date, nlines, r_status, r_bank, contact_id)
            SELECT d.g, t.kind, t.date + 2, t.nlines, 0.5, t.r_bank, t.contact_id
            FROM bench_dup d JOIN bench_tx t ON t.g = d.original;
            INSERT INTO bench_line (g, line_no, kind, date, contact_id, account_id, net, r_tax,
                                    tax_rate, tax)
            SELECT d.g, l.line_no, l.kind, l.date + 2, l.contact_id, l.account_id, l.net, l.r_tax,
                   l.tax_rate, l.tax
            FROM bench_dup d JOIN bench_line l ON l.g = d.original;
            """,
            p,
        )
        # Planted: recent money spent with no contact (transaction clean-up).
        _sql(
            cur,
            """
            UPDATE bench_tx SET contact_id = NULL
            WHERE kind = 'bank_spend' AND g %% 400 = 1 AND date > %(today)s::date - 300;
            UPDATE bench_line l SET contact_id = NULL FROM bench_tx t
            WHERE l.g = t.g AND t.kind = 'bank_spend' AND t.contact_id IS NULL;
            """,
            p,
        )
        cur.execute("SELECT coalesce(max(id), 0) FROM checks_transaction")
        p["tx0"] = cur.fetchone()[0]
        _sql(
            cur,
            """
            INSERT INTO checks_transaction (id, practice_id, client_id, kind, source_key, number,
                reference, date, due_date, contact_id, bank_account_id, currency, total,
                tax_total, amount_due, status, attachment_count, reconciled)
            SELECT %(tx0)s + t.g, %(practice)s, %(client)s, t.kind,
                   t.kind || ':' || coalesce(n.number, 'bench:' || t.g), coalesce(n.number, ''),
                   '', t.date,
                   CASE WHEN n.number IS NOT NULL THEN t.date + 30 END,
                   t.contact_id,
                   CASE WHEN t.kind IN ('bank_spend', 'bank_receive')
                        THEN CASE WHEN t.r_bank < 0.9 THEN %(bank)s ELSE %(savings)s END END,
                   'GBP', s.total, s.tax_total,
                   CASE WHEN st.status = 'paid' THEN 0 ELSE s.total END,
                   st.status,
                   CASE WHEN t.kind IN ('bill', 'bank_spend')
                         AND NOT (t.g %% 997 = 3 AND t.date > %(today)s::date - 300)
                        THEN 1 ELSE 0 END,
                   t.kind IN ('bank_spend', 'bank_receive')
            FROM bench_tx t
            JOIN (SELECT g, sum(net + tax) AS total, sum(tax) AS tax_total
                  FROM bench_line GROUP BY g) s USING (g)
            CROSS JOIN LATERAL (SELECT CASE
                WHEN t.kind IN ('sales_invoice', 'bill') THEN
                     CASE t.kind WHEN 'sales_invoice' THEN 'INV-' ELSE 'BILL-' END
                     || lpad(t.g::text, 7, '0')
                WHEN t.kind IN ('sales_credit_note', 'purchase_credit_note')
                     THEN 'CN-' || lpad(t.g::text, 7, '0')
                WHEN t.kind = 'journal' THEN 'MJ-' || t.g END AS number) n
            CROSS JOIN LATERAL (SELECT CASE
                WHEN t.r_status < 0.003 THEN 'voided'
                WHEN t.r_status < 0.005 THEN 'draft'
                WHEN t.kind IN ('sales_invoice', 'bill') AND t.date > %(today)s::date - 30
                     THEN 'authorised'
                ELSE 'paid' END AS status) st
            ORDER BY t.g
            """,
            p,
        )
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('checks_transaction', 'id'), "
            "(SELECT max(id) FROM checks_transaction))"
        )
        _sql(
            cur,
            """
            INSERT INTO checks_transactionline (practice_id, client_id, transaction_id, line_no,
                account_id, account_code, tax_rate, description, net, tax, date, kind, contact_id)
            SELECT %(practice)s, %(client)s, %(tx0)s + l.g, l.line_no, l.account_id, a.code,
                   l.tax_rate, a.name, l.net, l.tax, l.date, l.kind, l.contact_id
            FROM bench_line l JOIN checks_ledgeraccount a ON a.id = l.account_id
            ORDER BY l.g, l.line_no
            """,
            p,
        )
        # Statement lines: every bank payment and receipt, and the payments of 20,000 paid
        # invoices and bills (14 days after their date).
        _sql(
            cur,
            """
            INSERT INTO checks_bankstatementline (practice_id, client_id, bank_account_id,
                source_key, date, amount, payee, description, reference, cheque_number,
                reconciled)
            SELECT %(practice)s, %(client)s, coalesce(t.bank_account_id, %(bank)s),
                   'bench:' || t.id, d.date,
                   CASE WHEN t.kind IN ('sales_invoice', 'bank_receive') THEN t.total
                        ELSE -t.total END,
                   coalesce(c.name, ''), '', t.number, '', true
            FROM checks_transaction t
            LEFT JOIN checks_ledgercontact c ON c.id = t.contact_id
            CROSS JOIN LATERAL (SELECT CASE WHEN t.kind LIKE 'bank%%' THEN t.date
                                            ELSE t.date + 14 END AS date) d
            WHERE t.client_id = %(client)s AND t.status = 'paid'
                AND (t.kind IN ('bank_spend', 'bank_receive')
                   OR (t.kind IN ('sales_invoice', 'bill') AND t.id %% 15 = 0))
              AND d.date <= %(today)s::date
            """,
            p,
        )
        # Planted: unreconciled lines, over 30 days, 15–30 days and under 15 days old.
        _sql(
            cur,
            """
            UPDATE checks_bankstatementline SET reconciled = false
            WHERE client_id = %(client)s AND id IN (
                SELECT id FROM checks_bankstatementline
                WHERE client_id = %(client)s AND bank_account_id = %(bank)s
                  AND (date = %(today)s::date - 45 OR date = %(today)s::date - 20
                       OR date > %(today)s::date - 6)
            )
            """,
            p,
        )
        unreconciled = cur.rowcount
        for table in ("bench_line", "bench_tx", "bench_contact", "bench_dup"):
            cur.execute(f"DROP TABLE {table}")
    special = _payroll_and_loans(practice, client, today, chart, payees)
    _lock_dates(practice, client, today)
    with connection.cursor() as cur:
        cur.execute(
            # What autovacuum does in production (it is off on some development servers):
            # statistics, and the visibility map that index-only scans need.
            "VACUUM (ANALYZE) checks_transaction, checks_transactionline, "
            "checks_bankstatementline, checks_ledgeraccount, checks_ledgercontact"
        )
    return {"unreconciled": unreconciled, "special_transactions": special, "twins": len(twins)}


def _payroll_and_loans(practice, client, today: dt.date, chart, payees) -> int:
    """Three years of monthly payroll (journal + payments) and the director's drawings.

    Planted: last complete month's PAYE is not paid (PAYE control not back to zero), and the
    directors' loan account is overdrawn by over £10,000.
    """
    from dateutil.relativedelta import relativedelta

    from checks.models import BankStatementLine, Transaction, TransactionLine

    K = Transaction.Kind
    code = chart["by_code"]
    txs: list[tuple[Transaction, list[tuple]]] = []

    def add(kind, day, contact, lines, number=""):
        total = sum((net for _, net in lines), Decimal(0))
        t = Transaction(
            practice=practice, client=client, kind=kind, date=day, contact=contact,
            source_key=f"{kind}:special:{len(txs) + 1}", number=number, total=total,
            bank_account=code["090"] if kind.startswith("bank") else None,
            status=Transaction.Status.PAID, reconciled=kind.startswith("bank"),
        )  # fmt: skip
        txs.append((t, lines))

    month = today.replace(day=1) - relativedelta(months=36)
    last_complete = today.replace(day=1) - relativedelta(months=1)
    while month < today.replace(day=1):
        payday = month + relativedelta(day=25)
        gross, tax, pension = Decimal("48250.00"), Decimal("12871.40"), Decimal("2412.50")
        net_pay = gross - tax - pension
        add(K.JOURNAL, payday, None, [(code["477"], gross), (code["814"], -net_pay),
                                       (code["825"], -tax), (code["826"], -pension)],
            number=f"PAY-{month:%Y%m}")  # fmt: skip
        add(K.BANK_SPEND, payday, payees["Staff wages"], [(code["814"], net_pay)])
        if month != last_complete:
            add(K.BANK_SPEND, payday + relativedelta(day=31), payees["HM Revenue & Customs"],
                [(code["825"], tax)])  # fmt: skip
        add(K.BANK_SPEND, payday + relativedelta(day=31), payees["Pension Provider"],
            [(code["826"], pension)])  # fmt: skip
        month += relativedelta(months=1)
    for months, drawn in ((7, "9000"), (4, "8500"), (2, "7250")):
        add(K.BANK_SPEND, today - relativedelta(months=months), payees["Director"],
            [(code["835"], Decimal(drawn))])  # fmt: skip
    add(K.BANK_RECEIVE, today - relativedelta(months=5), payees["Director"],
        [(code["835"], Decimal("5000"))])  # fmt: skip
    Transaction.objects.bulk_create([t for t, _ in txs])
    TransactionLine.objects.bulk_create(
        TransactionLine(
            practice=practice, client=client, transaction=t, line_no=i, account=account,
            account_code=account.code, tax_rate=NO_VAT, net=net, date=t.date, kind=t.kind,
            contact=t.contact, description=account.name,
        )
        for t, lines in txs
        for i, (account, net) in enumerate(lines, start=1)
    )  # fmt: skip
    BankStatementLine.objects.bulk_create(
        BankStatementLine(
            practice=practice, client=client, bank_account=code["090"],
            source_key=f"special:{t.pk}", date=t.date,
            amount=t.total if t.kind == K.BANK_RECEIVE else -t.total,
            payee=t.contact.name, reconciled=True,
        )
        for t, _ in txs
        if t.kind.startswith("bank") and t.date <= today
    )  # fmt: skip
    return len(txs)


def _lock_dates(practice, client, today: dt.date) -> None:
    from dateutil.relativedelta import relativedelta
    from django.utils import timezone

    from checks.models import LockDate

    # Planted: the books locked only to four months ago.
    for months in (28, 16, 4):
        LockDate.objects.create(
            practice=practice,
            client=client,
            lock_date=today.replace(day=1) - relativedelta(months=months - 1, days=1),
            recorded_at=timezone.now() - dt.timedelta(days=30 * months),
            source="xero",
        )


# --- the practice, its other clients -------------------------------------------------------------


def build_practice(n_list_clients: int):
    from django_scopes import scopes_disabled

    from sodium.models import Client, Membership, Practice, User

    with scopes_disabled():
        practice = Practice.objects.create(name="Bench Checks", slug=SLUG)
        staff = User.objects.create_user(email=STAFF_EMAIL, full_name="Bench Staff")
        Membership.objects.create(practice=practice, user=staff, role="staff")
        big = Client.objects.create(
            practice=practice, name="Big Ledger Ltd", reference="BIG", vat_periods="none"
        )
        others = Client.objects.bulk_create(
            Client(practice=practice, name=f"Client {i:03d} Ltd", reference=f"L{i:03d}")
            for i in range(n_list_clients)
        )
    return practice, staff, big, others


def score_others(practice, clients, today: dt.date) -> None:
    """Give each client 12 runs with scores and a few open findings (for the list page)."""
    from django.utils import timezone

    from checks.models import CheckRun, Finding, HealthScore
    from checks.scoring import band

    rng = random.Random(3)
    now = timezone.now()
    runs, scores = [], []
    for client in clients:
        for n in range(12):
            run = CheckRun(
                practice=practice, client=client, run_date=today - dt.timedelta(days=30 * n),
                started_at=now - dt.timedelta(days=30 * n), score=rng.randint(20, 100),
            )  # fmt: skip
            run.finished_at = run.started_at
            runs.append(run)
    CheckRun.objects.bulk_create(runs, batch_size=1000)
    for run in runs:
        scores.append(
            HealthScore(
                practice=practice, client=run.client, run=run, score=run.score,
                band=band(run.score), recorded_at=run.started_at,
            )
        )  # fmt: skip
    HealthScore.objects.bulk_create(scores, batch_size=1000)
    Finding.objects.bulk_create(
        (
            Finding(
                practice=practice, client=client, check_key="vat", fingerprint=f"bench:{i}",
                severity="amber", title=f"Bench finding {i}", first_seen_run=runs[12 * k],
                last_seen_run=runs[12 * k],
            )
            for k, client in enumerate(clients)
            for i in range(rng.randint(0, 8))
        ),
        batch_size=1000,
    )  # fmt: skip


# --- timing -----------------------------------------------------------------------------------


def time_checks(client, today: dt.date) -> dict[str, float]:
    from checks.rules import CHECKS
    from sodium.tenancy import practice_scope

    figures = {}
    with practice_scope(client.practice_id):
        for check in CHECKS:
            rules = check.default_rules()
            found = check.run(client, rules, today)  # warm-up
            samples = []
            for _ in range(3):
                start = time.perf_counter()
                check.run(client, rules, today)
                samples.append((time.perf_counter() - start) * 1000)
            figures[check.key] = (statistics.median(samples), len(found))
    return figures


def time_run_checks(client) -> tuple[float, object]:
    from checks.runs import run_checks

    run = run_checks(client)  # warm-up: creates the findings
    samples = []
    for _ in range(3):
        start = time.perf_counter()
        run = run_checks(client)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), run


def median_ms(http, url: str, n: int) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        response = http.get(url, secure=True)
        assert response.status_code == 200, (url, response.status_code, response.content[:2000])
    with CaptureQueriesContext(connection) as ctx:
        http.get(url, secure=True)
    queries = len(ctx.captured_queries)  # now: the next request resets the log
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = http.get(url, secure=True)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(samples), queries


# --- the import, in a child process -------------------------------------------------------------


def write_invoice_file(path: Path, n_lines: int, seed: int = 11) -> None:
    """Write a Xero sales-invoice export of `n_lines` lines (1–4 per invoice, 500 customers)."""
    sys.path.insert(0, str(ROOT))
    from tests.checks.files.layouts import XERO_SALES_INVOICES

    header = XERO_SALES_INVOICES
    plain = [h.lstrip("*") for h in header]
    rng = random.Random(seed)
    start = dt.date.today() - dt.timedelta(days=720)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        written, number = 0, 0
        while written < n_lines:
            number += 1
            count = min(1 + number % 4, n_lines - written)
            contact = f"{FIRST_WORDS[number % 50]} {TRADES[(number // 50) % 10]} Customer"
            day = start + dt.timedelta(days=rng.randrange(700))
            nets = [Decimal(rng.randrange(500, 500000)) / 100 for _ in range(count)]
            taxes = [(n * Decimal("0.2")).quantize(Decimal("0.01")) for n in nets]
            total = sum(nets) + sum(taxes)
            for i, (net, tax) in enumerate(zip(nets, taxes, strict=True)):
                row = {
                    "ContactName": contact, "InvoiceNumber": f"INV-{number:07d}",
                    "InvoiceDate": f"{day:%d/%m/%Y}",
                    "DueDate": f"{day + dt.timedelta(days=30):%d/%m/%Y}",
                    "Total": f"{total:.2f}", "TaxTotal": f"{sum(taxes):.2f}",
                    "InvoiceAmountPaid": f"{total:.2f}", "InvoiceAmountDue": "0.00",
                    "Description": f"Services line {i + 1}", "Quantity": "1.0000",
                    "UnitAmount": f"{net:.2f}", "LineAmount": f"{net:.2f}",
                    "AccountCode": str(200 + (number + i) % 10),
                    "TaxType": "20% (VAT on Income)", "TaxAmount": f"{tax:.2f}",
                    "Currency": "GBP", "Type": "Sales invoice", "Sent": "Sent", "Status": "Paid",
                }  # fmt: skip
                writer.writerow([row.get(h, "") for h in plain])
            written += count


def import_child(db: str, path: str, label: str) -> None:
    """In a child process: import `path` for a fresh client; print the figures as JSON."""
    setup_django(db, fresh=False)
    from django.core.files.uploadedfile import UploadedFile
    from django_scopes import scopes_disabled

    from checks import engine, tasks
    from checks.models import LedgerAccount, LedgerImport, TransactionLine
    from sodium.models import Client, Practice, User
    from sodium.tenancy import practice_scope

    with scopes_disabled():
        practice = Practice.objects.get(slug=SLUG)
        staff = User.objects.get(email=STAFF_EMAIL)
        client = Client.objects.create(practice=practice, name=f"Import {label}", reference=label)
        LedgerAccount.objects.bulk_create(
            LedgerAccount(practice=practice, client=client, code=str(200 + i),
                          name=f"Sales {i}", type=LedgerAccount.Type.REVENUE)
            for i in range(10)
        )  # fmt: skip
    # Django's start-up peaks above what an import needs, so the peak so far is reset (Linux:
    # clear_refs 5 resets VmHWM, which ru_maxrss reports) and the baseline is the RSS now.
    gc.collect()
    reset = _reset_peak_rss()
    baseline = (
        _rss_mb("VmRSS") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    size = os.path.getsize(path)
    with practice_scope(practice), open(path, "rb") as handle:
        start = time.perf_counter()
        upload = UploadedFile(handle, name=f"{label}.csv", content_type="text/csv", size=size)
        imp = engine.upload_ledger_file(client, upload, actor=staff)
        uploaded = time.perf_counter()
        # The worker's task runs here, in-process: nothing is published to a broker.
        with mock.patch.object(tasks.import_ledger_task, "delay") as delay:
            imp = engine.start_import(imp, actor=staff)
        delay.assert_called_once_with(imp.pk, practice.pk)
        imp = engine.run_import(imp.pk)
        elapsed = time.perf_counter() - start
        lines = TransactionLine.objects.filter(client=client).count()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak = _rss_mb("VmHWM") if reset else maxrss
    if imp.status != LedgerImport.Status.DONE:
        raise SystemExit(f"the import ended {imp.status}: {imp.error}")
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "upload_seconds": uploaded - start,
                "baseline_mb": baseline,
                "peak_mb": peak,
                "peak_reset": reset,
                "ru_maxrss_mb": maxrss,
                "lines": lines,
                "transactions": imp.created_count,
                "bytes": size,
            }
        ),
        flush=True,
    )


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def _rss_mb(field: str) -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise LookupError(field)


def run_import_child(db: str, n_lines: int, tmp: Path, run: int = 0) -> dict:
    path = tmp / f"invoices-{n_lines}.csv"
    write_invoice_file(path, n_lines)
    label = f"I{n_lines}" + (f"-{run}" if run else "")
    out = subprocess.run(
        [sys.executable, __file__, "--db", db, "--import-child", str(path), label],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["lines"] != n_lines:
        raise SystemExit(f"imported {result['lines']} lines of {n_lines}")
    return result


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="sodium_bench_checks")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--import-lines", type=int, default=100_000)
    parser.add_argument("--list-clients", type=int, default=200)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--only", choices=["import"], help="measure the import only")
    parser.add_argument("--repeat", type=int, default=1, help="with --only import: runs of each")
    parser.add_argument(
        "--import-child", nargs=2, metavar=("PATH", "LABEL"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    os.environ.setdefault("SODIUM_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("SODIUM_DB_CONN_MAX_AGE", "60")
    tmp = Path(os.environ.setdefault("SODIUM_DATA_DIR", tempfile.mkdtemp(prefix="sodium-bench-")))
    if args.import_child:
        import_child(args.db, *args.import_child)
        return
    setup_django(args.db)
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)  # the manifest pages link to

    from django.test import Client as HttpClient
    from django.urls import reverse
    from django_scopes import scopes_disabled

    from checks.models import BankStatementLine, TransactionLine
    from sodium.schedules.practice import today_for

    if args.only == "import":
        build_practice(0)
        for run in range(args.repeat):
            report_imports(args.db, args.import_lines, tmp, run)
        return
    practice, staff, big, others = build_practice(args.list_clients)
    today = today_for(practice)
    start = time.perf_counter()
    with scopes_disabled():
        planted = build_ledger(practice, big, today, args.lines)
        lines = TransactionLine.objects.filter(client=big).count()
        statement = BankStatementLine.objects.filter(client=big).count()
    report("ledger_build_s", time.perf_counter() - start, "s")
    report("ledger_lines", lines, "lines")
    report("ledger_statement_lines", statement, "lines")
    print(f"# planted: {planted}", file=sys.stderr)

    for key, (ms, found) in time_checks(big, today).items():
        report(f"check_{key}_ms", ms, "ms")
        print(f"#   {key}: {found} findings", file=sys.stderr)
    ms, run = time_run_checks(big)
    report("run_checks_ms", ms, "ms")
    print(f"# run counts: {json.dumps(run.counts)}", file=sys.stderr)

    with scopes_disabled():
        score_others(practice, others, today)
    http = HttpClient()
    http.force_login(staff)
    page_ms, page_queries = median_ms(
        http, reverse("checks:client-health", args=[big.pk]), args.requests
    )
    report("health_page_median_ms", page_ms, "ms")
    report("health_page_queries", page_queries, "queries")
    list_ms, list_queries = median_ms(http, reverse("checks:health-list"), args.requests)
    report("health_list_median_ms", list_ms, "ms")
    report("health_list_queries", list_queries, "queries")

    report_imports(args.db, args.import_lines, tmp)


def report_imports(db: str, import_lines: int, tmp: Path, run: int = 0) -> None:
    """Import a file of `import_lines` lines and one of 20,000 (each in a child); print both."""
    big_import = run_import_child(db, import_lines, tmp, run)
    report(f"import_{import_lines // 1000}k_lines_s", big_import["seconds"], "s")
    report(f"import_{import_lines // 1000}k_upload_s", big_import["upload_seconds"], "s")
    report("import_baseline_rss_mb", big_import["baseline_mb"], "MB")
    report("import_peak_rss_mb", big_import["peak_mb"], "MB")
    if not big_import["peak_reset"]:
        print("# peak RSS could not be reset: both figures include start-up", file=sys.stderr)
    small = run_import_child(db, 20_000, tmp, run)
    report("import_20k_lines_s", small["seconds"], "s")
    report("import_20k_baseline_rss_mb", small["baseline_mb"], "MB")
    report("import_20k_peak_rss_mb", small["peak_mb"], "MB")


if __name__ == "__main__":
    main()
