"""Ledger files for the import tests, written from the vendors' published headers
(/work/shared/reference/formats-and-dates.md, "The files practices import")."""
