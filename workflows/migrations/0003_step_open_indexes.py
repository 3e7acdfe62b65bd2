"""Partial indexes over open steps, for the overview (overdue steps, steps awaiting clients).

Open steps are a few percent of a practice's steps, so these indexes stay small and cost
little on transitions. They are created in SQL only (the model state does not list them), so
`makemigrations` leaves them alone; move them into Step.Meta.indexes with a state-only
migration when models.py is next edited.
"""

from django.db import migrations

OPEN = "status IN ('blocked', 'ready', 'in_progress', 'failed')"

INDEXES = {
    # Open steps past their own deadline.
    "step_open_deadline_idx": f"(practice_id, deadline, id) WHERE {OPEN} AND deadline IS NOT NULL",
    # Open steps of overdue tasks.
    "step_open_task_idx": f"(practice_id, task_id) WHERE {OPEN}",
    # Steps waiting on a client, longest waiting first.
    "step_in_progress_idx": "(practice_id, started_at, id) WHERE status = 'in_progress'",
}


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0002_content_block_system_key"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX {name} ON workflows_step {definition}",
            reverse_sql=f"DROP INDEX {name}",
        )
        for name, definition in INDEXES.items()
    ]
