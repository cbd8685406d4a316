"""Inventory factories: plain rows of one organisation, with just the fields a record needs."""

from __future__ import annotations

import factory

from registry.models import AIModel, AISystem, Dataset, Supplier
from tests.factories import OrganizationFactory


class AISystemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AISystem

    organization = factory.SubFactory(OrganizationFactory)
    # Far above what the reference service hands out, so both can be used in one test.
    ref_code = factory.Sequence(lambda n: f"AIS-{n + 5000:04d}")
    name = factory.Sequence(lambda n: f"AI system {n}")
    purpose = "Helps a team with a routine decision."


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Supplier {n}")


class DatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dataset

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Dataset {n}")


class AIModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AIModel

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"model-{n}")
    version = "1"
