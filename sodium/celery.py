"""The Celery application: broker from REDIS_URL, or kombu's SQLAlchemy transport on SQLite."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sodium.settings")

app = Celery("sodium")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _tune_sqlalchemy_transport() -> None:
    # The embedded broker polls its table; the interval must be set on the class, because
    # passing it through broker_transport_options crashes the worker on kombu 5.7.
    from kombu.transport import sqlalchemy

    sqlalchemy.Transport.polling_interval = 0.5


if str(app.conf.broker_url).startswith("sqla+"):
    _tune_sqlalchemy_transport()
