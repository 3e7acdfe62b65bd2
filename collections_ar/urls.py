from __future__ import annotations

from django.urls import path

from collections_ar.views import customers, imports, invoices, statuses

app_name = "collections_ar"

urlpatterns = [
    path("", customers.customer_list, name="customers"),
    path("customers/<int:customer_id>/", customers.customer_detail, name="customer"),
    path(
        "customers/<int:customer_id>/payments/",
        customers.payment_record,
        name="payment-record",
    ),
    path(
        "customers/<int:customer_id>/specialist/",
        customers.specialist_assign,
        name="customer-specialist",
    ),
    path(
        "invoices/<int:invoice_id>/collection-status/",
        customers.invoice_collection_status,
        name="invoice-collection-status",
    ),
    path("invoices/new/", invoices.invoice_new, name="invoice-new"),
    path("import/", imports.import_page, name="import"),
    path("import/confirm/", imports.import_confirm, name="import-confirm"),
    path("invoices/<int:invoice_id>/status/", customers.invoice_status, name="invoice-status"),
    path("statuses/", statuses.status_list, name="statuses"),
    path("statuses/<int:status_id>/rename/", statuses.status_rename, name="status-rename"),
    path("statuses/<int:status_id>/move/", statuses.status_move, name="status-move"),
    path("statuses/<int:status_id>/default/", statuses.status_default, name="status-default"),
    path("statuses/<int:status_id>/alert/", statuses.status_alert, name="status-alert"),
    path("statuses/<int:status_id>/delete/", statuses.status_delete, name="status-delete"),
]
