"""Inventory pages: forms and validation, owner rule, RACI, links, filters, tenancy, history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aims.models import Membership
from aims.roles import Role
from registry import services
from registry.models import AIModel, AISystem, Dataset, ModelDataset, RoleAssignment, Supplier, SystemModel
from tests.aims.factories import MembershipFactory
from tests.registry.factories import AIModelFactory, AISystemFactory, DatasetFactory, SupplierFactory


def system_form(**overrides):
    data = {
        "name": "Credit scoring",
        "purpose": "Estimate default risk.",
        "roles": ["provider", "producer"],
        "lifecycle_stage": "operation",
        "deployment_context": "customer_facing",
        "status": "active",
        "automation_level": "human_in_loop",
        "people_decisions": "supports",
        "eu_ai_act_tier": "high",
        "annex_iii_area": "5",
        "tier_rationale": "Creditworthiness of natural persons.",
        "performance_metrics": "AUC = ≥ 0.80\nApproval gap = < 5%",
        "next_review_date": "2027-01-31",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def owner_user(acme):
    return MembershipFactory(organization=acme, role=Role.OWNER).user


def test_officer_creates_a_system_with_every_rule_applied(login, olivia, acme):
    client = login(olivia)
    assert client.get(reverse("inventory:system_create")).status_code == 200
    response = client.post(reverse("inventory:system_create"), system_form(owner=olivia.pk))
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    system = AISystem.objects.get(organization=acme)
    assert system.ref_code == "AIS-0001"
    assert system.roles == ["provider", "producer"]
    assert system.performance_metrics == [
        {"name": "AUC", "target": "≥ 0.80"},
        {"name": "Approval gap", "target": "< 5%"},
    ]
    assert system.history.latest().history_user == olivia
    second = client.post(reverse("inventory:system_create"), system_form(owner=olivia.pk, name="Second"))
    assert second.status_code == 302
    assert AISystem.objects.get(name="Second").ref_code == "AIS-0002"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"purpose": ""}, "purpose"),
        ({"tier_rationale": ""}, "tier_rationale"),
        ({"eu_ai_act_tier": "minimal", "tier_rationale": "Low"}, "annex_iii_area"),
        ({"continuous_learning": "on"}, "continuous_learning_controls"),
        ({"performance_metrics": "just words"}, "performance_metrics"),
        ({"lifecycle_stage": "bogus"}, "lifecycle_stage"),
        ({"next_review_date": "31/31/2027"}, "next_review_date"),
    ],
)
def test_system_form_reports_each_rule_on_its_field(login, olivia, acme, overrides, field):
    response = login(olivia).post(reverse("inventory:system_create"), system_form(owner=olivia.pk, **overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not AISystem.objects.exists()


def test_owner_must_be_a_member_of_this_organisation(login, olivia, charlie):
    response = login(olivia).post(reverse("inventory:system_create"), system_form(owner=charlie.pk))
    assert response.status_code == 400
    assert "owner" in response.context["form"].errors


def test_duplicate_reference_is_a_form_error_not_a_500(login, olivia, acme):
    AISystemFactory(organization=acme, owner=olivia, ref_code="AIS-0042")
    response = login(olivia).post(reverse("inventory:system_create"), system_form(owner=olivia.pk, ref_code="AIS-0042"))
    assert response.status_code == 400
    assert response.context["form"].errors


def test_owner_edits_own_systems_only(login, owner_user, olivia, acme):
    mine = AISystemFactory(organization=acme, owner=owner_user, name="Mine")
    theirs = AISystemFactory(organization=acme, owner=olivia, name="Theirs")
    client = login(owner_user)
    ok = client.post(
        reverse("inventory:system_update", args=[mine.pk]), system_form(owner=owner_user.pk, name="Mine v2")
    )
    assert ok.status_code == 302
    assert client.get(reverse("inventory:system_update", args=[theirs.pk])).status_code == 403
    refused = client.post(reverse("inventory:system_update", args=[theirs.pk]), system_form(owner=owner_user.pk))
    assert refused.status_code == 403
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"
    # An owner cannot give a system away, nor create one for someone else.
    give = client.post(reverse("inventory:system_update", args=[mine.pk]), system_form(owner=olivia.pk))
    assert give.status_code == 400 and "owner" in give.context["form"].errors
    detail = client.get(reverse("inventory:system_detail", args=[theirs.pk]))
    assert detail.status_code == 200 and not detail.context["can_change"]


@pytest.mark.parametrize("persona", ["bob", "victor"])
def test_auditors_and_viewers_read_but_change_nothing(login, request, persona, acme, olivia):
    user = request.getfixturevalue(persona)
    system = AISystemFactory(organization=acme, owner=olivia)
    model = services.inventory_record_save(instance=AIModel(organization=acme, name="m"), acting_user=olivia)
    client = login(user)
    for name, args in [
        ("inventory:system_list", []),
        ("inventory:system_detail", [system.pk]),
        ("inventory:system_raci", [system.pk]),
        ("inventory:system_history", [system.pk]),
        ("inventory:model_list", []),
        ("inventory:model_detail", [model.pk]),
        ("inventory:dataset_list", []),
        ("inventory:supplier_list", []),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 200, name
    writes = [
        (reverse("inventory:system_create"), system_form(owner=olivia.pk)),
        (reverse("inventory:system_update", args=[system.pk]), system_form(owner=olivia.pk)),
        (reverse("inventory:system_delete", args=[system.pk]), {}),
        (reverse("inventory:system_link", args=[system.pk]), {"link": "model", "model": model.pk}),
        (reverse("inventory:model_create"), {"name": "x", "version": "1", "kind": "other", "source": "in_house"}),
        (
            reverse("inventory:model_update", args=[model.pk]),
            {"name": "x", "version": "1", "kind": "other", "source": "in_house"},
        ),
        (reverse("inventory:dataset_create"), {"name": "d", "purpose": "training"}),
        (reverse("inventory:supplier_create"), {"name": "s", "kind": "cloud", "due_diligence_status": "approved"}),
        (reverse("inventory:model_dataset_link", args=[model.pk]), {}),
    ]
    for url, data in writes:
        assert client.post(url, data).status_code == 403, url
    assert client.get(reverse("inventory:system_create")).status_code == 403
    assert AISystem.objects.count() == 1 and AIModel.objects.count() == 1
    assert not SystemModel.objects.exists()


def test_every_inventory_page_answers_404_for_another_organisation(login, alice, globex, charlie):
    system = AISystemFactory(organization=globex, owner=charlie, name="Fraud detection")
    model = AIModelFactory(organization=globex, name="gm")
    dataset = DatasetFactory(organization=globex, name="gd")
    supplier = SupplierFactory(organization=globex, name="gs")
    raci = services.role_assign(system=system, raci="A", member=charlie, acting_user=charlie)
    link = services.model_dataset_add(model=model, dataset=dataset, usage="training", acting_user=charlie)
    client = login(alice)
    gets = [
        ("inventory:system_detail", [system.pk]),
        ("inventory:system_models", [system.pk]),
        ("inventory:system_suppliers", [system.pk]),
        ("inventory:system_raci", [system.pk]),
        ("inventory:system_history", [system.pk]),
        ("inventory:system_update", [system.pk]),
        ("inventory:model_detail", [model.pk]),
        ("inventory:model_update", [model.pk]),
        ("inventory:dataset_detail", [dataset.pk]),
        ("inventory:dataset_update", [dataset.pk]),
        ("inventory:supplier_detail", [supplier.pk]),
        ("inventory:supplier_update", [supplier.pk]),
    ]
    for name, args in gets:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    posts = [
        ("inventory:system_update", [system.pk]),
        ("inventory:system_delete", [system.pk]),
        ("inventory:system_link", [system.pk]),
        ("inventory:system_unlink", [system.pk, "raci", raci.pk]),
        ("inventory:model_update", [model.pk]),
        ("inventory:model_dataset_link", [model.pk]),
        ("inventory:model_dataset_unlink", [model.pk, link.pk]),
        ("inventory:dataset_update", [dataset.pk]),
        ("inventory:supplier_update", [supplier.pk]),
    ]
    for name, args in posts:
        assert client.post(reverse(name, args=args), {"link": "raci"}).status_code == 404, name
    assert AISystem.objects.filter(pk=system.pk).exists() and RoleAssignment.objects.filter(pk=raci.pk).exists()
    assert "Fraud detection" not in client.get(reverse("inventory:system_list")).content.decode()


def test_linking_another_organisations_records_is_refused(login, olivia, acme, globex, charlie):
    system = AISystemFactory(organization=acme, owner=olivia)
    foreign_model = services.inventory_record_save(
        instance=AIModel(organization=globex, name="gm"), acting_user=charlie
    )
    foreign_supplier = services.inventory_record_save(
        instance=Supplier(organization=globex, name="gs"), acting_user=charlie
    )
    client = login(olivia)
    client.post(reverse("inventory:system_link", args=[system.pk]), {"link": "model", "model": foreign_model.pk})
    client.post(
        reverse("inventory:system_link", args=[system.pk]), {"link": "supplier", "supplier": foreign_supplier.pk}
    )
    client.post(reverse("inventory:system_link", args=[system.pk]), {"link": "raci", "raci": "A", "member": charlie.pk})
    assert not system.model_links.exists() and not system.supplier_links.exists()
    assert not system.role_assignments.exists()


def test_models_datasets_and_raci_through_the_system_tabs(login, olivia, victor, acme):
    system = AISystemFactory(organization=acme, owner=olivia, status="active")
    client = login(olivia)
    supplier_page = client.post(
        reverse("inventory:supplier_create"), {"name": "HireFlow", "kind": "model", "due_diligence_status": "approved"}
    )
    supplier = Supplier.objects.get(name="HireFlow")
    assert supplier_page["Location"] == reverse("inventory:supplier_detail", args=[supplier.pk])
    client.post(
        reverse("inventory:dataset_create"), {"name": "Loans", "purpose": "training", "contains_personal_data": "on"}
    )
    dataset = Dataset.objects.get(name="Loans")
    third_party_without_supplier = client.post(
        reverse("inventory:model_create"),
        {"name": "gbm", "version": "1", "kind": "classification", "source": "third_party"},
    )
    assert "supplier" in third_party_without_supplier.context["form"].errors
    client.post(
        reverse("inventory:model_create"),
        {
            "name": "gbm",
            "version": "1",
            "kind": "classification",
            "source": "third_party",
            "supplier": supplier.pk,
            "training_datasets": [dataset.pk],
        },
    )
    model = AIModel.objects.get(name="gbm")
    assert list(model.dataset_links.values_list("dataset_id", "usage")) == [(dataset.pk, ModelDataset.Usage.TRAINING)]

    page = client.get(reverse("inventory:system_detail", args=[system.pk])).content.decode()
    assert "no Accountable person" in page
    client.post(reverse("inventory:system_link", args=[system.pk]), {"link": "model", "model": model.pk})
    client.post(
        reverse("inventory:system_link", args=[system.pk]),
        {"link": "supplier", "supplier": supplier.pk, "note": "SaaS"},
    )
    client.post(
        reverse("inventory:system_link", args=[system.pk]), {"link": "resource", "kind": "computing", "name": "GPU"}
    )
    client.post(reverse("inventory:system_link", args=[system.pk]), {"link": "raci", "raci": "A", "member": victor.pk})
    second = client.post(
        reverse("inventory:system_link", args=[system.pk]),
        {"link": "raci", "raci": "A", "external_party": "Board"},
        follow=True,
    )
    assert "already has an Accountable" in second.content.decode()
    neither = client.post(
        reverse("inventory:system_link", args=[system.pk]), {"link": "raci", "raci": "R"}, follow=True
    )
    assert "one of the two" in neither.content.decode()
    client.post(
        reverse("inventory:system_link", args=[system.pk]),
        {"link": "raci", "raci": "C", "external_party": "Works council"},
    )
    assert system.role_assignments.count() == 2
    models_tab = client.get(reverse("inventory:system_models", args=[system.pk])).content.decode()
    assert "gbm" in models_tab and "Loans" in models_tab
    assert (
        "no Accountable person" not in client.get(reverse("inventory:system_detail", args=[system.pk])).content.decode()
    )

    history = client.get(reverse("inventory:system_history", args=[system.pk]))
    models_in_history = {e.model for e in history.context["entries"]}
    assert {
        "AI system",
        "System model link",
        "System supplier link",
        "Role assignment",
        "Resource",
    } <= models_in_history

    link = system.model_links.get()
    client.post(reverse("inventory:system_unlink", args=[system.pk, "model", link.pk]))
    assert not system.model_links.exists()
    assert SystemModel.history.filter(id=link.pk, history_type="-").get().history_user == olivia


def test_inventory_filters_search_and_sorting(login, olivia, victor, acme):
    today = timezone.localdate()
    AISystemFactory(organization=acme, owner=olivia, name="Alpha", eu_ai_act_tier="high", tier_rationale="r",
                    lifecycle_stage="design", is_provider=True, status="active",
                    next_review_date=today - timedelta(days=1))  # fmt: skip
    AISystemFactory(organization=acme, owner=victor, name="Beta", eu_ai_act_tier="minimal", tier_rationale="r",
                    lifecycle_stage="operation", is_customer=True, status="active",
                    next_review_date=today + timedelta(days=30))  # fmt: skip
    AISystemFactory(
        organization=acme,
        owner=olivia,
        name="Gamma retired",
        status="retired",
        next_review_date=today - timedelta(days=5),
    )
    client = login(olivia)

    def names(**params):
        return [s.name for s in client.get(reverse("inventory:system_list"), params).context["object_list"]]

    assert names() == ["Alpha", "Beta", "Gamma retired"]
    assert names(tier="high") == ["Alpha"]
    assert names(stage="operation") == ["Beta"]
    assert names(role="customer") == ["Beta"]
    assert names(owner=victor.pk) == ["Beta"]
    assert names(status="retired") == ["Gamma retired"]
    assert names(review_overdue="true") == ["Alpha"]
    assert names(q="gamm") == ["Gamma retired"]
    assert names(ordering="-name") == ["Gamma retired", "Beta", "Alpha"]
    assert names(tier="nonsense") == ["Alpha", "Beta", "Gamma retired"]  # invalid filters are ignored, not a 500


@pytest.mark.parametrize("count", [5, 50])
def test_inventory_list_costs_a_fixed_number_of_queries(login, olivia, acme, count):
    for n in range(count):
        system = AISystemFactory(organization=acme, owner=olivia, name=f"System {n:02d}", status="active")
        if n % 2:
            services.role_assign(system=system, raci="A", member=olivia, acting_user=olivia)
    client = login(olivia)
    client.get(reverse("inventory:system_list"))  # warm the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("inventory:system_list"), {"page": 2 if count > 25 else 1})
    assert response.status_code == 200
    assert len(response.context["object_list"]) == min(count, 25)
    # session, user, tenant membership, organisation list, count, page, filter owners
    assert len(queries) <= 9, [q["sql"] for q in queries]
    test_inventory_list_costs_a_fixed_number_of_queries.counts = getattr(
        test_inventory_list_costs_a_fixed_number_of_queries, "counts", {}
    )
    test_inventory_list_costs_a_fixed_number_of_queries.counts[count] = len(queries)
    counts = test_inventory_list_costs_a_fixed_number_of_queries.counts
    if len(counts) == 2:
        assert counts[5] == counts[50]


def test_dashboard_shows_inventory_figures(login, olivia, acme):
    AISystemFactory(organization=acme, owner=olivia, status="active", eu_ai_act_tier="high", tier_rationale="r",
                next_review_date=timezone.localdate() - timedelta(days=3))  # fmt: skip
    page = login(olivia).get(reverse("dashboard"))
    tiles = {t.label: t.value for t in page.context["tiles"]}
    assert tiles["AI systems"] == 1
    assert tiles["Reviews overdue"] == 1
    assert tiles["No Accountable person"] == 1
    panel = page.context["panels"][0].context
    assert ("high", "High-risk", 1) in panel["tier"]


def test_delete_keeps_history(login, olivia, acme):
    system = AISystemFactory(organization=acme, owner=olivia)
    login(olivia).post(reverse("inventory:system_delete", args=[system.pk]))
    assert not AISystem.objects.exists()
    assert AISystem.history.filter(id=system.pk, history_type="-").get().history_user == olivia


def test_demo_inventory_is_realistic_and_idempotent(db):
    from aims.demo import demo_seed
    from aims.models import Organization

    demo_seed()
    org = Organization.objects.get(slug="acme-health-ai")
    systems = {s.name: s for s in AISystem.objects.for_org(org)}
    assert systems["Consumer credit scoring"].eu_ai_act_tier == "high"
    assert systems["Consumer credit scoring"].annex_iii_area == 5
    assert systems["CV screening"].annex_iii_area == 4
    assert systems["Customer service assistant"].eu_ai_act_tier == "limited"
    assert systems["Demand forecasting"].eu_ai_act_tier == "minimal"
    assert all(s.model_links.exists() for s in systems.values())
    history_rows = AISystem.history.count()
    demo_seed()
    assert AISystem.objects.for_org(org).count() == 4
    assert AISystem.history.count() == history_rows
    assert Membership.objects.filter(organization=org).count() == 5


def test_the_unfiltered_inventory_total_is_cached_and_follows_new_and_deleted_systems(
    login, olivia, acme, django_capture_on_commit_callbacks
):
    for n in range(3):
        AISystemFactory(organization=acme, owner=olivia, name=f"System {n}")
    client = login(olivia)

    def total(**params):
        return client.get(reverse("inventory:system_list"), params).context["paginator"].count

    assert total() == 3
    with CaptureQueriesContext(connection) as queries:
        assert total(ordering="-name", page=1) == 3
    assert not [q for q in queries if q["sql"].startswith('SELECT COUNT(*) AS "__count" FROM "registry_aisystem"')]
    with django_capture_on_commit_callbacks(execute=True):
        doomed = AISystemFactory(organization=acme, owner=olivia, name="System 3")
    assert total() == 4
    assert total(q="System 3") == 1  # a filtered list is counted as it is
    with django_capture_on_commit_callbacks(execute=True):
        services.inventory_record_delete(instance=doomed, acting_user=olivia)
    assert total() == 3


def test_the_api_lists_link_ids_without_a_query_per_row(api_for, acme, olivia, django_capture_on_commit_callbacks):
    api = api_for(acme, created_by=olivia)
    model = AIModelFactory(organization=acme)

    def listed(count):
        with django_capture_on_commit_callbacks(execute=True):
            for n in range(count):
                system = AISystemFactory(organization=acme, name=f"System {AISystem.objects.count()} {n}")
                SystemModel.objects.create(organization=acme, system=system, model=model)
        api.get(reverse("system-list"))
        with CaptureQueriesContext(connection) as queries:
            answer = api.get(reverse("system-list")).json()
        assert answer["count"] == len(answer["results"]) == AISystem.objects.filter(organization=acme).count()
        assert all(row["models"] == [model.pk] and row["suppliers"] == [] for row in answer["results"])
        return len(queries)

    assert listed(2) == listed(20)


def test_a_system_records_its_annex_iii_point_and_the_datasets_it_uses_directly(login, olivia, victor, acme, globex):
    client = login(olivia)
    created = client.post(reverse("inventory:system_create"), system_form(owner=olivia.pk, annex_iii_point="5(b)"))
    assert created.status_code == 302
    system = AISystem.objects.get(organization=acme)
    assert system.annex_iii_point == "5(b)" and system.annex_iii_area == 5
    assert "Annex III point 5(b)" in client.get(reverse("inventory:system_detail", args=[system.pk])).content.decode()
    mismatch = client.post(reverse("inventory:system_create"), system_form(owner=olivia.pk, annex_iii_point="4(a)"))
    assert mismatch.status_code == 400 and "annex_iii_point" in mismatch.context["form"].errors

    corpus = DatasetFactory(organization=acme, name="Policy corpus")
    theirs = DatasetFactory(organization=globex, name="Their corpus")
    link_url = reverse("inventory:system_link", args=[system.pk])
    client.post(link_url, {"link": "dataset", "dataset": theirs.pk})
    assert not system.dataset_links.exists()
    assert client.post(link_url, {"link": "dataset", "dataset": corpus.pk, "note": "Retrieval"}).status_code == 302
    link = system.dataset_links.get()
    assert link.dataset == corpus and link.note == "Retrieval"
    tab = client.get(reverse("inventory:system_models", args=[system.pk])).content.decode()
    assert "Policy corpus" in tab and "Retrieval" in tab
    history = client.get(reverse("inventory:system_history", args=[system.pk]))
    assert "System dataset link" in {entry.model for entry in history.context["entries"]}
    unlink = reverse("inventory:system_unlink", args=[system.pk, "dataset", link.pk])
    viewer = login(victor)
    assert viewer.post(link_url, {"link": "dataset", "dataset": corpus.pk}).status_code == 403
    assert viewer.post(unlink).status_code == 403 and system.dataset_links.exists()
    assert login(olivia).post(unlink).status_code == 302 and not system.dataset_links.exists()
