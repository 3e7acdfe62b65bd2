import pytest
from tests.workflows.test_attach import BulkAttachTests
from django.db import connection
from django.test.utils import CaptureQueriesContext
from workflows import attach
class T(BulkAttachTests):
    def test_x(self):
        ts = self.tasks(50)
        with CaptureQueriesContext(connection) as ctx:
            attach.attach_template_to_tasks(ts, self.template, actor=self.manager)
        for q in ctx.captured_queries: print(q['sql'][:120])
        print(connection.features.max_query_params)
