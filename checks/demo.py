"""Demo ledgers: a year of bookkeeping for a dozen demo clients, each with chosen problems.

`build_ledgers(practice, today=…)` gives twelve of the demo practice's clients a UK chart of
accounts (only the accounts each uses, plus the system ones), customers and suppliers, a year
of sales invoices, bills, bank payments and receipts with their statement lines, a monthly
payroll journal with its payments, and a lock date. Every client's books start clean: each
contact codes to one account and one tax rate, every bill with VAT has its receipt, every
statement line is reconciled, payroll control accounts are cleared within the month and the
books are locked to the last month end. Then each client gets the problems its profile names
(`PROFILES`), so every built-in check finds something on at least one client and the first
client ("clean") has nothing at all.

The generator is seeded (`random.Random(seed)`), so the same seed gives the same books, and
it writes with bulk inserts: about 1,600 transactions and 1,400 statement lines in under a
second. Amounts are
Decimal; the lines follow the checks' sign convention (`checks.rules.base`): a sales invoice
or money received credits its lines' accounts, a bill, money spent or a journal line debits
them, and a journal's credit lines are negative.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from checks.models import (
    BankStatementLine,
    LedgerAccount,
    LedgerContact,
    LockDate,
    Transaction,
    TransactionLine,
)
from sodium.models import Client, Practice
from sodium.schedules.practice import today_for

A = LedgerAccount.Type
K = Transaction.Kind
S = Transaction.Status
CENT = Decimal("0.01")
VAT_RATE = Decimal("0.20")
SALES_TAX = "20% (VAT on Income)"
PURCHASE_TAX = "20% (VAT on Expenses)"
NO_VAT = "No VAT"

# (code, name, type, system account)
SYSTEM_ACCOUNTS = [
    ("610", "Accounts Receivable", A.CURRENT_ASSET, True),
    ("800", "Accounts Payable", A.CURRENT_LIABILITY, True),
    ("820", "VAT", A.CURRENT_LIABILITY, True),
    ("960", "Retained Earnings", A.EQUITY, True),
]
BANK = ("090", "Business Current Account", A.BANK, False)
SALES = ("200", "Sales", A.REVENUE, False)
SALARIES = ("477", "Salaries", A.OVERHEAD, False)
WAGES_PAYABLE = ("814", "Wages Payable - Payroll", A.CURRENT_LIABILITY, False)
PAYE = ("825", "PAYE & NIC Payable", A.CURRENT_LIABILITY, False)
DIRECTORS_LOAN = ("835", "Directors' Loan Account", A.CURRENT_LIABILITY, False)
SUSPENSE = ("9999", "Suspense", A.CURRENT_LIABILITY, False)
TRAVEL = ("493", "Travel - National", A.OVERHEAD, False)
# Suppliers and the one account each codes to (monthly bills of roughly `amount`).
SUPPLIERS = [
    ("Northern Power Ltd", ("445", "Light, Power, Heating", A.OVERHEAD, False), 180),
    ("Castlegate Property Lettings", ("469", "Rent", A.OVERHEAD, False), 1250),
    ("Fibrelink Broadband", ("489", "Telephone & Internet", A.OVERHEAD, False), 65),
    ("Inkwell Stationers", ("461", "Printing & Stationery", A.OVERHEAD, False), 90),
    ("Harbour Insurance Brokers", ("433", "Insurance", A.OVERHEAD, False), 140),
    ("Quillon Software", ("485", "Subscriptions", A.OVERHEAD, False), 45),
    ("Wholesale Goods Direct", ("310", "Cost of Goods Sold", A.DIRECT_COSTS, False), 2400),
]
CUSTOMERS = [
    "Abbott & Lowe Ltd",
    "Brightwater Hotels",
    "Corran Engineering",
    "Delph Valley Farms",
    "Eastgate Medical Practice",
    "Fenwick Interiors",
]

# What goes wrong in each client's books, in the order the clients are taken.
PROFILES: list[tuple[str, ...]] = [
    ("clean",),
    ("duplicate_bill", "unreconciled_old"),
    ("multi_coded", "duplicate_contact"),
    ("dormant_account", "lock_date_old"),
    ("suspense", "no_contact"),
    ("loan_red",),
    ("loan_amber", "paye_not_cleared"),
    ("vat_threshold", "no_contact"),
    ("unreconciled_recent", "duplicate_bill"),
    ("missing_receipts", "multi_coded"),
    ("lock_date_old", "suspense", "unreconciled_old"),
    ("duplicate_contact", "dormant_account", "loan_amber"),
]


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


@dataclasses.dataclass
class _Books:
    """One client's books while they are generated, written at the end in bulk."""

    practice: Practice
    client: Client
    rng: random.Random
    today: dt.date
    accounts: dict[str, LedgerAccount] = dataclasses.field(default_factory=dict)
    contacts: dict[str, LedgerContact] = dataclasses.field(default_factory=dict)
    transactions: list[tuple[Transaction, list[TransactionLine]]] = dataclasses.field(
        default_factory=list
    )
    statement: list[BankStatementLine] = dataclasses.field(default_factory=list)

    def _row(self) -> dict:
        return {"practice": self.practice, "client": self.client}

    def account(self, spec: tuple) -> LedgerAccount:
        code, name, kind, system = spec
        if code not in self.accounts:
            self.accounts[code] = LedgerAccount(
                **self._row(), code=code, name=name, type=kind, is_system=system
            )
        return self.accounts[code]

    def contact(self, name: str, *, customer: bool = False) -> LedgerContact:
        if name not in self.contacts:
            self.contacts[name] = LedgerContact(
                **self._row(), name=name, is_customer=customer, is_supplier=not customer
            )
        return self.contacts[name]

    def add(
        self,
        kind: str,
        day: dt.date,
        contact: LedgerContact | None,
        lines: list[tuple[tuple, Decimal, str]],
        *,
        number: str = "",
        attachments: int = 0,
        status: str = S.PAID,
        statement: bool = True,
        reconciled: bool = True,
    ) -> Transaction:
        """Add a transaction of `lines` (account spec, net, tax rate) and its bank line."""
        key = number or f"demo:{len(self.transactions) + 1}"
        nets = [net for _, net, _ in lines]
        taxes = [
            (net * VAT_RATE).quantize(CENT) if "20%" in rate else Decimal(0)
            for _, net, rate in lines
        ]
        total = sum(nets, Decimal(0)) + sum(taxes, Decimal(0))
        bank = self.account(BANK) if kind in (K.BANK_SPEND, K.BANK_RECEIVE) else None
        transaction = Transaction(
            **self._row(),
            kind=kind,
            source_key=f"{kind}:{key}",
            number=number,
            date=day,
            due_date=day + relativedelta(days=30) if number else None,
            contact=contact,
            bank_account=bank,
            total=total,
            tax_total=sum(taxes, Decimal(0)),
            amount_due=Decimal(0) if status == S.PAID else total,
            status=status,
            attachment_count=attachments,
            reconciled=reconciled and kind in (K.BANK_SPEND, K.BANK_RECEIVE),
        )
        rows = [
            TransactionLine(
                **self._row(),
                line_no=i,
                account=self.account(spec),
                account_code=spec[0],
                tax_rate=rate,
                net=net,
                tax=tax,
                date=day,
                kind=kind,
                contact=contact,
                description=spec[1],
            )
            for i, ((spec, net, rate), tax) in enumerate(zip(lines, taxes, strict=True), start=1)
        ]
        self.transactions.append((transaction, rows))
        paid_on = day + relativedelta(days=0 if kind.startswith("bank") else 14)
        if paid_on > self.today and kind in (K.SALES_INVOICE, K.BILL):
            transaction.status, transaction.amount_due = S.AUTHORISED, total
        elif statement and kind != K.JOURNAL:
            paid_in = kind in (K.SALES_INVOICE, K.BANK_RECEIVE)
            self.statement.append(
                BankStatementLine(
                    **self._row(),
                    bank_account=self.account(BANK),
                    source_key=f"demo:{len(self.statement) + 1}",
                    date=paid_on,
                    amount=total if paid_in else -total,
                    payee=contact.name if contact else "",
                    reference=number,
                    reconciled=reconciled,
                )
            )
        return transaction

    def write(self) -> None:
        LedgerAccount.objects.bulk_create(self.accounts.values())
        LedgerContact.objects.bulk_create(self.contacts.values())
        for transaction, _rows in self.transactions:  # the saved accounts' and contacts' ids
            transaction.contact_id = transaction.contact.pk if transaction.contact else None
            if transaction.bank_account is not None:
                transaction.bank_account_id = transaction.bank_account.pk
        Transaction.objects.bulk_create([t for t, _ in self.transactions], batch_size=500)
        lines = []
        for transaction, rows in self.transactions:
            for line in rows:
                line.transaction = transaction
                line.account_id = line.account.pk
                line.contact_id = line.contact.pk if line.contact else None
                lines.append(line)
        TransactionLine.objects.bulk_create(lines, batch_size=500)
        for line in self.statement:
            line.bank_account_id = line.bank_account.pk
        BankStatementLine.objects.bulk_create(self.statement, batch_size=500)


