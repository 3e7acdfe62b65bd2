"""Builders of ledger files in each published layout: the vendor's header, then rows."""

from __future__ import annotations

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile


def _address(prefix: str) -> list[str]:
    lines = [f"{prefix}AddressLine{i}" for i in range(1, 5)]
    return [*lines, f"{prefix}City", f"{prefix}Region", f"{prefix}PostalCode", f"{prefix}Country"]


XERO_ACCOUNTS = ["*Code", "*Name", "*Type", "*Tax Code", "Description", "Dashboard",
                 "Expense Claims", "Enable Payments", "Balance"]  # fmt: skip

XERO_CONTACTS = [
    "*ContactName", "AccountNumber", "EmailAddress", "FirstName", "LastName", "POAttentionTo",
    *_address("PO"), "SAAttentionTo", *_address("SA"), "PhoneNumber", "FaxNumber",
    "MobileNumber", "DDINumber", "SkypeName", "BankAccountName", "BankAccountNumber",
    "BankAccountParticulars", "TaxNumber", "AccountsReceivableTaxCodeName",
    "AccountsPayableTaxCodeName", "Website", "LegalName", "Discount", "CompanyNumber",
    "DueDateBillDay", "DueDateBillTerm", "DueDateSalesDay", "DueDateSalesTerm", "SalesAccount",
    "PurchasesAccount", "TrackingName1", "SalesTrackingOption1", "PurchasesTrackingOption1",
    "TrackingName2", "SalesTrackingOption2", "PurchasesTrackingOption2", "BrandingTheme",
    "DefaultTaxBills", "DefaultTaxSales", "Person1FirstName", "Person1LastName",
    "Person1Email", "Person1IncludeInEmail", "ContactStatus",
]  # fmt: skip

# The sales-invoice export: one row per line, the invoice's fields repeated on each.
XERO_SALES_INVOICES = [
    "ContactName", "EmailAddress", *_address("PO"), *_address("SA"), "InvoiceNumber",
    "Reference", "InvoiceDate", "DueDate", "PlannedDate", "Total", "TaxTotal",
    "InvoiceAmountPaid", "InvoiceAmountDue", "InventoryItemCode", "Description", "Quantity",
    "UnitAmount", "Discount", "LineAmount", "AccountCode", "TaxType", "TaxAmount",
    "TrackingName1", "TrackingOption1", "TrackingName2", "TrackingOption2", "Currency", "Type",
    "Sent", "Status",
]  # fmt: skip
# The bills export also carries PaidDate (its position varies).
XERO_BILLS = [*XERO_SALES_INVOICES[:24], "PaidDate", *XERO_SALES_INVOICES[24:]]
# The import template: no delivery address, PlannedDate, totals, paid / due, LineAmount,
# TaxAmount, Type, Sent or Status; BrandingTheme added; starred columns required.
XERO_INVOICE_TEMPLATE = [
    "*ContactName", "EmailAddress", *_address("PO"), "*InvoiceNumber", "Reference",
    "*InvoiceDate", "*DueDate", "InventoryItemCode", "*Description", "*Quantity",
    "*UnitAmount", "Discount", "*AccountCode", "*TaxType", "TrackingName1", "TrackingOption1",
    "TrackingName2", "TrackingOption2", "Currency", "BrandingTheme",
]  # fmt: skip

XERO_BANK_STATEMENT = ["*Date", "*Amount", "Payee", "Description", "Reference", "Cheque Number"]
XERO_ACCOUNT_TRANSACTIONS = ["Date", "Source", "Contact", "Description", "Reference", "Debit",
                             "Credit", "Running Balance"]  # fmt: skip
QBO_GENERAL_LEDGER = ["", "Date", "Transaction Type", "Num", "Name", "Memo/Description",
                      "Split", "Amount", "Balance"]  # fmt: skip


def csv_bytes(rows: list[list[str]], *, bom: bool = False, crlf: bool = False, encoding="utf-8"):
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n" if crlf else "\n").writerows(rows)
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def table(header: list[str], *records: dict[str, str]) -> list[list[str]]:
    """Return the header and one row per record, its cells placed under their headings."""
    plain = [h.lstrip("*") for h in header]
    return [header] + [[r.get(h, "") for h in plain] for r in records]


def upload(data: bytes, name: str = "export.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def accounts_file(**kw) -> bytes:
    rows = table(
        XERO_ACCOUNTS,
        {"Code": "090", "Name": "Business Bank Account", "Type": "Bank", "Tax Code": "No VAT",
         "Balance": "1,250.00"},
        {"Code": "200", "Name": "Sales", "Type": "Sales", "Tax Code": "20% (VAT on Income)",
         "Description": "Income from sales"},
        {"Code": "400", "Name": "Advertising", "Type": "Overhead",
         "Tax Code": "20% (VAT on Expenses)"},
        {"Code": "610", "Name": "Accounts Receivable", "Type": "Current Asset",
         "Tax Code": "No VAT"},
        {"Code": "800", "Name": "Accounts Payable", "Type": "Current Liability",
         "Tax Code": "No VAT"},
        {"Code": "820", "Name": "VAT", "Type": "Current Liability", "Tax Code": "No VAT"},
        {"Code": "835", "Name": "Directors Loan Account", "Type": "Current Liability",
         "Tax Code": "No VAT"},
    )  # fmt: skip
    return csv_bytes(rows, **kw)


def invoice_line(number: str, contact: str, **fields: str) -> dict[str, str]:
    row = {
        "ContactName": contact, "InvoiceNumber": number, "InvoiceDate": "25/09/2026",
        "DueDate": "25/10/2026", "Total": "120.00", "TaxTotal": "20.00",
        "InvoiceAmountPaid": "0.00", "InvoiceAmountDue": "120.00", "Description": "Consulting",
        "Quantity": "1.0000", "UnitAmount": "100.00", "LineAmount": "100.00",
        "AccountCode": "200", "TaxType": "20% (VAT on Income)", "TaxAmount": "20.00",
        "Currency": "GBP", "Type": "Sales invoice", "Sent": "Sent", "Status": "Awaiting Payment",
    }  # fmt: skip
    row.update(fields)
    return row
