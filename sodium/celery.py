"""The Celery application: broker from REDIS_URL, or kombu's SQLAlchemy transport on SQLite.

Database connections in a worker live as they do in a web process. Celery's Django fix-up
closes every connection before and after each task, whatever CONN_MAX_AGE says (celery#9824):
each automatic step then paid for a new PostgreSQL backend, with a cold catalogue cache and no
prepared statements, which halved what a worker got through (bench/engine.py). Settings raise
CELERY_DB_REUSE_MAX so the fix-up leaves connections open, and the handlers below give every
task a request's life cycle instead: Django's close_old_connections() before and after it
(closed when older than SODIUM_DB_CONN_MAX_AGE, 0 by default, or unusable; a reused one is
health-checked first), and every connection closed after a task that failed, since Django
cannot always tell that an interrupted connection is broken.
"""

from __future__ import annotations

import os

from celery import Celery, signals
from django import db
from kombu.transport import sqlalchemy as sqla_transport

# Log context, run times and the metrics port of tasks (handlers kept out of this module).
from sodium.observability import celery_signals  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sodium.settings")

# The embedded broker (no REDIS_URL) polls its table. The interval must be set on the class:
# passing it through broker_transport_options crashes the worker on kombu 5.7. Setting it is
# harmless when Redis is the broker, and this module loads before settings are readable.
sqla_transport.Transport.polling_interval = 0.5

app = Celery("sodium")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _in_worker(task) -> bool:
    # An eager task runs inside its caller's transaction (tests, SODIUM_CELERY_EAGER): its
    # connections are the caller's to manage.
    return task is not None and not getattr(task.request, "is_eager", False)


@signals.task_prerun.connect
def close_old_connections_before_task(sender=None, **kwargs) -> None:
    if _in_worker(sender):
        db.close_old_connections()


@signals.task_postrun.connect
def close_old_connections_after_task(sender=None, state=None, **kwargs) -> None:
    if not _in_worker(sender):
        return
    if state == "SUCCESS":
        db.close_old_connections()
    else:
        db.connections.close_all()
