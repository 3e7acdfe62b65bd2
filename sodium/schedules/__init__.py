"""Dates that repeat or move: the one schedule mechanism of the product.

`rules` (calendar and client-date schedules), `client_dates` (year ends, VAT periods, statutory
deadlines), `working_days` (weekends, UK bank holidays, the non-working-day rule), `practice`
(a practice's today and working calendar) and `words` (a schedule in words). Import the module
you need; this package re-exports nothing.
"""
