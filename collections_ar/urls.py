from __future__ import annotations

from django.urls import path

from collections_ar.views import (
    assignments,
    builder,
    customers,
    dashboard,
    imports,
    invoices,
    settings,
    statuses,
    workflows,
)

app_name = "collections_ar"

urlpatterns = [
    path("", customers.customer_list, name="customers"),
    path("dashboard/", dashboard.ar_dashboard, name="dashboard"),
    path("settings/", settings.ar_settings, name="settings"),
    path("calls/<int:run_id>/complete/", dashboard.call_complete, name="call-complete"),
    path("customers.csv", customers.customer_csv, name="customers-csv"),
    path("customers/assign/", assignments.customers_assign, name="customers-assign"),
    path("customers/<int:customer_id>/", customers.customer_detail, name="customer"),
    path(
        "customers/<int:customer_id>/workflow/assign/",
        assignments.customer_workflow_assign,
        name="customer-workflow-assign",
    ),
    path(
        "customers/<int:customer_id>/workflow/pause/",
        assignments.assignment_pause,
        name="assignment-pause",
    ),
    path(
        "customers/<int:customer_id>/workflow/resume/",
        assignments.assignment_resume,
        name="assignment-resume",
    ),
    path(
        "customers/<int:customer_id>/workflow/unassign/",
        assignments.assignment_unassign,
        name="assignment-unassign",
    ),
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
    path("workflows/", workflows.workflow_list, name="workflows"),
    path("workflows/new/", workflows.workflow_new, name="workflow-new"),
    path("workflows/<int:workflow_id>/", builder.workflow_builder, name="workflow"),
    path("workflows/<int:workflow_id>/clone/", workflows.workflow_clone, name="workflow-clone"),
    path("workflows/<int:workflow_id>/switch/", workflows.workflow_switch, name="workflow-switch"),
    path("workflows/<int:workflow_id>/delete/", workflows.workflow_delete, name="workflow-delete"),
    path(
        "workflows/<int:workflow_id>/default/", workflows.workflow_default, name="workflow-default"
    ),
    path("workflows/<int:workflow_id>/actions/new/", builder.action_new, name="action-new"),
    path(
        "workflows/<int:workflow_id>/actions/<int:action_id>/",
        builder.action_edit,
        name="action-edit",
    ),
    path(
        "workflows/<int:workflow_id>/actions/<int:action_id>/delete/",
        builder.action_delete,
        name="action-delete",
    ),
    path(
        "workflows/<int:workflow_id>/actions/<int:action_id>/move/",
        builder.action_move,
        name="action-move",
    ),
    path("statuses/", statuses.status_list, name="statuses"),
    path("statuses/<int:status_id>/rename/", statuses.status_rename, name="status-rename"),
    path("statuses/<int:status_id>/move/", statuses.status_move, name="status-move"),
    path("statuses/<int:status_id>/default/", statuses.status_default, name="status-default"),
    path("statuses/<int:status_id>/alert/", statuses.status_alert, name="status-alert"),
    path("statuses/<int:status_id>/delete/", statuses.status_delete, name="status-delete"),
]