def _month_starts(today: dt.date) -> list[dt.date]:
    first = today + relativedelta(day=1)
    return [first - relativedelta(months=n) for n in range(12, 0, -1)]


def _clean_year(books: _Books, today: dt.date, *, vat: bool) -> None:
    """A year of tidy books: sales, one bill a month per supplier, payroll cleared monthly."""
    rng = books.rng
    sales_tax = SALES_TAX if vat else NO_VAT
    purchase_tax = PURCHASE_TAX if vat else NO_VAT
    number = 0
    suppliers = rng.sample(SUPPLIERS, k=5)
    for month in _month_starts(today):
        for customer in rng.sample(CUSTOMERS, k=3):
            number += 1
            day = month + relativedelta(days=rng.randint(0, 26))
            net = _money(rng.uniform(800, 4200))
            books.add(
                K.SALES_INVOICE,
                day,
                books.contact(customer, customer=True),
                [(SALES, net, sales_tax)],
                number=f"INV-{number:04d}",
            )
        for name, spec, amount in suppliers:
            day = month + relativedelta(days=rng.randint(2, 24))
            net = _money(amount * rng.uniform(0.85, 1.15))
            books.add(
                K.BILL,
                day,
                books.contact(name),
                [(spec, net, purchase_tax)],
                number=f"{name.split()[0][:4].upper()}-{month:%y%m}",
                attachments=1,
            )
        gross = _money(rng.uniform(3800, 5200))
        tax = (gross * Decimal("0.28")).quantize(CENT)
        payday = month + relativedelta(day=25)
        books.add(
            K.JOURNAL,
            payday,
            None,
            [(SALARIES, gross, NO_VAT), (WAGES_PAYABLE, tax - gross, NO_VAT), (PAYE, -tax, NO_VAT)],
        )
        books.add(
            K.BANK_SPEND,
            payday,
            books.contact("Staff wages"),
            [(WAGES_PAYABLE, gross - tax, NO_VAT)],
        )
        books.add(
            K.BANK_SPEND,
            month + relativedelta(day=31),
            books.contact("HM Revenue & Customs"),
            [(PAYE, tax, NO_VAT)],
        )
    books.add(
        K.BANK_RECEIVE,
        today - relativedelta(months=1, days=3),
        books.contact("Director"),
        [(DIRECTORS_LOAN, _money(5000), NO_VAT)],
    )


