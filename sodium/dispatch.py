"""Publish Celery tasks after commit without turning a broker outage into an error page.

The fast path of DESIGN's "on_commit is the fast path, the sweep is the safety net": when the
broker is briefly away (Redis restarting), publishing fails after the change it follows has
committed. The work is not lost — a timer-sweep safety net finds the row (an automatic step
left ready, a message left queued, an AR action not run, a check run left queued) and
publishes it again — so the person whose click committed it must not see a 500 for work that
will happen anyway. Use `enqueue_on_commit` only for tasks such a net covers; anything else
must keep raising.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

log = logging.getLogger(__name__)


def publish(task: Any, *args: Any) -> bool:
    """Publish `task(*args)`; return False, logging a warning, when the broker cannot be reached.

    Celery has already retried the publish by its retry policy before it raises.
    """
    try:
        task.delay(*args)
    except BrokerError as exc:
        log.warning("broker unavailable, %s left to the sweep's safety net: %s", task.name, exc)
        return False
    return True


def enqueue_on_commit(task: Any, *args: Any) -> None:
    """Publish `task(*args)` when the current transaction commits (see `publish`)."""
    transaction.on_commit(lambda: publish(task, *args))
