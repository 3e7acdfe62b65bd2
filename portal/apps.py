from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Client portal"

    def ready(self) -> None:
        # Registers the three client-facing step handlers with the workflow engine and the
        # chase timer with the sweep, and the task page's "Documents & client responses"
        # card (after the workflow's: workflows loads first).
        from portal import engine, handlers, staff_views  # noqa: F401
        from sodium.panels import register_task_panel

        register_task_panel(staff_views.task_documents_panel)

        from portal import demo
        from sodium.demo import register_demo_builder

        register_demo_builder(demo.build)
