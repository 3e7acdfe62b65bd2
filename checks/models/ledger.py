"""A client's bookkeeping as the checks read it: accounts, contacts, transactions, bank lines.

Every row belongs to one practice and one client (tenant-scoped). Amounts are Decimal in the
client's currency. Rows carry the natural key they were matched on when imported (an account
code, a contact name, an invoice number, or for rows with no number of their own a `source_key`
the importer derives), so importing the same file again changes nothing.

`TransactionLine` repeats its transaction's client, date and contact: the built-in checks are
set-based SQL over millions of lines, and these columns (indexed with the account) save a join
on every one of them.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from sodium.models import Client, Practice
from sodium.tenancy import TenantManager

MONEY = {"max_digits": 16, "decimal_places": 2}


class _ClientRow(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()

    class Meta:
        abstract = True


class LedgerAccount(_ClientRow):
    """One account of the client's chart of accounts, keyed by its code (text: "0090")."""

    class Type(models.TextChoices):
        # Xero's account types (QuickBooks' map onto them in the importer).
        REVENUE = "revenue", "Revenue"
        SALES = "sales", "Sales"
        OTHER_INCOME = "other_income", "Other income"
        DIRECT_COSTS = "direct_costs", "Direct costs"
        EXPENSE = "expense", "Expense"
        OVERHEAD = "overhead", "Overhead"
        DEPRECIATION = "depreciation", "Depreciation"
        CURRENT_ASSET = "current_asset", "Current asset"
        FIXED_ASSET = "fixed_asset", "Fixed asset"
        NON_CURRENT_ASSET = "non_current_asset", "Non-current asset"
        INVENTORY = "inventory", "Inventory"
        PREPAYMENT = "prepayment", "Prepayment"
        BANK = "bank", "Bank"
        CURRENT_LIABILITY = "current_liability", "Current liability"
        LIABILITY = "liability", "Liability"
        NON_CURRENT_LIABILITY = "non_current_liability", "Non-current liability"
        EQUITY = "equity", "Equity"

    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=30, choices=Type.choices)
    tax_code = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    # Accounts the ledger keeps itself (receivables, payables, VAT, retained earnings …).
    is_system = models.BooleanField(default=False)
    archived = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "code"], name="ledger_account_code_once")
        ]
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class LedgerContact(_ClientRow):
    """A customer or supplier in the client's books, keyed by its name (case-insensitively)."""

    name = models.CharField(max_length=255)
    account_number = models.CharField(max_length=50, blank=True)
    email = models.CharField(max_length=254, blank=True)
    # Xero has no flag: the importer sets these from the contact's transactions.
    is_customer = models.BooleanField(default=False)
    is_supplier = models.BooleanField(default=False)
    archived = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint("client", Lower("name"), name="ledger_contact_name_once")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Transaction(_ClientRow):
    """An invoice, bill, credit note, bank payment or journal, with its lines."""

    class Kind(models.TextChoices):
        SALES_INVOICE = "sales_invoice", "Sales invoice"
        BILL = "bill", "Bill"
        SALES_CREDIT_NOTE = "sales_credit_note", "Sales credit note"
        PURCHASE_CREDIT_NOTE = "purchase_credit_note", "Purchase credit note"
        BANK_SPEND = "bank_spend", "Spend money"
        BANK_RECEIVE = "bank_receive", "Receive money"
        BANK_TRANSFER = "bank_transfer", "Bank transfer"
        PAYMENT = "payment", "Payment"
        JOURNAL = "journal", "Manual journal"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Awaiting approval"
        AUTHORISED = "authorised", "Awaiting payment"
        PAID = "paid", "Paid"
        VOIDED = "voided", "Voided"

    SALES_KINDS = (Kind.SALES_INVOICE, Kind.SALES_CREDIT_NOTE, Kind.BANK_RECEIVE)
    PURCHASE_KINDS = (Kind.BILL, Kind.PURCHASE_CREDIT_NOTE, Kind.BANK_SPEND)

    kind = models.CharField(max_length=30, choices=Kind.choices)
    # The natural key: "sales_invoice:INV-0042", or one the importer derives for rows with no
    # number (a bank payment from the Account Transactions report).
    source_key = models.CharField(max_length=200)
    number = models.CharField(max_length=100, blank=True)
    reference = models.CharField(max_length=255, blank=True)
    date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    contact = models.ForeignKey(
        LedgerContact, on_delete=models.SET_NULL, null=True, blank=True, related_name="transactions"
    )
    # For bank spend / receive / transfers: the bank account it went through.
    bank_account = models.ForeignKey(
        LedgerAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    currency = models.CharField(max_length=3, default="GBP")
    total = models.DecimalField(**MONEY)
    tax_total = models.DecimalField(**MONEY, default=0)
    amount_due = models.DecimalField(**MONEY, null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AUTHORISED)
    attachment_count = models.PositiveIntegerField(default=0)
    reconciled = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "source_key"], name="ledger_transaction_once")
        ]
        indexes = [
            models.Index(fields=["client", "kind", "date"]),
            models.Index(fields=["client", "contact", "date"]),
            # The duplicate-transactions check reads this in order, index-only (status too).
            models.Index(
                fields=["practice", "client", "contact", "kind", "total", "date", "id", "status"],
                name="ledger_tx_duplicates",
            ),
            # The dormant-accounts check: a bank account's latest transaction.
            models.Index(
                fields=["practice", "client", "bank_account", "date"], name="ledger_tx_bank_date"
            ),
        ]
        ordering = ["date", "id"]

    def __str__(self) -> str:
        return self.number or self.source_key


