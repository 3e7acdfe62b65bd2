from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Workflows"

    def ready(self) -> None:
        # Registers the simple and email step handlers, the task-start hook and the sweep's
        # safety net for automatic steps left ready.
        from sodium.panels import register_task_list_extension, register_task_panel
        from workflows import engine, handlers  # noqa: F401
        from workflows.views import task_panel

        register_task_panel(task_panel.task_workflow_panel)
        register_task_list_extension(task_panel.task_list_progress, heading="Workflow")

        from sodium.demo import register_demo_builder
        from workflows import demo

        register_demo_builder(demo.build)

        # Steps use content blocks: the library counts template steps and names both kinds
        # when a delete is refused; a practice's own blocks are written as step emails.
        from sodium.messaging import blocks
        from workflows.context import STEP_EMAIL
        from workflows.models import Step, TemplateStep

        blocks.register_block_user(
            TemplateStep, counted=True, describe=lambda s: f"{s.group.template.name}: {s.name}"
        )
        blocks.register_block_user(Step, describe=lambda s: f"{s.task.name}: {s.name}")
        blocks.register_library_link("Workflow templates", "workflows:template-list")
        blocks.register_own_block_use(STEP_EMAIL)
