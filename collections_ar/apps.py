from django.apps import AppConfig


class CollectionsArConfig(AppConfig):
    name = "collections_ar"
    verbose_name = "Accounts receivable"
