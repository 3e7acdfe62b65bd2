from __future__ import annotations

import pytest
from django.test import TestCase
from django_scopes import ScopeError

from sodium.models import ActivityEvent, Client, Contact, Membership, Service, Tag, Task, Team
from sodium.tenancy import practice_scope
from tests import factories as f

TENANT_MODELS = [Client, Contact, Membership, Service, Tag, Task, Team, ActivityEvent]


class UnscopedQueryTests(TestCase):
    def test_every_tenant_model_refuses_a_query_without_a_practice(self) -> None:
        for model in TENANT_MODELS:
            with self.subTest(model=model.__name__), pytest.raises(ScopeError):
                list(model.objects.all())

    def test_every_tenant_model_has_a_non_null_practice(self) -> None:
        for model in TENANT_MODELS:
            field = model._meta.get_field("practice")
            with self.subTest(model=model.__name__):
                self.assertFalse(field.null)

    def test_a_scope_returns_only_that_practices_rows(self) -> None:
        mine = f.ClientFactory(name="Mine")
        f.ClientFactory(name="Theirs")
        with practice_scope(mine.practice):
            self.assertEqual([c.name for c in Client.objects.all()], ["Mine"])

    def test_a_missing_practice_is_refused_rather_than_meaning_all(self) -> None:
        with pytest.raises(ValueError):
            with practice_scope(None):
                pass

    def test_related_managers_are_scoped_too(self) -> None:
        client = f.ClientFactory()
        f.ContactFactory(client=client)
        with pytest.raises(ScopeError):
            list(client.contacts.all())
        with practice_scope(client.practice):
            self.assertEqual(client.contacts.count(), 1)