def _scale_turnover(books: _Books, today: dt.date, target: Decimal) -> None:
    """Scale the last twelve months' sales so their net comes to about `target`."""
    since = today - relativedelta(months=12)
    sales = [
        line
        for t, rows in books.transactions
        if t.kind == K.SALES_INVOICE and t.date > since
        for line in rows
    ]
    factor = target / sum((line.net for line in sales), Decimal(0))
    for t, rows in books.transactions:
        if t.kind == K.SALES_INVOICE:
            for line in rows:
                line.net = (line.net * factor).quantize(CENT)
                line.tax = (line.net * VAT_RATE).quantize(CENT) if line.tax else Decimal(0)
            t.total = sum((line.net + line.tax for line in rows), Decimal(0))
            t.tax_total = sum((line.tax for line in rows), Decimal(0))
            t.amount_due = Decimal(0) if t.status == S.PAID else t.total
    totals = {t.number: t.total for t, _ in books.transactions if t.kind == K.SALES_INVOICE}
    for line in books.statement:
        if line.reference in totals:
            line.amount = totals[line.reference]


def _plant(books: _Books, problem: str, today: dt.date) -> None:
    """Add one profile problem to the books."""
    rng = books.rng
    recent = today - relativedelta(days=20)
    if problem == "duplicate_bill":
        original = next(t for t, _ in reversed(books.transactions) if t.kind == K.BILL)
        spec = next(rows for t, rows in books.transactions if t is original)[0]
        books.add(
            K.BILL,
            original.date + relativedelta(days=2),
            original.contact,
            [(_spec_of(spec), spec.net, spec.tax_rate)],
            number=f"{original.number}-B",
            attachments=1,
        )
    elif problem == "multi_coded":
        supplier = next(t.contact for t, _ in reversed(books.transactions) if t.kind == K.BILL)
        books.add(
            K.BILL,
            recent,
            supplier,
            [(TRAVEL, _money(rng.uniform(40, 120)), PURCHASE_TAX)],
            number="MULTI-1",
            attachments=1,
        )
    elif problem == "duplicate_contact":
        customer = next(c for c in books.contacts.values() if c.is_customer)
        twin = (
            customer.name.replace(" Ltd", " Limited")
            if " Ltd" in customer.name
            else customer.name + "."
        )
        books.add(
            K.SALES_INVOICE,
            recent,
            books.contact(twin, customer=True),
            [(SALES, _money(950), SALES_TAX)],
            number="INV-9001",
        )
    elif problem == "dormant_account":
        books.add(
            K.BILL,
            today - relativedelta(months=10),
            books.contact("Cedar Conference Centre"),
            [(("420", "Entertainment", A.OVERHEAD, False), _money(310), PURCHASE_TAX)],
            number="CEDAR-1",
            attachments=1,
        )
    elif problem in ("unreconciled_old", "unreconciled_recent"):
        for days in (45, 22, 6) if problem == "unreconciled_old" else (9, 4):
            books.add(
                K.BANK_SPEND,
                today - relativedelta(days=days),
                books.contact("Fuelwise Garage"),
                [(TRAVEL, _money(rng.uniform(30, 90)), PURCHASE_TAX)],
                attachments=1,
                reconciled=False,
            )
    elif problem == "suspense":
        books.add(
            K.BANK_SPEND,
            recent,
            books.contact("Unknown payee"),
            [(SUSPENSE, _money(742.18), NO_VAT)],
        )
    elif problem == "no_contact":
        books.add(
            K.BANK_SPEND, recent, None, [(TRAVEL, _money(64.50), PURCHASE_TAX)], attachments=1
        )
    elif problem in ("loan_red", "loan_amber"):
        drawn = _money(17500 if problem == "loan_red" else 8200)
        books.add(
            K.BANK_SPEND,
            today - relativedelta(months=2),
            books.contact("Director"),
            [(DIRECTORS_LOAN, drawn, NO_VAT)],
        )
    elif problem == "paye_not_cleared":
        last = next(
            t
            for t, _ in reversed(books.transactions)
            if t.contact and t.contact.name == "HM Revenue & Customs"
        )
        books.transactions = [(t, rows) for t, rows in books.transactions if t is not last]
        books.statement = [
            line
            for line in books.statement
            if line.date != last.date or line.payee != "HM Revenue & Customs"
        ]
    elif problem == "vat_threshold":
        # Not VAT registered, with £84,500 of sales in the last twelve months: within 10 % of
        # the £90,000 registration threshold.
        _scale_turnover(books, today, Decimal("84500"))
    elif problem == "missing_receipts":
        for t, _ in books.transactions[-40:]:
            if t.kind == K.BILL and t.tax_total:
                t.attachment_count = 0


