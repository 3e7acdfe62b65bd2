"""Outages: a request that meets a database or broker restart gets a readable 503 with
Retry-After, not a 500; work committed before a failed publish is left to the sweep."""

from __future__ import annotations

import logging

from celery import Celery
from django.db import transaction
from django.test import TestCase, override_settings

from sodium import dispatch


@override_settings(ROOT_URLCONF="tests.sodium.outage_urls", DEBUG=False)
class OutagePageTests(TestCase):
    def setUp(self) -> None:
        self.client.raise_request_exception = False

    def test_a_database_outage_answers_503_with_retry_after(self) -> None:
        for url in ("/outage/database/", "/outage/closed/"):
            with self.subTest(url=url):
                r = self.client.get(url)
                self.assertEqual(r.status_code, 503)
                self.assertEqual(r["Retry-After"], "10")
                self.assertContains(r, "Back in a moment", status_code=503)

    def test_a_broker_outage_answers_503(self) -> None:
        r = self.client.get("/outage/broker/")
        self.assertEqual(r.status_code, 503)
        self.assertContains(r, "try again in a few seconds", status_code=503)

    def test_any_other_error_keeps_the_500_page(self) -> None:
        r = self.client.get("/outage/bug/")
        self.assertEqual(r.status_code, 500)
        self.assertContains(r, "Something went wrong on our side", status_code=500)
        self.assertFalse(r.has_header("Retry-After"))


class PublishWithoutBrokerTests(TestCase):
    """A real publish to a closed port (nothing listens on 127.0.0.1:9)."""

    def setUp(self) -> None:
        app = Celery("outage-probe", broker="redis://127.0.0.1:9/0")
        app.conf.broker_connection_retry_on_startup = False

        def outage_probe() -> None:
            """Never runs: publishing it is what fails."""

        self.task = app.task(name="tests.outage_probe", shared=False)(outage_probe)

    def test_a_failed_publish_is_logged_and_returns_false(self) -> None:
        with self.assertLogs("sodium.dispatch", logging.WARNING) as logs:
            self.assertFalse(dispatch.publish(self.task))
        self.assertIn("left to the sweep's safety net", logs.output[0])
        self.assertIn("tests.outage_probe", logs.output[0])

    def test_enqueue_on_commit_lets_the_commit_stand(self) -> None:
        from sodium.models import Practice

        with self.assertLogs("sodium.dispatch", logging.WARNING):
            with self.captureOnCommitCallbacks(execute=True):
                with transaction.atomic():
                    Practice.objects.create(name="Kept", slug="kept")
                    dispatch.enqueue_on_commit(self.task)
        self.assertTrue(Practice.objects.filter(slug="kept").exists())
