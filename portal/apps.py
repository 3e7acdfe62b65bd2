from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Client portal"

    def ready(self) -> None:
        # Registers the three client-facing step handlers with the workflow engine and the
        # chase timer with the sweep.
        from portal import engine, handlers  # noqa: F401

        # The task page's "Documents & client responses" card, after the workflow's.
        from portal import staff_views
        from sodium.panels import register_task_panel

        register_task_panel(staff_views.task_documents_panel)
