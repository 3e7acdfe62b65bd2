from django.apps import AppConfig


class CollectionsArConfig(AppConfig):
    name = "collections_ar"
    verbose_name = "Accounts receivable"

    def ready(self) -> None:
        from collections_ar import demo
        from collections_ar.statuses import ensure_default_statuses
        from sodium import nav
        from sodium.demo import register_demo_builder
        from sodium.roles import Perm
        from sodium.services.practices import register_practice_setup

        register_practice_setup(ensure_default_statuses)  # every practice starts with them
        register_demo_builder(demo.build)
        nav.register(
            nav.NavEntry(
                "receivables",
                "Receivables",
                "collections_ar:customers",
                order=57,
                permission=Perm.WORK_AR,
                current=("/ar/",),
            )
        )
