"""Search boxes instead of giant selects: the widget, the suggestion endpoints, and forms that still validate."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from aims.autocomplete import AutocompleteSelect
from aims.roles import Role
from registry.models import AISystem
from risk.forms import RiskForm
from risk.models import Risk, RiskCriteria
from tests.aims.factories import MembershipFactory, UserFactory
from tests.registry.factories import AISystemFactory
from tests.risk.factories import RiskFactory

OPTION = re.compile(r'<li role="option" class="autocomplete-option"[^>]*data-value="(\d+)">([^<]*)</li>')


@pytest.fixture
def small_threshold(settings):
    settings.AUTOCOMPLETE_ABOVE = 3
    return settings


def _suggested(client, kind, q=""):
    response = client.get(reverse("autocomplete", args=[kind]), {"q": q}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return OPTION.findall(response.content.decode())


def test_a_short_list_stays_a_plain_select(login, olivia, acme):
    AISystemFactory.create_batch(3, organization=acme)
    html = login(olivia).get(reverse("risk:list")).content.decode()
    assert re.search(r'<select name="system"[^>]*>', html)
    assert "data-autocomplete" not in html


def test_a_long_list_is_a_search_box_without_options(login, olivia, acme, small_threshold):
    systems = AISystemFactory.create_batch(5, organization=acme)
    chosen = systems[3]
    html = login(olivia).get(reverse("risk:list"), {"system": chosen.pk}).content.decode()
    assert not re.search(r'<select name="system"', html)
    assert f'<input type="hidden" name="system" value="{chosen.pk}"' in html
    assert 'role="combobox"' in html and 'aria-controls="id_system_listbox"' in html
    assert f'value="{chosen.ref_code} {chosen.name}"' in html  # the chosen row's label, in the box
    assert systems[0].name not in html  # no option per row
    assert reverse("autocomplete", args=["systems"]) in html
    # The filter still applies the id from the hidden input.
    RiskFactory(organization=acme, owner=olivia, system=chosen, title="On the chosen system")
    RiskFactory(organization=acme, owner=olivia, system=systems[0], title="On another system")
    page = login(olivia).get(reverse("risk:list"), {"system": chosen.pk}).content.decode()
    assert "On the chosen system" in page and "On another system" not in page


def test_every_kind_of_choice_in_forms_becomes_a_search_box(acme, olivia, small_threshold):
    AISystemFactory.create_batch(5, organization=acme)
    for n in range(4):
        MembershipFactory(organization=acme, user=UserFactory(email=f"m{n}@acme.test"), role=Role.OWNER)
    tenant = _tenant(olivia, acme)
    form = RiskForm(tenant=tenant, criteria=RiskCriteria(organization=acme))
    assert isinstance(form.fields["system"].widget, AutocompleteSelect)
    assert form.fields["system"].widget.kind == "systems"
    assert form.fields["owner"].widget.kind == "members"
    html = str(form["owner"])
    assert "data-autocomplete-value" in html and "m3@acme.test" not in html
    assert f'value="{olivia.pk}"' in html  # a new risk defaults to the person filling the form


def test_a_submitted_id_is_still_checked_against_the_organisations_rows(login, olivia, acme, globex, small_threshold):
    AISystemFactory.create_batch(5, organization=acme)
    theirs = AISystemFactory(organization=globex)
    mine = AISystem.objects.for_org(acme).first()
    data = {"title": "Unfair refusals", "owner": olivia.pk, "inherent_likelihood": "4", "inherent_impact": "4",
            "status": "identified"}  # fmt: skip
    client = login(olivia)
    refused = client.post(reverse("risk:create"), {**data, "system": theirs.pk})
    assert refused.status_code == 400
    assert "system" in refused.context["form"].errors
    assert not Risk.objects.exists()
    for malformed in ("abc", "99999999999999999999"):
        assert client.post(reverse("risk:create"), {**data, "system": malformed}).status_code == 400
    saved = client.post(reverse("risk:create"), {**data, "system": mine.pk})
    assert saved.status_code == 302
    assert Risk.objects.get().system == mine


@pytest.mark.parametrize("kind", ["systems", "risks", "members"])
def test_suggestions_show_this_organisations_rows_only(login, alice, acme, charlie, globex, kind):
    if kind == "systems":
        AISystemFactory(organization=acme, name="Triage helper")
        AISystemFactory(organization=globex, name="Triage secret")
    elif kind == "risks":
        RiskFactory(organization=acme, owner=alice, title="Triage drift")
        RiskFactory(organization=globex, owner=charlie, title="Triage secret")
    else:
        MembershipFactory(organization=acme, user=UserFactory(email="triage.helper@acme.test"), role=Role.VIEWER)
        MembershipFactory(organization=globex, user=UserFactory(email="triage.secret@globex.test"))
    labels = [label for _, label in _suggested(login(alice), kind, "triage")]
    assert len(labels) == 1 and "secret" not in labels[0].lower()
    # Nor without a search: the first rows are still only Acme's.
    assert not any("secret" in label.lower() for _, label in _suggested(login(alice), kind))
    assert any("secret" in label.lower() for _, label in _suggested(login(charlie), kind, "triage"))


def test_control_suggestions_come_from_the_catalogue_by_reference_and_title(login, victor):
    by_ref = _suggested(login(victor), "controls", "A.6.2.4")
    assert by_ref and by_ref[0][1].startswith("A.6.2.4")
    by_title = _suggested(login(victor), "controls", "impact assessment")
    assert by_title and all("impact assessment" in label.lower() for _, label in by_title)


def test_suggestions_search_reference_and_name_and_stop_at_twenty(login, olivia, acme):
    AISystemFactory.create_batch(30, organization=acme, name="Chest X-ray reader")
    AISystemFactory(organization=acme, ref_code="AIS-SPECIAL", name="Something else")
    client = login(olivia)
    assert len(_suggested(client, "systems", "x-ray")) == 20
    assert len(_suggested(client, "systems")) == 20
    assert [label for _, label in _suggested(client, "systems", "ais-spec")] == ["AIS-SPECIAL Something else"]
    nothing = client.get(reverse("autocomplete", args=["systems"]), {"q": "zzzz"}).content.decode()
    assert "Nothing matches" in nothing and 'aria-disabled="true"' in nothing


def test_suggestions_need_a_member_and_a_known_kind(client, login, alice):
    url = reverse("autocomplete", args=["systems"])
    assert client.get(url).status_code == 302  # to sign-in
    assert login(alice).get(reverse("autocomplete", args=["secrets"])).status_code == 404
    loner = UserFactory()
    assert login(loner).get(url).status_code == 302  # to "no organisation"


def test_suggestions_cost_the_same_queries_for_few_or_many_rows(login, olivia, acme, django_assert_num_queries):
    client = login(olivia)
    url = reverse("autocomplete", args=["systems"])
    AISystemFactory.create_batch(3, organization=acme, name="Sepsis alert")
    client.get(url, {"q": "sepsis"})  # the session and tenant are loaded the same way each time
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url, {"q": "sepsis"})
    AISystemFactory.create_batch(60, organization=acme, name="Sepsis alert")
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url, {"q": "sepsis"})
    assert len(OPTION.findall(response.content.decode())) == 20


def test_a_long_list_renders_in_the_same_queries_for_few_or_many_rows(login, olivia, acme, small_threshold):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(olivia)
    AISystemFactory.create_batch(5, organization=acme)
    client.get(reverse("risk:list"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("risk:list"))
    AISystemFactory.create_batch(40, organization=acme)
    with CaptureQueriesContext(connection) as many:
        html = client.get(reverse("risk:list")).content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)
    assert "data-autocomplete" in html


def _tenant(user, organization):
    from aims.tenancy import Tenant

    membership = user.memberships.get(organization=organization)
    return Tenant(organization=organization, role=membership.role, user=user, membership=membership)
