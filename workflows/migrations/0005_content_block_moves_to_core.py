# The steps' foreign keys point at the core's ContentBlock (same table, so state only), and
# workflows' own ContentBlock leaves the state; its rows stay where they are.
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0004_practice_index_covered_by_composites"),
        ("sodium", "0007_content_block_moves_to_core"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name=model_name,
                    name="content_block",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="sodium.contentblock",
                    ),
                )
                for model_name in ("step", "templatestep")
            ]
            + [migrations.DeleteModel(name="ContentBlock")],
            database_operations=[],
        ),
    ]
