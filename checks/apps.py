from django.apps import AppConfig


class ChecksConfig(AppConfig):
    name = "checks"
    verbose_name = "Check-based flows"

    def ready(self) -> None:
        from checks import demo
        from sodium.demo import register_demo_builder

        register_demo_builder(demo.build)
