from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Client portal"

    def ready(self) -> None:
        # Registers the three client-facing step handlers with the workflow engine and the
        # chase timer with the sweep.
        from portal import engine, handlers  # noqa: F401
