"""Give every existing practice the built-in collection statuses (new practices get them when
they are created: `sodium.services.practices.register_practice_setup`)."""

from django.db import migrations


def add_default_statuses(apps, schema_editor):
    from collections_ar.statuses import DEFAULT_STATUSES

    Practice = apps.get_model("sodium", "Practice")
    CollectionStatus = apps.get_model("collections_ar", "CollectionStatus")
    for practice in Practice.objects.all():
        have = CollectionStatus.objects.filter(practice=practice)
        keys = set(have.values_list("builtin_key", flat=True))
        names = set(have.values_list("name", flat=True))
        has_default = have.filter(is_default=True).exists()
        start = len(names)
        for i, builtin in enumerate(DEFAULT_STATUSES):
            if builtin.key in keys:
                continue
            CollectionStatus.objects.create(
                practice=practice,
                name=builtin.name if builtin.name not in names else f"{builtin.name} (built-in)",
                position=start + i,
                builtin_key=builtin.key,
                is_default=builtin.is_default and not has_default,
            )


class Migration(migrations.Migration):
    dependencies = [("collections_ar", "0001_initial")]

    operations = [migrations.RunPython(add_default_statuses, migrations.RunPython.noop)]
