"""Give every existing practice its copies of the built-in flow templates (new practices get
them when they are created: `sodium.services.practices.register_practice_setup`)."""

from django.db import migrations


def add_builtin_templates(apps, schema_editor):
    from checks.flows.templates import BUILTIN_TEMPLATES

    Practice = apps.get_model("sodium", "Practice")
    FlowTemplate = apps.get_model("checks", "FlowTemplate")
    FlowTemplateCheck = apps.get_model("checks", "FlowTemplateCheck")
    for practice in Practice.objects.all():
        have = set(
            FlowTemplate.objects.filter(practice=practice).values_list("builtin_key", flat=True)
        )
        names = set(FlowTemplate.objects.filter(practice=practice).values_list("name", flat=True))
        for builtin in BUILTIN_TEMPLATES:
            if builtin.key in have:
                continue
            name = builtin.name if builtin.name not in names else f"{builtin.name} (built-in)"
            template = FlowTemplate.objects.create(
                practice=practice,
                name=name,
                description=builtin.description,
                category=str(builtin.category),
                builtin_key=builtin.key,
            )
            FlowTemplateCheck.objects.bulk_create(
                FlowTemplateCheck(
                    practice=practice, template=template, position=i, check_key=key
                )
                for i, key in enumerate(builtin.checks)
            )


class Migration(migrations.Migration):
    dependencies = [("checks", "0007_flow_settings")]

    operations = [migrations.RunPython(add_builtin_templates, migrations.RunPython.noop)]
