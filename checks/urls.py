from __future__ import annotations

from django.urls import path

from checks.views import health

app_name = "checks"

urlpatterns = [
    path("", health.health_list, name="health-list"),
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
