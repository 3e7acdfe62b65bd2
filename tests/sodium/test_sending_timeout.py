"""A message left `sending` by a worker killed mid-send is sent again once no live worker can
still hold it (the task's hard time limit and a margin), not a quarter of an hour later; and
beat's sweep interval comes from the environment."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from unittest import mock

from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from sodium import outbox
from sodium.models import OutboundMessage
from tests.base import BaseTestCase

Status = OutboundMessage.Status
DELAY = "sodium.tasks.deliver_message_task.delay"


class SendingTimeoutTests(BaseTestCase):
    def sending_since(self, key: str, age: dt.timedelta) -> OutboundMessage:
        when = timezone.now() - age
        return OutboundMessage.objects.create(
            practice=self.practice,
            idempotency_key=key,
            to=["anna@acme.example"],
            status=Status.SENDING,
            created_at=when,
            queued_at=when,
            status_changed_at=when,
        )

    @override_settings(CELERY_TASK_TIME_LIMIT=90)
    def test_a_claim_older_than_the_hard_limit_and_margin_is_sent_again(self) -> None:
        self.assertEqual(outbox.sending_timeout(), dt.timedelta(seconds=120))
        dead = self.sending_since("dead", dt.timedelta(seconds=125))
        alive = self.sending_since("alive", dt.timedelta(seconds=100))
        with mock.patch(DELAY) as delay:
            self.assertEqual(outbox.redispatch_stale(), 1)
        delay.assert_called_once_with(dead.pk, dead.practice_id)
        dead.refresh_from_db()
        alive.refresh_from_db()
        self.assertEqual(dead.status, Status.QUEUED)
        self.assertEqual(alive.status, Status.SENDING)

    @override_settings(CELERY_TASK_TIME_LIMIT=600)
    def test_a_longer_hard_limit_waits_longer(self) -> None:
        claim = self.sending_since("slow", dt.timedelta(seconds=125))
        with mock.patch(DELAY) as delay:
            self.assertEqual(outbox.redispatch_stale(), 0)
        delay.assert_not_called()
        claim.refresh_from_db()
        self.assertEqual(claim.status, Status.SENDING)

    @override_settings(CELERY_TASK_TIME_LIMIT=None)
    def test_without_a_hard_limit_it_waits_a_quarter_of_an_hour(self) -> None:
        self.assertEqual(outbox.sending_timeout(), dt.timedelta(minutes=15))


def beat_schedule(**env: str) -> float:
    probe = (
        "import json, django; django.setup(); from sodium.celery import app; "
        "print(json.dumps(app.conf.beat_schedule['sweep-timers']['schedule']))"
    )
    base = {k: v for k, v in os.environ.items() if k != "SODIUM_SWEEP_SECONDS"}
    base.update(DJANGO_SETTINGS_MODULE="sodium.settings", **env)
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env=base,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_beat_sweeps_every_minute_unless_told_otherwise(tmp_path) -> None:
    assert beat_schedule(SODIUM_DATA_DIR=str(tmp_path)) == 60.0
    assert beat_schedule(SODIUM_DATA_DIR=str(tmp_path), SODIUM_SWEEP_SECONDS="10") == 10.0
