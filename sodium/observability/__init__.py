"""The operator's view: health checks, structured logs, metrics and error reports.

`context` keeps who and what a log line belongs to (request id, practice, user, task);
`logs` formats lines (JSON in production); `middleware` binds requests and answers
/health/ and /metrics; `celery_signals` does the same for tasks; `health`, `heartbeat`,
`metrics` and `sentry` are the checks, the sweep's heartbeat, the Prometheus collectors and
the Sentry set-up. Nothing here imports an app, and nothing here writes domain rows.
"""
