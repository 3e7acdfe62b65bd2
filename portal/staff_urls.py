"""Staff URLs of the portal's items, mounted under /documents/ (the client portal's own URLs
are in portal.urls), and the two actions of the focus panel's client-facing steps."""

from __future__ import annotations

from django.urls import path

from portal import focus, staff_views

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
    # From the focus panel: answered with the re-rendered panel (see portal.focus).
    path("steps/<int:step_id>/review/", focus.submission_review, name="step-review"),
    path("steps/<int:step_id>/send-for-approval/", focus.approval_send, name="step-approval"),
]
