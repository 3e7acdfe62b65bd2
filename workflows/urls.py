from __future__ import annotations

from django.urls import path

from workflows import views

app_name = "workflows"

urlpatterns = [
    path("liquid-variables.json", views.liquid_variables, name="liquid-variables"),
    path("tasks/<int:task_id>/attach/", views.attach_workflow, name="task-attach"),
    path("steps/<int:step_id>/complete/", views.step_complete, name="step-complete"),
    path("steps/<int:step_id>/retry/", views.step_retry, name="step-retry"),
    path("steps/<int:step_id>/skip/", views.step_skip, name="step-skip"),
    path("steps/<int:step_id>/restore/", views.step_restore, name="step-restore"),
]
