"""Lists sort from their column headers, keeping their filters, and say the order to screen readers."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from registry.models import SystemStatus
from tests.registry.factories import AISystemFactory
from tests.risk.factories import RiskFactory

pytestmark = pytest.mark.django_db


def _header(html: str, label: str) -> re.Match[str]:
    found = re.search(rf'<th scope="col" aria-sort="(\w+)"><a class="sort-link" href="\?([^"]+)">{label}<', html)
    assert found, f"no sortable header {label}"
    return found


def test_inventory_headers_sort_both_ways_and_keep_the_filters(acme, olivia, login):
    AISystemFactory(organization=acme, name="Alpha", status=SystemStatus.ACTIVE)
    AISystemFactory(organization=acme, name="Zulu", status=SystemStatus.ACTIVE)
    client = login(olivia)
    url = reverse("inventory:system_list")
    html = client.get(url, {"status": "active"}).content.decode()
    assert _header(html, "Reference").group(1) == "ascending"  # the list's own order
    name = _header(html, "Name")
    assert name.group(1) == "none" and "ordering=name" in name.group(2) and "status=active" in name.group(2)
    assert '<th scope="col">Owner</th>' in html  # no ordering offered: a plain header

    by_name = client.get(url, {"ordering": "name"}).content.decode()
    assert _header(by_name, "Name").group(1) == "ascending" and "ordering=-name" in _header(by_name, "Name").group(2)
    assert by_name.index("Alpha") < by_name.index("Zulu")
    backwards = client.get(url, {"ordering": "-name"}).content.decode()
    assert _header(backwards, "Name").group(1) == "descending"
    assert backwards.index("Zulu") < backwards.index("Alpha")


def test_risk_headers_sort_and_leave_the_page_behind(acme, olivia, login):
    RiskFactory(organization=acme, owner=olivia, title="Bias in scoring")
    RiskFactory(organization=acme, owner=olivia, title="Adversarial input")
    html = login(olivia).get(reverse("risk:list"), {"cursor": "abc", "ordering": "title"}).content.decode()
    title = _header(html, "Risk")
    assert title.group(1) == "ascending" and "cursor" not in title.group(2).replace("&amp;", "&")
    assert html.index("Adversarial input") < html.index("Bias in scoring")
