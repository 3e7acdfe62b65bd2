from __future__ import annotations

from django.urls import include, path

from sodium.messaging.urls import content_block_urls
from sodium.views import (
    auth,
    bulk,
    clients,
    dashboard,
    messages,
    messaging,
    notifications,
    practice_settings,
    recurrences,
    sms,
    tasks,
    two_factor,
    webhooks,
    work,
)

core = [
    path("", dashboard.dashboard, name="dashboard"),
    path("sign-in/", auth.SignInView.as_view(), name="login"),
    path("sign-in/code/", auth.two_factor_verify, name="two-factor-verify"),
    path("sign-out/", auth.sign_out, name="logout"),
    path("forgot-password/", auth.ForgotPasswordView.as_view(), name="forgot-password"),
    path("set-password/<uidb64>/<token>/", auth.SetPasswordView.as_view(), name="set-password"),
    path("practice/switch/", auth.practice_switch, name="practice-switch"),
    path("p/<slug:slug>/logo/", practice_settings.practice_logo, name="practice-logo"),
    path("messaging/variables.json", messaging.liquid_variables, name="liquid-variables"),
    # The content library: reusable messages and the practice's copies of built-in texts
    *content_block_urls,
    # Clients, their contacts and services
    path("clients/", clients.client_list, name="client-list"),
    path("clients/new/", clients.client_create, name="client-create"),
    path("clients/<int:client_id>/", clients.client_detail, name="client-detail"),
    path("clients/<int:client_id>/edit/", clients.client_edit, name="client-edit"),
    path("clients/<int:client_id>/status/", clients.client_status, name="client-status"),
    path("clients/<int:client_id>/contacts/", clients.client_contacts, name="client-contacts"),
    path("clients/<int:client_id>/contacts/new/", clients.contact_create, name="contact-create"),
    path(
        "clients/<int:client_id>/contacts/<int:contact_id>/edit/",
        clients.contact_edit,
        name="contact-edit",
    ),
    path(
        "clients/<int:client_id>/contacts/<int:contact_id>/delete/",
        clients.contact_delete,
        name="contact-delete",
    ),
    path(
        "clients/<int:client_id>/contacts/<int:contact_id>/text/",
        sms.contact_sms,
        name="contact-sms",
    ),
    path(
        "clients/<int:client_id>/services/new/",
        clients.client_service_add,
        name="client-service-add",
    ),
    path(
        "clients/<int:client_id>/services/<int:client_service_id>/delete/",
        clients.client_service_remove,
        name="client-service-remove",
    ),
    # Tasks
    path("tasks/", tasks.task_list, name="task-list"),
    path("tasks/new/", tasks.task_create, name="task-create"),
    path("tasks/bulk/", bulk.task_bulk, name="task-bulk"),
    path("tasks/bulk/summary/", bulk.task_bulk_summary, name="task-bulk-summary"),
    path("tasks/<int:task_id>/", tasks.task_detail, name="task-detail"),
    path("tasks/<int:task_id>/edit/", tasks.task_edit, name="task-edit"),
    path("tasks/<int:task_id>/status/", tasks.task_status, name="task-status"),
    # A person's work, from every app
    path("work/", work.my_work, name="my-work"),
    # Recurring work: recurrences create tasks on schedules (sodium.recurring)
    path("recurring/", recurrences.recurrence_list, name="recurrence-list"),
    path("recurring/new/", recurrences.recurrence_create, name="recurrence-create"),
    path("recurring/preview/", recurrences.recurrence_preview, name="recurrence-preview"),
    path("recurring/<int:recurrence_id>/", recurrences.recurrence_edit, name="recurrence-edit"),
    path(
        "recurring/<int:recurrence_id>/pause/",
        recurrences.recurrence_pause,
        name="recurrence-pause",
    ),
    path(
        "recurring/<int:recurrence_id>/resume/",
        recurrences.recurrence_resume,
        name="recurrence-resume",
    ),
    # Outbound messages and their delivery status
    path("messages/", messages.message_list, name="message-list"),
    path("messages/<int:message_id>/", messages.message_detail, name="message-detail"),
    # The member's own notifications and preferences
    path("notifications/", notifications.notification_list, name="notification-list"),
    path("notifications/read/", notifications.notifications_read, name="notifications-read"),
    path("account/", notifications.account, name="account"),
    # Two-factor sign-in: an authenticator app and backup codes
    path("account/two-factor/", two_factor.two_factor_page, name="two-factor"),
    path("account/two-factor/start/", two_factor.two_factor_start, name="two-factor-start"),
    path("account/two-factor/confirm/", two_factor.two_factor_confirm, name="two-factor-confirm"),
    path("account/two-factor/codes/", two_factor.two_factor_codes, name="two-factor-codes"),
    path(
        "account/two-factor/codes/download/",
        two_factor.two_factor_codes_download,
        name="two-factor-codes-download",
    ),
    path(
        "account/two-factor/codes/done/",
        two_factor.two_factor_codes_done,
        name="two-factor-codes-done",
    ),
    path(
        "account/two-factor/codes/new/",
        two_factor.two_factor_codes_new,
        name="two-factor-codes-new",
    ),
    path("account/two-factor/disable/", two_factor.two_factor_disable, name="two-factor-disable"),
    # Practice settings
    path("settings/practice/", practice_settings.practice_settings, name="practice-settings"),
    path("settings/members/", practice_settings.member_list, name="member-list"),
    path(
        "settings/members/<int:membership_id>/role/",
        practice_settings.member_role,
        name="member-role",
    ),
    path(
        "settings/members/<int:membership_id>/unlock/",
        practice_settings.member_unlock,
        name="member-unlock",
    ),
    path(
        "settings/members/<int:membership_id>/two-factor/reset/",
        practice_settings.member_two_factor_reset,
        name="member-two-factor-reset",
    ),
    path(
        "settings/members/<int:membership_id>/remove/",
        practice_settings.member_remove,
        name="member-remove",
    ),
    path("settings/teams/", practice_settings.team_list, name="team-list"),
    path("settings/teams/new/", practice_settings.team_edit, name="team-create"),
    path("settings/teams/<int:team_id>/", practice_settings.team_edit, name="team-edit"),
    path("settings/teams/<int:team_id>/delete/", practice_settings.team_delete, name="team-delete"),
    path("settings/services/", practice_settings.service_list, name="service-list"),
    path(
        "settings/services/<int:service_id>/", practice_settings.service_edit, name="service-edit"
    ),
    path("settings/tags/", practice_settings.tag_list, name="tag-list"),
    path("settings/tags/<int:tag_id>/delete/", practice_settings.tag_delete, name="tag-delete"),
]

urlpatterns = [
    path("", include((core, "sodium"))),
    path("workflows/", include("workflows.urls")),
    path("checks/", include("checks.urls")),
    path("ar/", include("collections_ar.urls")),
    # Staff side of the portal's items: downloads, submission review, sending for approval.
    path("documents/", include("portal.staff_urls")),
    # The client portal: contacts sign in with emailed links, not staff accounts.
    path("portal/", include("portal.urls")),
    # Provider webhooks (tracking: delivered, opened, bounced), e.g. /anymail/postmark/tracking/.
    # They authenticate with ANYMAIL_WEBHOOK_SECRET ("user:password" in the webhook URL).
    path("anymail/", include("anymail.urls")),
    # Twilio's SMS delivery status, authenticated by its X-Twilio-Signature.
    path("webhooks/sms/twilio/", webhooks.twilio_status, name="sms-twilio-status"),
]
handler500 = "sodium.unavailable.server_error"
