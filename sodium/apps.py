from django.apps import AppConfig


class SodiumConfig(AppConfig):
    name = "sodium"
    verbose_name = "Sodium core"
    default_auto_field = "django.db.models.BigAutoField"
