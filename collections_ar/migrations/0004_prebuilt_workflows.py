"""Give every existing practice the prebuilt AR workflows, OFF (new practices get them when
they are created: `collections_ar.builder.prebuilt.ensure_prebuilt_workflows`)."""

from django.db import migrations


def add_prebuilt_workflows(apps, schema_editor):
    from collections_ar.builder.prebuilt import PREBUILT

    Practice = apps.get_model("sodium", "Practice")
    ARWorkflow = apps.get_model("collections_ar", "ARWorkflow")
    ARAction = apps.get_model("collections_ar", "ARAction")
    CollectionStatus = apps.get_model("collections_ar", "CollectionStatus")
    for practice in Practice.objects.all():
        if ARWorkflow.objects.filter(practice=practice).exclude(prebuilt_key="").exists():
            continue
        statuses = {
            s.builtin_key: s
            for s in CollectionStatus.objects.filter(practice=practice).exclude(builtin_key="")
        }
        names = set(ARWorkflow.objects.filter(practice=practice).values_list("name", flat=True))
        made = {}
        for prebuilt in PREBUILT:
            name = prebuilt.name if prebuilt.name not in names else f"{prebuilt.name} (prebuilt)"
            workflow = ARWorkflow.objects.create(
                practice=practice,
                name=name,
                description=prebuilt.description,
                prebuilt_key=prebuilt.key,
            )
            position = 0
            for step in prebuilt.steps:
                status = statuses.get(step.status_key) if step.status_key else None
                if step.status_key and status is None:
                    continue
                ARAction.objects.create(
                    practice=practice,
                    workflow=workflow,
                    position=position,
                    kind=step.kind,
                    base=step.base,
                    days=step.days,
                    subject=step.subject,
                    body=step.body,
                    collection_status=status,
                )
                position += 1
            made[prebuilt.key] = workflow
        for prebuilt in PREBUILT:
            if prebuilt.continue_with in made:
                made[prebuilt.key].continue_with = made[prebuilt.continue_with]
                made[prebuilt.key].save(update_fields=["continue_with"])


class Migration(migrations.Migration):
    dependencies = [("collections_ar", "0003_workflows")]

    operations = [migrations.RunPython(add_prebuilt_workflows, migrations.RunPython.noop)]
