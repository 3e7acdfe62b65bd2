from __future__ import annotations

from django.urls import path

from sodium.messaging.urls import content_block_urls
from sodium.views import messaging
from workflows.views import (
    bounces,
    scheduled,
    task_panel,
    template_sort,
    templates_editor,
    timeline,
)

app_name = "workflows"

urlpatterns = [
    # The core's view, kept at the URL the editors have always used.
    path("liquid-variables.json", messaging.liquid_variables, name="liquid-variables"),
    path("tasks/<int:task_id>/attach/", task_panel.attach_workflow, name="task-attach"),
    path("tasks/<int:task_id>/complete/", task_panel.task_complete, name="task-complete"),
    path("steps/<int:step_id>/complete/", task_panel.step_complete, name="step-complete"),
    path("steps/<int:step_id>/retry/", task_panel.step_retry, name="step-retry"),
    path("steps/<int:step_id>/skip/", task_panel.step_skip, name="step-skip"),
    path("steps/<int:step_id>/restore/", task_panel.step_restore, name="step-restore"),
    path("steps/<int:step_id>/resend/", bounces.step_resend, name="step-resend"),
    path("tasks/<int:task_id>/timeline/", timeline.task_timeline, name="task-timeline"),
    path(
        "templates/<int:template_id>/timeline/",
        timeline.template_timeline,
        name="template-timeline",
    ),
    path("steps/<int:step_id>/send-now/", scheduled.step_send_now, name="step-send-now"),
    path("steps/<int:step_id>/reschedule/", scheduled.step_reschedule, name="step-reschedule"),
    # Template editor and content blocks
    path("templates/", templates_editor.template_list, name="template-list"),
    path("templates/new/", templates_editor.template_create, name="template-create"),
    path("templates/<int:template_id>/", templates_editor.template_detail, name="template-detail"),
    path("templates/<int:template_id>/edit/", templates_editor.template_edit, name="template-edit"),
    path(
        "templates/<int:template_id>/clone/", templates_editor.template_clone, name="template-clone"
    ),
    path(
        "templates/<int:template_id>/status/",
        templates_editor.template_status,
        name="template-status",
    ),
    path(
        "templates/<int:template_id>/groups/new/",
        templates_editor.group_create,
        name="template-group-create",
    ),
    path("templates/groups/<int:group_id>/", templates_editor.group_detail, name="template-group"),
    path(
        "templates/groups/<int:group_id>/rename/",
        templates_editor.group_rename,
        name="template-group-rename",
    ),
    path(
        "templates/groups/<int:group_id>/move/",
        templates_editor.group_move,
        name="template-group-move",
    ),
    path(
        "templates/groups/<int:group_id>/delete/",
        templates_editor.group_delete,
        name="template-group-delete",
    ),
    path(
        "templates/steps/<int:template_step_id>/edit/",
        templates_editor.step_edit,
        name="template-step-edit",
    ),
    path(
        "templates/steps/<int:template_step_id>/move/",
        templates_editor.step_move,
        name="template-step-move",
    ),
    path(
        "templates/steps/<int:template_step_id>/delete/",
        templates_editor.step_delete,
        name="template-step-delete",
    ),
    path(
        "templates/steps/<int:template_step_id>/place/",
        template_sort.step_place,
        name="template-step-place",
    ),
    path(
        "templates/groups/<int:group_id>/place/",
        template_sort.group_place,
        name="template-group-place",
    ),
    # The content library is the core's (/content-blocks/); its old addresses still answer.
    *content_block_urls,
]

# Step wizard
from workflows.views import wizard as wizard_views  # noqa: E402

urlpatterns += [
    path("groups/<int:group_id>/wizard/", wizard_views.wizard_start, name="wizard-start"),
    path("wizard/<str:draft_id>/create/", wizard_views.wizard_create, name="wizard-create"),
    path("wizard/<str:draft_id>/cancel/", wizard_views.wizard_cancel, name="wizard-cancel"),
    path("wizard/<str:draft_id>/preview/", wizard_views.wizard_preview, name="wizard-preview"),
    path("wizard/<str:draft_id>/<str:stage>/", wizard_views.wizard_stage, name="wizard-stage"),
]

# Focus panel, composers, My steps
from workflows.views import composer, focus, my_steps, overview  # noqa: E402

urlpatterns += [
    path("tasks/<int:task_id>/focus/", focus.focus, name="focus"),
    path("tasks/<int:task_id>/workflow/", task_panel.task_workflow_card, name="task-workflow"),
    path("steps/<int:step_id>/checklist/", focus.checklist_tick, name="step-checklist"),
    path("steps/<int:step_id>/compose/", composer.compose, name="compose"),
    path("my-steps/", my_steps.my_steps, name="my-steps"),
    path("overview/", overview.overview, name="overview"),
]

# Per-task customisation
from workflows.views import customise  # noqa: E402

urlpatterns += [
    path("steps/<int:step_id>/reassign/", customise.step_reassign, name="step-reassign"),
    path("steps/<int:step_id>/edit/", customise.step_edit, name="step-edit"),
    path("tasks/<int:task_id>/add-step/", customise.task_add_step, name="task-add-step"),
]
