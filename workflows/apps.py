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

        # The core's pages by registration: navigation, the client page's workflow progress,
        # the dashboard's steps waiting on you, and the steps in a person's work list.
        from sodium import nav, panels, work
        from sodium.roles import Perm
        from workflows.views import core_pages

        for entry in (
            nav.NavEntry(
                "my-steps",
                "My steps",
                "workflows:my-steps",
                order=40,
                current=("=/workflows/my-steps/",),
            ),
            nav.NavEntry(
                "workflow-overview",
                "Overview",
                "workflows:overview",
                order=50,
                permission=Perm.MANAGE_TEMPLATES,
                current=("=/workflows/overview/",),
            ),
            nav.NavEntry(
                "workflow-templates",
                "Workflows",
                "workflows:template-list",
                order=70,
                permission=Perm.MANAGE_TEMPLATES,
                current=("/workflows/templates/", "/workflows/wizard/", "~/wizard/"),
            ),
        ):
            nav.register(entry)
        # The content library is also served at workflows' old addresses.
        nav.add_current_paths("content-blocks", "/workflows/content-blocks/")
        panels.register_client_panel(core_pages.client_workflows_panel)
        panels.register_dashboard_card(core_pages.steps_waiting_card)
        work.register_work_source(core_pages.step_work_items)

        from sodium.demo import register_demo_builder
        from workflows import demo

        register_demo_builder(demo.build)

        from sodium import reminders
        from workflows import due_reminder

        reminders.register_section("workflows.steps", due_reminder.due_steps_section)

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

        # The task list's bulk actions: attach a template to many tasks; no bulk "done" while
        # steps are open.
        from workflows import bulk

        bulk.register()

        # Recurrences that name a template get it attached to the tasks they generate.
        from workflows import recurring

        recurring.register()
