"""Several choices among thousands: chips and a search box instead of a ``<select multiple>`` of every row."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aims.autocomplete import AutocompleteSelectMultiple
from aims.roles import Role
from audits.improvement.forms import AuditForm, FindingForm
from controls.models import ApplicabilityStatement
from controls.soa import services as soa
from controls.soa.forms import SoARowForm
from registry.forms import AIModelForm
from risk.forms import TreatmentForm
from tests.aims.factories import MembershipFactory, UserFactory
from tests.audits.factories import AuditFactory
from tests.controls.factories import EvidenceFactory
from tests.registry.factories import AISystemFactory, DatasetFactory

CHIP = re.compile(
    r'<input type="hidden" name="(\w+)" value="(\d+)"><button type="button" class="autocomplete-chip-remove"'
    r' data-autocomplete-chip data-value="\d+" aria-label="Remove ([^"]*)">'
)
EDIT = "soa:row_edit"
ROW = "A.6.2.6"


@pytest.fixture
def small_threshold(settings):
    settings.AUTOCOMPLETE_ABOVE = 3
    return settings


def _row_data(**overrides):
    data = {"applicable": "yes", "justification": "Needed for our AI use.", "implementation_status": "implemented",
            "implementation": "Described in the manual."}  # fmt: skip
    data.update(overrides)
    return data


def _tenant(user, organization):
    from aims.tenancy import Tenant

    membership = user.memberships.get(organization=organization)
    return Tenant(organization=organization, role=membership.role, user=user, membership=membership)


def _chips(html, name="systems"):
    return [(int(pk), label) for field, pk, label in CHIP.findall(html) if field == name]


def test_a_short_list_is_a_group_of_checkboxes_never_a_ctrl_click_select(login, olivia, acme):
    AISystemFactory.create_batch(3, organization=acme)
    html = login(olivia).get(reverse(EDIT, args=[ROW])).content.decode()
    assert '<select name="systems"' not in html
    group = re.search(r'<fieldset class="field[^"]*field-choices[^"]*"[^>]*>(.*?)</fieldset>', html, re.S)
    assert group and "<legend>AI systems it covers" in group.group(1)
    assert group.group(1).count('type="checkbox" name="systems"') == 3
    assert "data-autocomplete-multiple" not in html


def test_the_audit_criteria_are_checkboxes_to_filter(acme, olivia):
    form = AuditForm(tenant=_tenant(olivia, acme))
    assert form["criteria"].use_fieldset
    html = str(form["criteria"])
    assert html.count('type="checkbox" name="criteria"') > 60 and "<select" not in html


def test_a_short_list_of_checkboxes_stays_checkboxes(acme, olivia):
    tenant = _tenant(olivia, acme)
    html = str(AuditForm(tenant=tenant)["auditors"])
    assert 'type="checkbox" name="auditors"' in html and "data-autocomplete" not in html


def test_a_long_list_is_chips_and_a_search_box_without_options(login, olivia, acme, small_threshold):
    systems = AISystemFactory.create_batch(6, organization=acme)
    soa.soa_rows_ensure(acme)
    row = ApplicabilityStatement.objects.get(organization=acme, control__ref=ROW)
    row.system_links.create(organization=acme, system=systems[4])
    row.system_links.create(organization=acme, system=systems[1])
    html = login(olivia).get(reverse(EDIT, args=[ROW])).content.decode()
    assert '<select name="systems"' not in html and "<option" not in html.split('name="systems"', 1)[1][:2000]
    assert sorted(_chips(html)) == sorted([(s.pk, f"{s.ref_code} {s.name}") for s in (systems[1], systems[4])])
    assert systems[0].name not in html and systems[5].name not in html  # no option per row
    box = re.search(r'<input type="text"[^>]*id="id_systems"[^>]*>', html, re.S)
    assert box, "the search box carries the field's id, which its label points at"
    assert 'role="combobox"' in box.group(0) and 'aria-controls="id_systems_listbox"' in box.group(0)
    assert reverse("autocomplete", args=["systems"]) in box.group(0)
    assert 'for="id_systems"' in html
    assert ' size="' not in box.group(0) and " required" not in box.group(0)


def test_chosen_values_survive_a_validation_error(login, olivia, acme, small_threshold):
    systems = AISystemFactory.create_batch(6, organization=acme)
    chosen = [systems[5], systems[2]]
    response = login(olivia).post(
        reverse(EDIT, args=[ROW]), _row_data(justification="", systems=[s.pk for s in chosen])
    )
    assert response.status_code == 400 and "justification" in response.context["form"].errors
    # In the order they were chosen, each with its hidden input under the field's name.
    assert _chips(response.content.decode()) == [(s.pk, f"{s.ref_code} {s.name}") for s in chosen]
    row = ApplicabilityStatement.objects.get(organization=acme, control__ref=ROW)
    assert not row.system_links.exists()


def test_the_chosen_ids_are_saved_and_all_can_be_removed(login, olivia, acme, small_threshold):
    systems = AISystemFactory.create_batch(6, organization=acme)
    client = login(olivia)
    saved = client.post(reverse(EDIT, args=[ROW]), _row_data(systems=[systems[0].pk, systems[3].pk]))
    assert saved.status_code == 302
    row = ApplicabilityStatement.objects.get(organization=acme, control__ref=ROW)
    assert {link.system_id for link in row.system_links.all()} == {systems[0].pk, systems[3].pk}
    html = client.get(reverse(EDIT, args=[ROW])).content.decode()
    assert {pk for pk, _ in _chips(html)} == {systems[0].pk, systems[3].pk}
    # Every chip removed: no hidden input is sent, and the row covers no system any more.
    assert client.post(reverse(EDIT, args=[ROW]), _row_data()).status_code == 302
    assert not row.system_links.exists()


def test_another_organisations_ids_are_refused_and_never_shown(login, olivia, acme, globex, small_threshold):
    mine = AISystemFactory.create_batch(6, organization=acme)
    theirs = AISystemFactory(organization=globex, name="Globex secret scorer")
    client = login(olivia)
    refused = client.post(reverse(EDIT, args=[ROW]), _row_data(systems=[mine[0].pk, theirs.pk]))
    assert refused.status_code == 400 and "systems" in refused.context["form"].errors
    html = refused.content.decode()
    assert "Globex secret scorer" not in html
    assert _chips(html) == [(mine[0].pk, f"{mine[0].ref_code} {mine[0].name}")]
    row = ApplicabilityStatement.objects.get(organization=acme, control__ref=ROW)
    assert not row.system_links.exists()
    for malformed in ("abc", "99999999999999999999", ""):
        answer = client.post(reverse(EDIT, args=[ROW]), _row_data(systems=[mine[1].pk, malformed]))
        assert answer.status_code == 400
        assert _chips(answer.content.decode()) == [(mine[1].pk, f"{mine[1].ref_code} {mine[1].name}")]


def test_the_form_renders_in_the_same_queries_for_few_or_many_rows(login, olivia, acme, small_threshold):
    client = login(olivia)
    systems = AISystemFactory.create_batch(5, organization=acme)
    data = _row_data(justification="", systems=[systems[0].pk, systems[4].pk])
    client.post(reverse(EDIT, args=[ROW]), data)  # the session and tenant are loaded the same way each time
    with CaptureQueriesContext(connection) as few:
        client.post(reverse(EDIT, args=[ROW]), data)
    more = AISystemFactory.create_batch(60, organization=acme)
    data["systems"] = [systems[0].pk, *(s.pk for s in more[:20])]
    with CaptureQueriesContext(connection) as many:
        html = client.post(reverse(EDIT, args=[ROW]), data).content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(_chips(html)) == 21


def test_every_multiple_choice_over_a_registered_kind_becomes_chips(acme, olivia, small_threshold):
    AISystemFactory.create_batch(5, organization=acme)
    DatasetFactory.create_batch(5, organization=acme)
    EvidenceFactory.create_batch(5, organization=acme)
    for n in range(4):
        MembershipFactory(organization=acme, user=UserFactory(email=f"m{n}@acme.test"), role=Role.AUDITOR)
    tenant = _tenant(olivia, acme)
    audit = AuditFactory(programme__organization=acme, acting_user=olivia)
    forms = {
        "soa": SoARowForm(tenant=tenant),
        "treatment": TreatmentForm(tenant=tenant),
        "audit": AuditForm(tenant=tenant),
        "finding": FindingForm(tenant=tenant, audit=audit),
        "model": AIModelForm(tenant=tenant),
    }
    kinds = {
        (form, name): field.widget.kind
        for form, f in forms.items()
        for name, field in f.fields.items()
        if isinstance(field.widget, AutocompleteSelectMultiple)
    }
    assert kinds == {
        ("soa", "systems"): "systems",
        ("treatment", "controls"): "controls",
        ("audit", "criteria"): "controls",
        ("audit", "auditors"): "members",
        ("audit", "area_owners"): "members",
        ("finding", "evidence"): "evidence",
        ("model", "training_datasets"): "datasets",
        ("model", "evaluation_datasets"): "datasets",
    }
    html = str(forms["audit"]["auditors"])
    assert "data-autocomplete-multiple" in html and "m3@acme.test" not in html and 'type="checkbox"' not in html


@pytest.mark.parametrize("kind", ["datasets", "evidence"])
def test_the_new_kinds_suggest_this_organisations_rows_only(login, alice, acme, charlie, globex, kind):
    factory, field = (DatasetFactory, "name") if kind == "datasets" else (EvidenceFactory, "title")
    factory(organization=acme, **{field: "Triage notes"})
    factory(organization=globex, **{field: "Triage secret"})
    html = login(alice).get(reverse("autocomplete", args=[kind]), {"q": "triage"}).content.decode()
    assert "Triage notes" in html and "secret" not in html
