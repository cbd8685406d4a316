"""The portal's search: systems, risks, controls, policies and evidence of the member's organisation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.aims.factories import PolicyFactory
from tests.controls.factories import EvidenceFactory
from tests.registry.factories import AISystemFactory
from tests.risk.factories import RiskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(acme, globex, olivia):
    return {
        "system": AISystemFactory(organization=acme, name="Fraud scoring engine"),
        "risk": RiskFactory(organization=acme, owner=olivia, title="Fraud model drifts"),
        "policy": PolicyFactory(organization=acme, owner=olivia, acting_user=olivia, title="Fraud response policy"),
        "evidence": EvidenceFactory(organization=acme, title="Fraud model validation report"),
        "theirs": AISystemFactory(organization=globex, name="Fraud detector of Globex"),
        "unrelated": AISystemFactory(organization=acme, name="Chat assistant"),
    }


def _search(client, query):
    return client.get(reverse("site_search"), {"q": query}).content.decode()


def test_one_search_finds_each_kind_with_links(records, olivia, login):
    html = _search(login(olivia), "fraud")
    for heading in ("AI systems", "Risks", "Policies", "Evidence"):
        assert f">{heading}</h2>" in html
    assert reverse("inventory:system_detail", args=[records["system"].pk]) in html
    assert reverse("risk:detail", args=[records["risk"].pk]) in html
    assert reverse("governance:policy_detail", args=[records["policy"].pk]) in html
    assert reverse("evidence:detail", args=[records["evidence"].pk]) in html
    assert "Chat assistant" not in html
    assert reverse("inventory:system_list") + "?q=fraud" in html


def test_controls_are_found_by_reference(olivia, login):
    html = _search(login(olivia), "A.6.2.6")
    assert ">Controls and requirements</h2>" in html
    assert reverse("catalogue:requirement", args=["ISO42001", "A.6.2.6"]) in html


def test_another_organisations_rows_never_appear(records, olivia, charlie, login):
    assert "Globex" not in _search(login(olivia), "fraud")
    theirs = _search(login(charlie), "fraud")
    assert "Fraud detector of Globex" in theirs and "Fraud scoring engine" not in theirs
    assert "Fraud response policy" not in theirs


def test_short_and_empty_searches_say_what_to_do(records, olivia, login):
    client = login(olivia)
    assert "Type at least two characters" in _search(client, "f")
    assert "Nothing matches “zzzz”" in _search(client, "zzzz")
    assert "Nothing matches" not in _search(client, "")


def test_a_search_costs_one_query_per_kind(records, olivia, login, django_assert_max_num_queries):
    client = login(olivia)
    _search(client, "fraud")
    # Session, membership and the page's own reads, then one query per kind searched.
    with django_assert_max_num_queries(16):
        _search(client, "fraud")


def test_every_page_has_the_search_box(olivia, login):
    html = login(olivia).get(reverse("dashboard")).content.decode()
    assert 'role="search"' in html and 'aria-keyshortcuts="/"' in html and reverse("site_search") in html
