"""Per-organisation cached summaries: computed once, recomputed after a committed write."""

from __future__ import annotations

import pytest

from aims.summaries import cached_summary, invalidate_on, summaries_changed
from registry.models import AISystem
from tests.aims.factories import OrganizationFactory
from tests.registry.factories import AISystemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def systems_invalidate():
    invalidate_on(AISystem)


def _count(organization):
    calls = []

    def compute():
        calls.append(1)
        return AISystem.objects.for_org(organization).count()

    return calls, lambda: cached_summary(organization.pk, "test.system_count", compute)


def test_a_summary_is_computed_once_until_a_write_commits(django_capture_on_commit_callbacks):
    organization = OrganizationFactory()
    calls, read = _count(organization)
    assert read() == 0
    assert read() == 0
    assert len(calls) == 1

    with django_capture_on_commit_callbacks(execute=True):
        AISystemFactory(organization=organization)
    assert read() == 1
    assert len(calls) == 2


def test_a_write_makes_summaries_stale_at_once_and_again_when_it_commits(django_capture_on_commit_callbacks):
    organization = OrganizationFactory()
    calls, read = _count(organization)
    read()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        AISystemFactory(organization=organization)
        # The writing transaction reads its own write...
        assert read() == 1
        assert len(calls) == 2
    # ...and what anyone cached before the commit (another process could have cached the state
    # without the write) is not read after it.
    for callback in callbacks:
        callback()
    assert read() == 1
    assert len(calls) == 3


def test_writes_in_one_organisation_leave_the_others_cached(django_capture_on_commit_callbacks):
    first, second = OrganizationFactory(), OrganizationFactory()
    first_calls, read_first = _count(first)
    second_calls, read_second = _count(second)
    read_first(), read_second()
    with django_capture_on_commit_callbacks(execute=True):
        AISystemFactory(organization=first)
        summaries_changed(None)  # a write outside any organisation changes nothing
    read_first(), read_second()
    assert (len(first_calls), len(second_calls)) == (2, 1)


def test_a_scoped_summary_moves_only_with_the_writes_of_its_scope(django_capture_on_commit_callbacks):
    organization = OrganizationFactory()
    invalidate_on(AISystem, scope="test.updates", on_create=False)
    calls = []

    def compute():
        calls.append(1)
        return list(AISystem.objects.for_org(organization).values_list("name", flat=True))

    def read():
        return cached_summary(organization.pk, "test.names", compute, scope="test.updates")

    assert read() == []
    with django_capture_on_commit_callbacks(execute=True):
        system = AISystemFactory(organization=organization, name="Triage")
    assert read() == [] and len(calls) == 1  # a new row is not a change this scope follows
    with django_capture_on_commit_callbacks(execute=True):
        system.name = "Triage assistant"
        system.save()
    assert read() == ["Triage assistant"] and len(calls) == 2
    with django_capture_on_commit_callbacks(execute=True):
        summaries_changed(organization.pk)  # a bulk write makes every scope stale
    read()
    assert len(calls) == 3
