"""The practices' unedited copies of the built-in portal emails name the client-facing title.

Their subjects named the step, the team's own name for it ("Collect bank statements"); they
now use `{{ step.title }}` (the request's or document's title). Copies a practice edited keep
what the practice wrote.
"""

from django.db import migrations

# As portal.content.OLD_SUBJECTS then (a migration must not import code that may change).
SUBJECTS = {
    "portal.request_opened": "Documents needed: {{ step.name }}",
    "portal.submission_rejected": "Please look again: {{ step.name }}",
    "portal.confirmation": "Please confirm: {{ step.name }}",
    "portal.confirmation_chase": "Reminder: please confirm {{ step.name }}",
}


def _content_block(apps):
    # ContentBlock moved to the core (sodium 0007, workflows 0005): this migration may run
    # before or after that move.
    try:
        return apps.get_model("workflows", "ContentBlock")
    except LookupError:
        return apps.get_model("sodium", "ContentBlock")


def use_titles(apps, schema_editor):
    ContentBlock = _content_block(apps)
    for key, old in SUBJECTS.items():
        ContentBlock._base_manager.filter(system_key=key, subject=old).update(
            subject=old.replace("step.name", "step.title")
        )


def use_names(apps, schema_editor):
    ContentBlock = _content_block(apps)
    for key, old in SUBJECTS.items():
        ContentBlock._base_manager.filter(
            system_key=key, subject=old.replace("step.name", "step.title")
        ).update(subject=old)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0004_hide_tokens_in_sent_messages"),
        ("workflows", "0004_practice_index_covered_by_composites"),
    ]

    operations = [migrations.RunPython(use_titles, use_names)]
