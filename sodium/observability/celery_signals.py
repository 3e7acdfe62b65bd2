"""Celery signal handlers: log context and run times of tasks, the worker's metrics port.

Imported by sodium/celery.py, so they are connected wherever the Celery app is: in web
processes (publishing, eager tasks) and in workers. Each handler is a few dict and contextvar
operations; the only I/O is the metrics port, started once in the worker's main process.

- before_task_publish: the request id of the web request (or of the task) publishing a task
  travels as the message header `sodium_request_id`.
- task_prerun / task_postrun: bind the task's name, id, request id and practice (its
  `practice_id` argument, where it has one) for its log lines; time it into
  sodium_task_duration_seconds and count failures into sodium_task_failures_total.
- setup_logging: Django's LOGGING stays in charge of the worker's logs (Celery would install
  a formatter of its own).
"""

from __future__ import annotations

import inspect
import logging
import time
from typing import Any

from celery import signals

from sodium.observability import context, metrics

log = logging.getLogger(__name__)

HEADER = "sodium_request_id"
# Per process: task id → (start, context tokens), between prerun and postrun.
_running: dict[str, tuple[float, list]] = {}
# Task name → position of its `practice_id` argument (None: it has none).
_practice_arg: dict[str, int | None] = {}


@signals.before_task_publish.connect(dispatch_uid="sodium.observability.publish")
def add_request_id_header(headers: dict | None = None, **kwargs: Any) -> None:
    request_id = context.request_id()
    if request_id and headers is not None:
        headers[HEADER] = request_id


def _practice_id(task: Any, args: tuple, kwargs: dict) -> Any:
    if "practice_id" in (kwargs or {}):
        return kwargs["practice_id"]
    name = task.name
    if name not in _practice_arg:
        try:
            params = list(inspect.signature(task.run).parameters)
        except (TypeError, ValueError):
            params = []
        _practice_arg[name] = params.index("practice_id") if "practice_id" in params else None
    index = _practice_arg[name]
    if index is not None and args and len(args) > index:
        return args[index]
    return None


@signals.task_prerun.connect(dispatch_uid="sodium.observability.prerun")
def bind_task(
    task_id: str | None = None, task: Any = None, args: tuple = (), kwargs: dict | None = None, **_
) -> None:
    if task is None or task_id is None:
        return
    request = task.request
    # An eager task runs in its caller's context and keeps the caller's request id.
    request_id = request.get(HEADER) or context.request_id()
    tokens = context.bind_task(task.name, task_id, request_id)
    practice_id = _practice_id(task, args, kwargs or {})
    if isinstance(practice_id, int):
        context.bind_practice(practice_id)
    _running[task_id] = (time.perf_counter(), tokens)


@signals.task_postrun.connect(dispatch_uid="sodium.observability.postrun")
def unbind_task(
    task_id: str | None = None, task: Any = None, state: str | None = None, **_
) -> None:
    entry = _running.pop(task_id, None) if task_id else None
    if entry is None:
        return
    started, tokens = entry
    metrics.TASK_DURATION.labels(task.name).observe(time.perf_counter() - started)
    if state == "FAILURE":
        metrics.TASK_FAILURES.labels(task.name).inc()
    context.restore(tokens)


@signals.setup_logging.connect(dispatch_uid="sodium.observability.setup_logging")
def keep_django_logging(**kwargs: Any) -> None:
    # Connecting here is what stops Celery from configuring logging itself; Django has
    # already applied settings.LOGGING when the worker loaded it.
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@signals.worker_ready.connect(dispatch_uid="sodium.observability.worker_metrics")
def start_metrics_port(sender: Any = None, **kwargs: Any) -> None:
    from django.conf import settings

    port = settings.SODIUM_WORKER_METRICS_PORT
    token = settings.SODIUM_METRICS_TOKEN
    if not port:
        return
    if not token:
        log.info("SODIUM_WORKER_METRICS_PORT is set but SODIUM_METRICS_TOKEN is not: no metrics")
        return
    # `sender` is the worker's consumer; its pool is the prefork one unless --pool says else.
    pool = type(getattr(sender, "pool", None)).__module__
    if "prefork" in pool and not metrics.multiprocess():
        log.warning("prefork worker without PROMETHEUS_MULTIPROC_DIR: task metrics are lost")
    metrics.start_worker_server(port, token)
