"""Inventory and monitoring factories: plain rows of one organisation, with just the fields a record needs."""

from __future__ import annotations

import factory
from django.utils import timezone

from registry.models import AIModel, AISystem, Dataset, Resource, RoleAssignment, Supplier
from registry.monitoring.models import Measurement, MetricDefinition, MonitoringAlert
from tests.aims.factories import OrganizationFactory


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


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource

    system = factory.SubFactory(AISystemFactory)
    organization = factory.SelfAttribute("system.organization")
    kind = Resource.Kind.DATA
    name = factory.Sequence(lambda n: f"Resource {n}")


class RoleAssignmentFactory(factory.django.DjangoModelFactory):
    """A RACI row naming an outside party; pass ``member`` (and ``external_party=""``) for a member."""

    class Meta:
        model = RoleAssignment

    system = factory.SubFactory(AISystemFactory)
    organization = factory.SelfAttribute("system.organization")
    raci = RoleAssignment.Raci.RESPONSIBLE
    external_party = factory.Sequence(lambda n: f"Partner {n}")


class MetricDefinitionFactory(factory.django.DjangoModelFactory):
    """A higher-is-better AUC metric (target 0.8, alert below 0.75) of one system."""

    class Meta:
        model = MetricDefinition

    system = factory.SubFactory(AISystemFactory)
    organization = factory.SelfAttribute("system.organization")
    key = "auc"
    name = "AUC"
    direction = MetricDefinition.Direction.HIGHER
    target = 0.8
    alert_threshold = 0.75


class MeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measurement

    metric = factory.SubFactory(MetricDefinitionFactory)
    organization = factory.SelfAttribute("metric.organization")
    measured_at = factory.LazyFunction(timezone.now)
    value = 0.8


class MonitoringAlertFactory(factory.django.DjangoModelFactory):
    """An open alert of a metric, one breach below its threshold."""

    class Meta:
        model = MonitoringAlert

    metric = factory.SubFactory(MetricDefinitionFactory)
    system = factory.SelfAttribute("metric.system")
    organization = factory.SelfAttribute("metric.organization")
    first_value = 0.7
    worst_value = factory.SelfAttribute("first_value")
    last_value = factory.SelfAttribute("first_value")
    last_breach_at = factory.LazyFunction(timezone.now)
