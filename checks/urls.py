from __future__ import annotations

from django.urls import path

from checks.views import flow_runs, flows, health, imports, library

app_name = "checks"

urlpatterns = [
    path("flows/runs/<int:run_id>/", flow_runs.run_detail, name="flow-run"),
    path("flows/", flows.dashboard, name="flows"),
    path("flows/list/", flows.flow_list, name="flow-list"),
    path("flows/<int:flow_id>/", flows.flow_detail, name="flow-detail"),
    path("flows/<int:flow_id>/edit/", flows.flow_edit, name="flow-edit"),
    path("flows/<int:flow_id>/pause/", flows.flow_pause, name="flow-pause"),
    path("flows/<int:flow_id>/resume/", flows.flow_resume, name="flow-resume"),
    path(
        "flows/<int:flow_id>/runs/<int:run_id>/delete/",
        flows.run_delete,
        name="flow-run-delete",
    ),
    path("", health.health_list, name="health-list"),
    path("library/", library.library, name="library"),
    path("library/custom/", library.custom_add, name="custom-add"),
    path("library/custom/<int:check_id>/", library.custom_edit, name="custom-edit"),
    path("library/custom/<int:check_id>/archive/", library.custom_archive, name="custom-archive"),
    path("clients/<int:client_id>/", health.client_health, name="client-health"),
    path("clients/<int:client_id>/run/", health.run_now, name="client-run"),
    path(
        "clients/<int:client_id>/checks/<slug:check_key>/",
        health.client_check,
        name="client-check",
    ),
    path(
        "clients/<int:client_id>/findings/<int:finding_id>/",
        health.finding_detail,
        name="finding-detail",
    ),
    path(
        "clients/<int:client_id>/findings/<int:finding_id>/dismiss/",
        health.finding_dismiss,
        name="finding-dismiss",
    ),
    path(
        "clients/<int:client_id>/findings/<int:finding_id>/restore/",
        health.finding_restore,
        name="finding-restore",
    ),
    path("clients/<int:client_id>/import/", imports.client_import, name="client-import"),
    path(
        "clients/<int:client_id>/imports/<int:import_id>/",
        imports.import_detail,
        name="import-detail",
    ),
    path(
        "clients/<int:client_id>/imports/<int:import_id>/mapping/",
        imports.import_mapping,
        name="import-mapping",
    ),
    path(
        "clients/<int:client_id>/imports/<int:import_id>/start/",
        imports.import_start,
        name="import-start",
    ),
    path(
        "clients/<int:client_id>/imports/<int:import_id>/cancel/",
        imports.import_cancel,
        name="import-cancel",
    ),
]
