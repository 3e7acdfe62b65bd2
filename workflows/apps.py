from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Workflows"

    def ready(self) -> None:
        # Registers the simple and email step handlers, the task-start hook and the sweep's
        # safety net for automatic steps left ready.
        from workflows import engine, handlers  # noqa: F401
