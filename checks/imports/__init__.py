"""Ledger imports: files read as streams (`reading`), recognised by their header (`layouts`),
parsed into typed records (`records`, `parsers`), and written on natural keys (`writer`).

`sources.LedgerSource` is what the writer reads from: the file source is the first one; a live
Xero or QuickBooks connection would be another feeding the same writer.
"""
