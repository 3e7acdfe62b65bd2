from django.apps import AppConfig


class CollectionsArConfig(AppConfig):
    name = "collections_ar"
    verbose_name = "Accounts receivable"

    def ready(self) -> None:
        from collections_ar import demo, messages
        from collections_ar.builder.prebuilt import ensure_prebuilt_workflows
        from collections_ar.statuses import ensure_default_statuses
        from sodium import nav
        from sodium.demo import register_demo_builder
        from sodium.roles import Perm
        from sodium.services.practices import register_practice_setup

        register_practice_setup(ensure_default_statuses)  # every practice starts with them
        register_practice_setup(ensure_prebuilt_workflows)  # after the statuses they name
        messages.register()
        from collections_ar import running  # noqa: F401  (registers the sweep's AR part)

        # Email and SMS actions may use content blocks: the library names them when a
        # delete is refused.
        from collections_ar.models import ARAction
        from sodium.messaging import blocks

        blocks.register_block_user(
            ARAction, describe=lambda a: f"AR workflow {a.workflow.name}: {a.get_kind_display()}"
        )
        register_demo_builder(demo.build)
        nav.register(
            nav.NavEntry(
                "receivables",
                "Receivables",
                "collections_ar:dashboard",
                order=57,
                permission=Perm.WORK_AR,
                current=("/ar/",),
            )
        )
