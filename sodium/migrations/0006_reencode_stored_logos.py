"""Re-encode logos stored before uploads were re-encoded, so only pixels are served publicly.

A logo Pillow cannot read as a small PNG, JPEG or WebP (a polyglot, a broken file) is removed:
the practice shows its initial until someone uploads a new one.
"""

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import migrations


def reencode_logos(apps, schema_editor):
    from sodium.uploads import validate_logo

    Practice = apps.get_model("sodium", "Practice")
    for practice in Practice.objects.exclude(logo="").iterator():
        old = practice.logo.name
        try:
            with default_storage.open(old, "rb") as handle:
                clean = validate_logo(handle)
        except (OSError, ValidationError):
            clean = None
        practice.logo = clean or ""  # a new file goes under the field's upload_to, logos/
        practice.save(update_fields=["logo"])
        if default_storage.exists(old):
            default_storage.delete(old)


class Migration(migrations.Migration):
    dependencies = [("sodium", "0005_two_factor")]

    operations = [migrations.RunPython(reencode_logos, migrations.RunPython.noop)]
