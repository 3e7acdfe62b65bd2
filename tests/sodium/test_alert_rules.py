"""deploy/prometheus/alerts.yml names only metrics that Sodium serves (docs/operations.md)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from django.conf import settings
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

from sodium.observability import metrics
from tests.base import BaseTestCase

RULES = Path(settings.BASE_DIR) / "deploy" / "prometheus" / "alerts.yml"
TOKEN = "alert-rules-test-token"
# Metrics of other exporters the rules use: Prometheus's own `up`, the blackbox exporter's.
EXTERNAL = {"up", "probe_success"}
NAME = re.compile(r"\b(sodium_[a-z_]+|django_[a-z_]+)\b")


def served_names(text: str) -> set[str]:
    """Return the metric and sample names of a text exposition."""
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    return names


@override_settings(SODIUM_METRICS_TOKEN=TOKEN)
class AlertRulesTests(BaseTestCase):
    def test_every_rule_names_a_metric_that_web_or_a_worker_serves(self) -> None:
        rules = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
        self.assertGreaterEqual(len(rules), 9)
        self.client.force_login(self.staff)
        self.client.get("/")  # so the request metrics have samples
        metrics.TASK_FAILURES.labels(task="tests.alert_rules").inc(0)
        web = self.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        self.assertEqual(web.status_code, 200)
        served = served_names(web.content.decode()) | served_names(
            metrics.render(app=False).decode()
        )
        for rule in rules:
            with self.subTest(alert=rule["alert"]):
                named = set(NAME.findall(rule["expr"]))
                self.assertTrue(named or EXTERNAL & set(re.findall(r"\w+", rule["expr"])))
                self.assertEqual(named - served, set(), rule["expr"])
                self.assertIn("summary", rule["annotations"])

    def test_every_alert_is_explained_in_the_operations_guide(self) -> None:
        guide = (Path(settings.BASE_DIR) / "docs" / "operations.md").read_text()
        for group in yaml.safe_load(RULES.read_text())["groups"]:
            for rule in group["rules"]:
                with self.subTest(alert=rule["alert"]):
                    self.assertIn(f"| `{rule['alert']}` |", guide)
