from __future__ import annotations

from django.urls import path

from checks.views import (
    flow_creator,
    flow_runs,
    flow_settings,
    flow_templates,
    flows,
    health,
    imports,
    library,
)

app_name = "checks"

urlpatterns = [
    path("flows/runs/<int:run_id>/", flow_runs.run_detail, name="flow-run"),
    path("flows/runs/<int:run_id>/panel/", flow_runs.run_panel, name="flow-run-panel"),
    path("flows/runs/<int:run_id>/start/", flow_runs.run_start, name="flow-run-start"),
    path("flows/runs/<int:run_id>/submit/", flow_runs.run_submit, name="flow-run-submit"),
    path("flows/runs/<int:run_id>/approve/", flow_runs.run_approve, name="flow-run-approve"),
    path("flows/runs/<int:run_id>/hand-back/", flow_runs.run_hand_back, name="flow-run-hand-back"),
    path("flows/runs/<int:run_id>/complete/", flow_runs.run_complete, name="flow-run-complete"),
    path(
        "flows/runs/<int:run_id>/checks/<int:check_id>/mark/",
        flow_runs.check_mark,
        name="flow-run-check-mark",
    ),
    path(
        "flows/runs/<int:run_id>/checks/<int:check_id>/undo/",
        flow_runs.check_undo,
        name="flow-run-check-undo",
    ),
    path("flows/runs/<int:run_id>/notes/", flow_runs.run_note, name="flow-run-notes"),
    path(
        "flows/runs/<int:run_id>/notes/<int:note_id>/file/",
        flow_runs.note_file,
        name="flow-run-note-file",
    ),
    path("flows/creator/", flow_creator.creator_start, name="flow-creator"),
    path("flows/creator/<str:draft_id>/go/", flow_creator.creator_go, name="flow-creator-go"),
    path(
        "flows/creator/<str:draft_id>/cancel/",
        flow_creator.creator_cancel,
        name="flow-creator-cancel",
    ),
    path(
        "flows/creator/<str:draft_id>/<slug:stage>/",
        flow_creator.creator_stage,
        name="flow-creator-stage",
    ),
    path("flows/templates/", flow_templates.template_list, name="flow-templates"),
    path("flows/templates/new/", flow_templates.template_add, name="flow-template-add"),
    path(
        "flows/templates/<int:flow_template_id>/",
        flow_templates.template_edit,
        name="flow-template-edit",
    ),
    path(
        "flows/templates/<int:flow_template_id>/archive/",
        flow_templates.template_archive,
        name="flow-template-archive",
    ),
    path("flows/", flows.dashboard, name="flows"),
    path("flows/list/", flows.flow_list, name="flow-list"),
    path("flows/settings/", flow_settings.flow_settings, name="flow-settings"),
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