class TransactionLine(_ClientRow):
    """One line of a transaction: the account it is coded to, its tax rate and amounts."""

    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField()
    account = models.ForeignKey(
        LedgerAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="lines"
    )
    # As the file said it, kept when no account of that code is known (yet).
    account_code = models.CharField(max_length=20, blank=True)
    tax_rate = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    net = models.DecimalField(**MONEY)
    tax = models.DecimalField(**MONEY, default=0)
    # Copies of the transaction's, for set-based checks without a join (see the module).
    date = models.DateField()
    kind = models.CharField(max_length=30, choices=Transaction.Kind.choices)
    contact = models.ForeignKey(
        LedgerContact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["transaction", "line_no"], name="ledger_line_once")
        ]
        indexes = [
            models.Index(fields=["client", "account", "date"]),
            models.Index(fields=["client", "contact", "date"]),
        ]
        ordering = ["transaction_id", "line_no"]

    def __str__(self) -> str:
        return f"{self.transaction_id}:{self.line_no}"


class BankStatementLine(_ClientRow):
    """A line of a bank statement: signed amount (money out negative), reconciled or not."""

    bank_account = models.ForeignKey(
        LedgerAccount, on_delete=models.CASCADE, related_name="statement_lines"
    )
    # Derived by the importer from the line's own fields and its place among identical ones,
    # so the same statement imported twice adds nothing.
    source_key = models.CharField(max_length=200)
    date = models.DateField()
    amount = models.DecimalField(**MONEY)
    payee = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    reference = models.CharField(max_length=255, blank=True)
    cheque_number = models.CharField(max_length=50, blank=True)
    reconciled = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "bank_account", "source_key"], name="ledger_statement_line_once"
            )
        ]
        indexes = [
            models.Index(fields=["client", "bank_account", "reconciled", "date"]),
            # The dormant-accounts check: a bank account's latest statement line.
            models.Index(
                fields=["practice", "client", "bank_account", "date"],
                name="ledger_statement_bank_date",
            ),
        ]
        ordering = ["date", "id"]

    def __str__(self) -> str:
        return f"{self.date} {self.amount} {self.payee}"


class LockDate(_ClientRow):
    """One setting of the books' lock date; the latest row is the lock date now."""

    lock_date = models.DateField()
    recorded_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=50, blank=True)  # "xero", "import", "manual"

    class Meta:
        indexes = [models.Index(fields=["client", "recorded_at"])]
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"locked to {self.lock_date}"
