# ContentBlock moves from workflows to the core without touching its rows: the model is
# created here in state only, on the table workflows made; workflows 0005 repoints its
# steps' foreign keys and drops its own model in state only; sodium 0008 then renames the
# table and adds the channel.
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sodium", "0006_reencode_stored_logos"),
        ("workflows", "0004_practice_index_covered_by_composites"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ContentBlock",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", models.CharField(max_length=120)),
                        ("subject", models.CharField(max_length=300)),
                        ("body", models.TextField()),
                        ("system_key", models.CharField(blank=True, max_length=60)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "practice",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="sodium.practice",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["name"],
                        "db_table": "workflows_contentblock",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("practice", "name"), name="content_block_unique_name"
                            ),
                            models.UniqueConstraint(
                                condition=models.Q(("system_key", ""), _negated=True),
                                fields=("practice", "system_key"),
                                name="content_block_unique_system_key",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
