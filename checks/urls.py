from __future__ import annotations

from django.urls import path

from checks.views import health

app_name = "checks"

urlpatterns = [
    path("", health.health_list, name="health-list"),
    path("clients/<int:client_id>/", health.client_health, name="client-health"),
]
