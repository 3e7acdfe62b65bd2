"""The Celery application: broker from REDIS_URL, or kombu's SQLAlchemy transport on SQLite."""

from __future__ import annotations

import os

from celery import Celery
from kombu.transport import sqlalchemy as sqla_transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sodium.settings")

# The embedded broker (no REDIS_URL) polls its table. The interval must be set on the class:
# passing it through broker_transport_options crashes the worker on kombu 5.7. Setting it is
# harmless when Redis is the broker, and this module loads before settings are readable.
sqla_transport.Transport.polling_interval = 0.5

app = Celery("sodium")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
