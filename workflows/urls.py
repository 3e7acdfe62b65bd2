from __future__ import annotations

from django.urls import path

from workflows.views import task_panel, variables

app_name = "workflows"

urlpatterns = [
    path("liquid-variables.json", variables.liquid_variables, name="liquid-variables"),
    path("tasks/<int:task_id>/attach/", task_panel.attach_workflow, name="task-attach"),
    path("steps/<int:step_id>/complete/", task_panel.step_complete, name="step-complete"),
    path("steps/<int:step_id>/retry/", task_panel.step_retry, name="step-retry"),
    path("steps/<int:step_id>/skip/", task_panel.step_skip, name="step-skip"),
    path("steps/<int:step_id>/restore/", task_panel.step_restore, name="step-restore"),
]
