"""factory_boy factories for the core models. Rows are created outside any practice scope."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone
from django_scopes import scopes_disabled
from faker import Faker

from sodium import models
from sodium.roles import Role

_fake = Faker("en_GB")


def _plain(text: str) -> str:
    # Names like O'Sullivan come back HTML-escaped in pages; tests compare raw text, so the
    # factories give names without apostrophes (real data is covered by escaping tests).
    return text.replace("'", "")


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with scopes_disabled():
            return super()._create(model_class, *args, **kwargs)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        with scopes_disabled():
            super()._after_postgeneration(instance, create, results)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.LazyFunction(lambda: _plain(_fake.name()))
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-1")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save(update_fields=["password"])


class PracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Practice

    name = factory.Sequence(lambda n: f"Practice {n}")
    slug = factory.Sequence(lambda n: f"practice-{n}")


class MembershipFactory(TenantFactory):
    class Meta:
        model = models.Membership

    practice = factory.SubFactory(PracticeFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.STAFF


class TeamFactory(TenantFactory):
    class Meta:
        model = models.Team

    practice = factory.SubFactory(PracticeFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class TagFactory(TenantFactory):
    class Meta:
        model = models.Tag

    practice = factory.SubFactory(PracticeFactory)
    name = factory.Sequence(lambda n: f"Tag {n}")
    colour = "blue"


class ClientFactory(TenantFactory):
    class Meta:
        model = models.Client
        skip_postgeneration_save = True

    practice = factory.SubFactory(PracticeFactory)
    name = factory.Sequence(lambda n: f"Client {n} Ltd")
    reference = factory.Sequence(lambda n: f"CL{n:04d}")
    year_end_day = 31
    year_end_month = 3

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.set(extracted)


class ContactFactory(TenantFactory):
    class Meta:
        model = models.Contact

    client = factory.SubFactory(ClientFactory)
    practice = factory.SelfAttribute("client.practice")
    first_name = factory.LazyFunction(lambda: _plain(_fake.first_name()))
    last_name = factory.LazyFunction(lambda: _plain(_fake.last_name()))
    email = factory.Sequence(lambda n: f"contact{n}@client.example")
    is_main = True


class ServiceFactory(TenantFactory):
    class Meta:
        model = models.Service

    practice = factory.SubFactory(PracticeFactory)
    name = factory.Sequence(lambda n: f"Service {n}")


class ClientServiceFactory(TenantFactory):
    class Meta:
        model = models.ClientService

    client = factory.SubFactory(ClientFactory)
    practice = factory.SelfAttribute("client.practice")
    service = factory.SubFactory(ServiceFactory, practice=factory.SelfAttribute("..practice"))


class TaskFactory(TenantFactory):
    class Meta:
        model = models.Task

    client = factory.SubFactory(ClientFactory)
    practice = factory.SelfAttribute("client.practice")
    name = factory.Sequence(lambda n: f"Task {n}")
    start_date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=3))
    due_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=14))


class ActivityEventFactory(TenantFactory):
    class Meta:
        model = models.ActivityEvent

    practice = factory.SubFactory(PracticeFactory)
    verb = "test.event"
    summary = "Something happened"
