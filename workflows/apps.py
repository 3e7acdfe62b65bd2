from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Workflows"

    def ready(self) -> None:
        # Registers the simple and email step handlers, the task-start hook and the sweep's
        # safety net for automatic steps left ready.
        from sodium.panels import register_task_panel
        from workflows import engine, handlers  # noqa: F401
        from workflows.views import task_panel

        register_task_panel(task_panel.task_workflow_panel)

        from sodium.demo import register_demo_builder
        from workflows import demo

        register_demo_builder(demo.build)
