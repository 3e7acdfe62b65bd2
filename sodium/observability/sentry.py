"""Errors to Sentry, when SODIUM_SENTRY_DSN is set (settings.py calls `init` at the bottom).

Only the Django and Celery integrations, no tracing unless a sample rate is set, and no
personal data (send_default_pii off): an error report carries the stack and request path,
not the user's address, cookies or the body.
"""

from __future__ import annotations


def init(
    *, dsn: str, environment: str, traces_sample_rate: float, release: str | None = None
) -> None:
    """Initialise sentry_sdk for this process (web, worker or beat)."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # Only these two: the default ones stay (logging, stdlib), nothing is auto-enabled
        # by what happens to be installed.
        auto_enabling_integrations=False,
    )
