from __future__ import annotations

from django.urls import path

from checks.views import health, library

app_name = "checks"

urlpatterns = [
    path("", health.health_list, name="health-list"),
    path("library/", library.library, name="library"),
    path("library/custom/", library.custom_add, name="custom-add"),
    path("library/custom/<int:check_id>/", library.custom_edit, name="custom-edit"),
    path("library/custom/<int:check_id>/archive/", library.custom_archive, name="custom-archive"),
    path("clients/<int:client_id>/", health.client_health, name="client-health"),
    path("clients/<int:client_id>/run/", health.run_now, name="client-run"),
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
]
