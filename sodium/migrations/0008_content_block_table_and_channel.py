# After workflows 0005 no model of workflows names the table: it becomes the core's, and
# blocks get a channel (email, or SMS with no subject). Existing blocks are emails.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sodium", "0007_content_block_moves_to_core"),
        ("workflows", "0005_content_block_moves_to_core"),
    ]

    operations = [
        migrations.AlterModelTable(name="contentblock", table=None),
        migrations.AddField(
            model_name="contentblock",
            name="channel",
            field=models.CharField(
                choices=[("email", "Email"), ("sms", "SMS")], default="email", max_length=8
            ),
        ),
        migrations.AlterField(
            model_name="contentblock",
            name="subject",
            field=models.CharField(blank=True, max_length=300),
        ),
    ]