def _spec_of(line: TransactionLine) -> tuple:
    account = line.account
    return (account.code, account.name, account.type, account.is_system)


def _clients_for_profiles(practice: Practice) -> list[Client]:
    """Return a client per profile: the first by name, with a client that is not VAT
    registered (if the practice has one) in the VAT-threshold profile's place."""
    active = Client.objects.filter(practice=practice, status=Client.Status.ACTIVE)
    clients = list(active.order_by("name")[: len(PROFILES)])
    place = next(i for i, p in enumerate(PROFILES) if "vat_threshold" in p)
    if place >= len(clients) or clients[place].vat_periods == Client.VatPeriods.NONE:
        return clients
    swap = next((i for i, c in enumerate(clients) if c.vat_periods == Client.VatPeriods.NONE), None)
    if swap is not None:
        clients[place], clients[swap] = clients[swap], clients[place]
    else:
        other = active.filter(vat_periods=Client.VatPeriods.NONE).order_by("name").first()
        if other is not None:
            clients[place] = other
    return clients


def build_ledgers(
    practice: Practice, *, today: dt.date | None = None, seed: int = 13
) -> list[Client]:
    """Write a year of books for twelve of the practice's clients, one per profile, in
    `PROFILES` order (see the module)."""
    today = today or today_for(practice)
    rng = random.Random(seed)
    clients = _clients_for_profiles(practice)
    for client, profile in zip(clients, PROFILES, strict=False):
        books = _Books(practice, client, rng, today)
        for spec in SYSTEM_ACCOUNTS:
            books.account(spec)
        vat = client.vat_periods != Client.VatPeriods.NONE
        _clean_year(books, today, vat=vat)
        if not vat and "vat_threshold" not in profile:
            _scale_turnover(books, today, Decimal("42000"))  # well under the threshold
        for problem in profile:
            _plant(books, problem, today)
        books.write()
        locked = today + relativedelta(day=1) - relativedelta(days=1)
        if "lock_date_old" in profile:
            locked = locked - relativedelta(months=5) + relativedelta(day=31)
        LockDate.objects.create(practice=practice, client=client, lock_date=locked, source="demo")
    return clients


def build(practice: Practice, *, owner, manager) -> None:
    """The demo builder (registered in ChecksConfig.ready): the ledgers, then their checks."""
    from checks.runs import run_checks

    for client in build_ledgers(practice):
        run_checks(client)
    from checks.custom_checks import create_custom_check

    for name, description in CUSTOM_CHECKS:
        create_custom_check(practice=practice, actor=manager, name=name, description=description)


# The practice's own checks, worked by hand in a flow (the check library shows them).
CUSTOM_CHECKS = [
    (
        "Fixed asset register agrees to the balance sheet",
        "Tie the register's closing cost and depreciation to the trial balance; list any "
        "additions over £1,000 without an invoice.",
    ),
    (
        "Director's loan interest charged",
        "If the loan was overdrawn at any point over £10,000, check the beneficial loan "
        "interest at the official rate: https://www.gov.uk/government/publications/"
        "rates-and-allowances-beneficial-loan-arrangements-hmrc-official-rates",
    ),
    (
        "Payroll journals posted for every month",
        "Twelve payroll journals (or one per pay run) and the P32 totals agree to the PAYE "
        "control account.",
    ),
]
