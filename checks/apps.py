from django.apps import AppConfig


class ChecksConfig(AppConfig):
    name = "checks"
    verbose_name = "Check-based flows"

    def ready(self) -> None:
        from checks import demo
        from sodium.demo import register_demo_builder

        register_demo_builder(demo.build)
        from checks.flows import demo as flows_demo

        register_demo_builder(flows_demo.build)  # after the ledgers its runs are checked on

        from checks.flows import (
            digest,  # registers the digest's sweep net
            making,  # noqa: F401 - registers the sweep's net
        )
        from checks.flows.templates import ensure_builtin_templates
        from sodium.services.practices import register_practice_setup

        register_practice_setup(ensure_builtin_templates)  # every practice starts with them

        digest.register()
        from checks.views import health
        from sodium import nav, panels
        from sodium.roles import Perm

        panels.register_client_panel(health.client_panel)

        from checks.views import flow_runs
        from sodium import work

        work.register_work_source(flow_runs.run_work_items)

        from checks import limits
        from sodium.uploads import allow_larger_uploads

        # A ledger export may be bigger than other uploads; the form's own overhead on top.
        allow_larger_uploads(
            r"^/checks/clients/\d+/import/$", lambda: limits.max_bytes() + limits.FORM_OVERHEAD
        )
        nav.register(
            nav.NavEntry(
                "data-health",
                "Data health",
                "checks:health-list",
                order=55,
                permission=Perm.VIEW_PRACTICE,
                # Every checks page but the flows', which have their own entry.
                current=("=/checks/", "/checks/library/", "/checks/clients/"),
            )
        )
        nav.register(
            nav.NavEntry(
                "flows",
                "Flows",
                "checks:flows",
                order=56,
                permission=Perm.VIEW_PRACTICE,
                current=("/checks/flows/",),
            )
        )
