"""Page content and API lists cached per reader until the organisation's next recorded change."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aims.roles import Role
from registry.monitoring import services as monitoring
from tests.aims.factories import MembershipFactory
from tests.aims.identity.sessions import session_mark_authenticated
from tests.registry.factories import AISystemFactory, MetricDefinitionFactory
from tests.risk.factories import RiskFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("content_cache")]


def signed_in(user) -> Client:
    """A browser of ``user`` that has been to a page already: it holds the session's CSRF cookie
    (a first visit without one is never cached)."""
    client = Client()
    client.force_login(user)
    session_mark_authenticated(client.session, user)
    assert client.get(reverse("account_security")).status_code == 200
    return client


def get(client, url):
    """The page's content (the masked CSRF token of the header changes with every answer) and
    whether it came from the cache (the view's own context was not built)."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    return html[html.index('<main id="main"') : html.index("</main>")], "cached_content" in response.context


def test_a_list_page_is_served_from_the_cache_until_a_change_is_recorded(acme, olivia):
    RiskFactory(organization=acme, title="Drift in triage scores", owner=olivia)
    client = signed_in(olivia)
    with CaptureQueriesContext(connection) as cold:
        first, cached = get(client, reverse("risk:list"))
    assert "Drift in triage scores" in first and not cached
    with CaptureQueriesContext(connection) as warm:
        again, cached = get(client, reverse("risk:list"))
    assert again == first and cached
    assert not any("risk_risk" in query["sql"] for query in warm.captured_queries)
    assert any("risk_risk" in query["sql"] for query in cold.captured_queries)

    RiskFactory(organization=acme, title="Unfair loan refusals", owner=olivia)
    after, cached = get(client, reverse("risk:list"))
    assert "Unfair loan refusals" in after and "Drift in triage scores" in after
    assert not cached


def test_each_reader_has_their_own_entry(acme, globex, olivia, victor, charlie):
    RiskFactory(organization=acme, title="Acme only risk", owner=olivia)
    officer_page, _ = get(signed_in(olivia), reverse("risk:list"))
    viewer_page, _ = get(signed_in(victor), reverse("risk:list"))
    other_tenant_page, _ = get(signed_in(charlie), reverse("risk:list"))
    new_risk = reverse("risk:create")
    assert f'href="{new_risk}"' in officer_page
    assert f'href="{new_risk}"' not in viewer_page  # not the officer's cached content
    assert "Acme only risk" in viewer_page
    assert "Acme only risk" not in other_tenant_page


def test_a_role_change_is_seen_at_once(acme, victor):
    client = signed_in(victor)
    new_risk = f'href="{reverse("risk:create")}"'
    page, _ = get(client, reverse("risk:list"))
    assert new_risk not in page
    membership = victor.memberships.get(organization=acme)
    membership.role = Role.OFFICER
    membership.save()
    page, _ = get(client, reverse("risk:list"))
    assert new_risk in page


def test_the_query_string_and_the_session_are_part_of_the_entry(acme, olivia):
    RiskFactory(organization=acme, title="Drift in triage scores", owner=olivia)
    client = signed_in(olivia)
    get(client, reverse("risk:list"))
    filtered, _ = get(client, reverse("risk:list") + "?q=nothing-matches-this")
    assert "Drift in triage scores" not in filtered
    # A new session has a new CSRF secret: the content (and its forms' tokens) is its own.
    assert get(client, reverse("risk:list"))[1]
    assert not get(signed_in(olivia), reverse("risk:list"))[1]


def test_a_first_visit_without_a_csrf_cookie_is_not_cached(acme, olivia):
    def first_visit() -> bool:
        client = Client()
        client.force_login(olivia)
        session_mark_authenticated(client.session, olivia)
        return get(client, reverse("risk:list"))[1]

    # Had the first answer been kept, the next browser (no cookie either) would have been given
    # it, with CSRF tokens of the first one's new secret.
    assert not first_visit()
    assert not first_visit()


def test_measurements_leave_other_pages_cached_and_refresh_the_monitoring_tab(acme, olivia):
    system = AISystemFactory(organization=acme, owner=olivia)
    metric = MetricDefinitionFactory(system=system)
    client = signed_in(olivia)
    tab = reverse("monitoring:system", args=[system.pk]) + "?period=1d"
    get(client, reverse("risk:list"))  # its first visit records the default risk criteria
    get(client, reverse("risk:list"))
    get(client, tab)
    assert get(client, tab)[1]

    # Above the alert threshold: no alert is opened (that would be a recorded change).
    monitoring.measurements_ingest(
        organization=acme,
        items=[{"metric": metric.pk, "measured_at": timezone.now().isoformat(), "value": 0.91}],
        acting_user=olivia,
    )
    tab_page, tab_cached = get(client, tab)
    assert "0.91" in tab_page and not tab_cached
    assert get(client, reverse("risk:list"))[1]  # still the cached answer


def test_an_api_list_is_cached_for_its_token_until_a_change(acme, api_for, olivia):
    api = api_for(acme, role=Role.OFFICER)
    RiskFactory(organization=acme, title="Drift in triage scores", owner=olivia)
    with CaptureQueriesContext(connection) as cold:
        first = api.get("/api/v1/risks/").json()
    with CaptureQueriesContext(connection) as warm:
        again = api.get("/api/v1/risks/").json()
    assert again == first
    assert len(warm) < len(cold)
    created = api.post("/api/v1/risks/", {"title": "Unfair loan refusals"}, format="json")
    assert created.status_code == 201, created.content
    titles = {row["title"] for row in api.get("/api/v1/risks/").json()["results"]}
    assert titles == {"Drift in triage scores", "Unfair loan refusals"}

    viewer_api = api_for(acme, role=Role.VIEWER, created_by=MembershipFactory(organization=acme, role=Role.ADMIN).user)
    assert {row["title"] for row in viewer_api.get("/api/v1/risks/").json()["results"]} == titles
