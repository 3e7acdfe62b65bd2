"""Staff URLs of the portal's items, mounted under /documents/ (the client portal's own URLs
are in portal.urls)."""

from __future__ import annotations

from django.urls import path

from portal import staff_views

app_name = "portal_staff"

urlpatterns = [
    path("<int:document_id>/download/", staff_views.document_download, name="document-download"),
    path(
        "submissions/<int:submission_id>/accept/",
        staff_views.submission_accept,
        name="submission-accept",
    ),
    path(
        "submissions/<int:submission_id>/reject/",
        staff_views.submission_reject,
        name="submission-reject",
    ),
    path("steps/<int:step_id>/approval/", staff_views.approval_send, name="approval-send"),
]
