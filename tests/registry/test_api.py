"""Inventory API: CRUD, filters and pagination, tenancy, roles, validation, history, query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aims.roles import Role
from registry import services
from registry.models import (
    AIModel,
    AISystem,
    Dataset,
    ModelDataset,
    Resource,
    RoleAssignment,
    Supplier,
    SystemModel,
    SystemSupplier,
)
from tests.aims.factories import MembershipFactory
from tests.registry.factories import AIModelFactory, AISystemFactory, DatasetFactory, SupplierFactory


def system_payload(**overrides):
    return {
        "name": "Credit scoring",
        "purpose": "Estimate the default risk of loan applicants.",
        "roles": ["provider", "producer"],
        "lifecycle_stage": "operation",
        "eu_ai_act_tier": "high",
        "annex_iii_area": 5,
        "tier_rationale": "Creditworthiness of natural persons.",
        "performance_metrics": [{"name": "AUC", "target": ">= 0.80"}],
        **overrides,
    }


@pytest.fixture
def api(api_for, acme, olivia):
    """Olivia's integration token (officer)."""
    return api_for(acme, role=Role.OFFICER, created_by=olivia)


@pytest.fixture
def dana(acme):
    """An AI system owner in Acme."""
    return MembershipFactory(organization=acme, role=Role.OWNER).user


def url(basename, pk=None):
    return reverse(f"{basename}-detail", args=[pk]) if pk is not None else reverse(f"{basename}-list")


# --- CRUD --------------------------------------------------------------------------------


def test_system_crud_with_roles_owner_and_links(api, acme, olivia):
    model = AIModelFactory(organization=acme)
    supplier = SupplierFactory(organization=acme)
    created = api.post(
        url("system"), system_payload(owner=olivia.pk, models=[model.pk], suppliers=[supplier.pk]), format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["ref_code"] == "AIS-0001"
    assert body["roles"] == ["provider", "producer"]
    assert body["owner"] == olivia.pk
    assert body["models"] == [model.pk] and body["suppliers"] == [supplier.pk]
    assert body["has_accountable"] is False and body["review_overdue"] is False
    assert not {"is_provider", "is_producer", "is_customer", "is_partner", "organization"} & set(body)
    system = AISystem.objects.get(pk=body["id"])
    assert system.organization == acme and system.is_provider and system.is_producer and not system.is_customer
    assert SystemModel.objects.filter(system=system, model=model).exists()

    assert api.get(url("system", system.pk)).json()["name"] == "Credit scoring"
    changed = api.patch(url("system", system.pk), {"roles": ["customer"], "models": []}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["roles"] == ["customer"] and changed.json()["models"] == []
    system.refresh_from_db()
    assert system.is_customer and not system.is_provider and not system.is_producer
    assert not SystemModel.objects.filter(system=system).exists()
    assert SystemSupplier.objects.filter(system=system, supplier=supplier).exists()  # untouched when not sent

    assert api.get(url("system")).json()["count"] == 1
    assert api.delete(url("system", system.pk)).status_code == 204
    assert not AISystem.objects.filter(pk=system.pk).exists()


def test_system_reference_can_be_given_and_must_be_unique(api, acme):
    first = api.post(url("system"), system_payload(ref_code="CS-1"), format="json")
    assert first.status_code == 201 and first.json()["ref_code"] == "CS-1"
    again = api.post(url("system"), system_payload(ref_code="CS-1", name="Other"), format="json")
    assert again.status_code == 400
    assert "ref_code" in again.json()["errors"]


def test_model_crud_with_supplier_and_datasets(api, acme):
    supplier = SupplierFactory(organization=acme)
    train, holdout = DatasetFactory(organization=acme), DatasetFactory(organization=acme)
    created = api.post(
        url("aimodel"),
        {
            "name": "credit-gbm",
            "version": "7",
            "kind": "classification",
            "supplier": supplier.pk,
            "training_datasets": [train.pk],
            "evaluation_datasets": [holdout.pk],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["supplier"] == supplier.pk
    assert body["training_datasets"] == [train.pk] and body["evaluation_datasets"] == [holdout.pk]
    model = AIModel.objects.get(pk=body["id"])
    assert set(model.dataset_links.values_list("dataset_id", "usage")) == {
        (train.pk, ModelDataset.Usage.TRAINING),
        (holdout.pk, ModelDataset.Usage.EVALUATION),
    }
    changed = api.patch(url("aimodel", model.pk), {"training_datasets": [train.pk, holdout.pk]}, format="json")
    assert changed.status_code == 200
    assert changed.json()["training_datasets"] == sorted([train.pk, holdout.pk])
    assert changed.json()["evaluation_datasets"] == [holdout.pk]
    assert api.get(url("aimodel", model.pk)).json()["version"] == "7"
    assert api.delete(url("aimodel", model.pk)).status_code == 204
    assert not AIModel.objects.filter(pk=model.pk).exists()


def test_model_name_and_version_are_unique(api, acme):
    AIModelFactory(organization=acme, name="credit-gbm", version="7")
    response = api.post(url("aimodel"), {"name": "credit-gbm", "version": "7"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["non_field_errors"]
    assert AIModel.objects.filter(organization=acme).count() == 1


def test_dataset_crud(api, acme):
    supplier = SupplierFactory(organization=acme)
    created = api.post(
        url("dataset"),
        {"name": "Loans 2024", "purpose": "training", "provenance": "Core banking export.", "supplier": supplier.pk},
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert Dataset.objects.get(pk=pk).organization == acme
    assert api.patch(url("dataset", pk), {"contains_personal_data": True}, format="json").status_code == 200
    assert api.get(url("dataset", pk)).json()["contains_personal_data"] is True
    assert api.delete(url("dataset", pk)).status_code == 204
    assert not Dataset.objects.filter(pk=pk).exists()


def test_supplier_crud_and_unique_name(api, acme):
    created = api.post(url("supplier"), {"name": "Northwind Cloud", "kind": "cloud"}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    duplicate = api.post(url("supplier"), {"name": "Northwind Cloud"}, format="json")
    assert duplicate.status_code == 400 and "name" in duplicate.json()["errors"]
    changed = api.patch(url("supplier", pk), {"due_diligence_status": "approved"}, format="json")
    assert changed.status_code == 200 and changed.json()["due_diligence_status"] == "approved"
    assert api.delete(url("supplier", pk)).status_code == 204
    assert not Supplier.objects.filter(pk=pk).exists()


def test_role_assignment_crud(api, acme, olivia, victor):
    system = AISystemFactory(organization=acme)
    created = api.post(
        url("roleassignment"), {"system": system.pk, "raci": "A", "member": olivia.pk, "note": "Signs off"}
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["party"] == str(olivia)
    external = api.post(url("roleassignment"), {"system": system.pk, "raci": "C", "external_party": "Works council"})
    assert external.status_code == 201
    assert api.get(url("system", system.pk)).json()["has_accountable"] is True
    changed = api.patch(url("roleassignment", pk), {"member": victor.pk}, format="json")
    assert changed.status_code == 200 and RoleAssignment.objects.get(pk=pk).member == victor
    listed = api.get(url("roleassignment"), {"system": system.pk, "raci": "C"}).json()
    assert [row["id"] for row in listed["results"]] == [external.json()["id"]]
    assert api.delete(url("roleassignment", pk)).status_code == 204
    assert not RoleAssignment.objects.filter(pk=pk).exists()


def test_role_assignment_change_is_checked_like_a_new_one(api, acme, olivia, victor):
    system = AISystemFactory(organization=acme)
    services.role_assign(system=system, raci="A", member=olivia, acting_user=olivia)
    informed = services.role_assign(system=system, raci="I", member=victor, acting_user=olivia)
    second_a = api.patch(url("roleassignment", informed.pk), {"raci": "A"}, format="json")
    assert second_a.status_code == 400
    assert "already has an Accountable" in second_a.json()["errors"]["raci"][0]
    both = api.patch(url("roleassignment", informed.pk), {"external_party": "Regulator"}, format="json")
    assert both.status_code == 400 and "member" in both.json()["errors"]
    other = AISystemFactory(organization=acme)
    moved = api.patch(url("roleassignment", informed.pk), {"system": other.pk}, format="json")
    assert moved.status_code == 400 and "system" in moved.json()["errors"]
    informed.refresh_from_db()
    assert (informed.raci, informed.system_id, informed.external_party) == ("I", system.pk, "")


def test_resource_crud(api, acme):
    system = AISystemFactory(organization=acme)
    created = api.post(url("resource"), {"system": system.pk, "kind": "computing", "name": "GPU pool"})
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert Resource.objects.get(pk=pk).system == system
    assert api.patch(url("resource", pk), {"description": "8 x A100"}, format="json").status_code == 200
    assert api.get(url("resource"), {"system": system.pk}).json()["count"] == 1
    assert api.delete(url("resource", pk)).status_code == 204


# --- Filters and pagination ---------------------------------------------------------------


@pytest.fixture
def systems(acme, olivia):
    today = timezone.localdate()
    return {
        "credit": AISystemFactory(
            organization=acme,
            name="Credit scoring",
            eu_ai_act_tier="high",
            tier_rationale="Annex III",
            lifecycle_stage="operation",
            status="active",
            is_provider=True,
            owner=olivia,
            next_review_date=today - timedelta(days=1),
        ),
        "chatbot": AISystemFactory(
            organization=acme,
            name="Support chatbot",
            eu_ai_act_tier="limited",
            tier_rationale="Talks to people",
            lifecycle_stage="design",
            status="proposed",
            is_customer=True,
            business_unit="Customer care",
            next_review_date=today + timedelta(days=30),
        ),
        "retired": AISystemFactory(
            organization=acme,
            name="Old forecaster",
            status="retired",
            is_customer=True,
            next_review_date=today - timedelta(days=100),
        ),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"tier": "high"}, {"credit"}),
        ({"tier": ["high", "limited"]}, {"credit", "chatbot"}),
        ({"stage": "design"}, {"chatbot"}),
        ({"role": "customer"}, {"chatbot", "retired"}),
        ({"role": "provider"}, {"credit"}),
        ({"status": "retired"}, {"retired"}),
        ({"review_overdue": "true"}, {"credit"}),
        ({"review_overdue": "false"}, {"chatbot", "retired"}),
        ({"q": "care"}, {"chatbot"}),
        ({"q": "scoring"}, {"credit"}),
    ],
)
def test_system_filters(api, systems, params, expected):
    response = api.get(url("system"), params)
    assert response.status_code == 200, response.content
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {systems[name].pk for name in expected}


def test_system_filter_by_owner_and_overdue_flag(api, systems, olivia):
    rows = api.get(url("system"), {"owner": olivia.pk}).json()["results"]
    assert [row["id"] for row in rows] == [systems["credit"].pk]
    assert rows[0]["review_overdue"] is True


def test_system_ordering_and_pagination(api, acme, systems):
    AISystemFactory.create_batch(4, organization=acme)
    ordered = api.get(url("system"), {"ordering": "-name", "page_size": 100}).json()["results"]
    names = [row["name"] for row in ordered]
    assert names == sorted(names, reverse=True)
    first = api.get(url("system"), {"page_size": 2}).json()
    assert first["count"] == 7 and len(first["results"]) == 2 and first["next"]
    last = api.get(url("system"), {"page_size": 2, "page": 4}).json()
    assert len(last["results"]) == 1 and last["next"] is None


def test_model_dataset_and_supplier_filters(api, acme):
    vendor, other_vendor = SupplierFactory(organization=acme, kind="model"), SupplierFactory(organization=acme)
    gbm = AIModelFactory(organization=acme, name="credit-gbm", supplier=vendor, kind="classification")
    AIModelFactory(organization=acme, name="ticket-bert", kind="nlp")
    personal = DatasetFactory(organization=acme, contains_personal_data=True, supplier=vendor)
    DatasetFactory(organization=acme, purpose="test")

    def ids(basename, params):
        return [row["id"] for row in api.get(url(basename), params).json()["results"]]

    assert ids("aimodel", {"q": "gbm"}) == [gbm.pk]
    assert ids("aimodel", {"supplier": vendor.pk}) == [gbm.pk]
    assert ids("aimodel", {"kind": "classification"}) == [gbm.pk]
    assert ids("dataset", {"contains_personal_data": "true"}) == [personal.pk]
    assert ids("dataset", {"supplier": vendor.pk}) == [personal.pk]
    assert ids("supplier", {"kind": "model"}) == [vendor.pk]
    assert ids("supplier", {"ordering": "-name"}) == sorted([vendor.pk, other_vendor.pk], reverse=True)


# --- Tenancy ---------------------------------------------------------------------------


@pytest.fixture
def globex_records(globex, charlie):
    system = AISystemFactory(organization=globex, owner=charlie)
    return {
        "system": system,
        "aimodel": AIModelFactory(organization=globex),
        "dataset": DatasetFactory(organization=globex),
        "supplier": SupplierFactory(organization=globex),
        "roleassignment": services.role_assign(system=system, raci="A", member=charlie, acting_user=charlie),
        "resource": services.resource_add(
            system=system, kind="human", name="Data team", description="", acting_user=charlie
        ),
    }


RESOURCES = ["system", "aimodel", "dataset", "supplier", "roleassignment", "resource"]


@pytest.mark.parametrize("basename", RESOURCES)
@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_another_organisations_record_is_404(api_for, acme, globex_records, basename, method):
    record = globex_records[basename]
    api = api_for(acme, role=Role.ADMIN)
    response = getattr(api, method)(url(basename, record.pk), {"name": "Hijacked", "note": "x"}, format="json")
    assert response.status_code == 404, response.content
    assert set(response.json()) == {"detail"}
    fresh = type(record).objects.get(pk=record.pk)
    assert getattr(fresh, "name", None) != "Hijacked" and getattr(fresh, "note", "") != "x"


@pytest.mark.parametrize("basename", RESOURCES)
def test_lists_hold_only_the_callers_organisation(api, acme, globex_records, basename):
    body = api.get(url(basename)).json()
    assert body["count"] == 0
    assert globex_records[basename].pk not in {row["id"] for row in body["results"]}


def test_another_organisations_ids_are_never_linked(api, acme, globex_records, charlie):
    system = AISystemFactory(organization=acme)
    model = AIModelFactory(organization=acme)
    foreign = {
        ("system", system.pk, "models"): globex_records["aimodel"].pk,
        ("system", system.pk, "suppliers"): globex_records["supplier"].pk,
        ("aimodel", model.pk, "training_datasets"): globex_records["dataset"].pk,
        ("aimodel", model.pk, "evaluation_datasets"): globex_records["dataset"].pk,
    }
    for (basename, pk, field), foreign_pk in foreign.items():
        response = api.patch(url(basename, pk), {field: [foreign_pk]}, format="json")
        assert response.status_code == 400, (field, response.content)
        assert f"id {foreign_pk} in your organisation" in response.json()["errors"][field][0]
    single = {
        "aimodel": {"name": "m", "supplier": globex_records["supplier"].pk},
        "dataset": {"name": "d", "supplier": globex_records["supplier"].pk},
        "roleassignment": {"system": globex_records["system"].pk, "raci": "R", "external_party": "X"},
        "resource": {"system": globex_records["system"].pk, "kind": "data", "name": "r"},
    }
    for basename, data in single.items():
        response = api.post(url(basename), data, format="json")
        assert response.status_code == 400, (basename, response.content)
        assert {"supplier", "system"} & set(response.json()["errors"])
    created = api.post(url("system"), system_payload(models=[globex_records["aimodel"].pk]), format="json")
    assert created.status_code == 400
    assert not SystemModel.objects.filter(organization=system.organization).exists()
    assert not SystemSupplier.objects.filter(organization=system.organization).exists()
    assert not ModelDataset.objects.filter(organization=system.organization).exists()
    assert AISystem.objects.filter(organization=system.organization).count() == 1
    assert not AIModel.objects.filter(organization=system.organization, name="m").exists()


def test_another_organisations_member_cannot_own_or_hold_a_role(api, acme, charlie):
    system = AISystemFactory(organization=acme)
    owner = api.patch(url("system", system.pk), {"owner": charlie.pk}, format="json")
    assert owner.status_code == 400 and "not a member" in owner.json()["errors"]["owner"][0]
    raci = api.post(url("roleassignment"), {"system": system.pk, "raci": "R", "member": charlie.pk})
    assert raci.status_code == 400 and "member" in raci.json()["errors"]
    system.refresh_from_db()
    assert system.owner is None and not system.role_assignments.exists()


def test_filter_by_another_organisations_id_reveals_nothing(api, globex_records):
    foreign = api.get(url("aimodel"), {"supplier": globex_records["supplier"].pk})
    unknown = api.get(url("aimodel"), {"supplier": 999_999})
    assert foreign.status_code == unknown.status_code == 200
    assert foreign.json() == unknown.json()


# --- Roles -----------------------------------------------------------------------------


@pytest.fixture
def acme_records(acme, olivia):
    system = AISystemFactory(organization=acme, owner=olivia)
    return {
        "system": system,
        "aimodel": AIModelFactory(organization=acme),
        "dataset": DatasetFactory(organization=acme),
        "supplier": SupplierFactory(organization=acme),
        "roleassignment": services.role_assign(system=system, raci="R", member=olivia, acting_user=olivia),
        "resource": services.resource_add(system=system, kind="data", name="Lake", description="", acting_user=olivia),
    }


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AUDITOR])
@pytest.mark.parametrize("basename", RESOURCES)
def test_viewers_and_auditors_read_but_never_write(api_for, acme, acme_records, role, basename):
    api = api_for(acme, role=role)
    record = acme_records[basename]
    history_before = type(record).history.count()
    assert api.get(url(basename)).status_code == 200
    assert api.get(url(basename, record.pk)).status_code == 200
    data = {"name": "Changed", "system": acme_records["system"].pk, "raci": "C", "external_party": "X"}
    assert api.post(url(basename), data, format="json").status_code == 403
    assert api.patch(url(basename, record.pk), data, format="json").status_code == 403
    assert api.put(url(basename, record.pk), data, format="json").status_code == 403
    assert api.delete(url(basename, record.pk)).status_code == 403
    assert type(record).history.count() == history_before  # nothing created, changed or deleted


def test_owner_changes_own_system_only(api_for, acme, dana, olivia):
    mine = AISystemFactory(organization=acme, owner=dana)
    theirs = AISystemFactory(organization=acme, owner=olivia)
    unowned = AISystemFactory(organization=acme)
    api = api_for(acme, role=Role.OWNER, created_by=dana)
    assert api.patch(url("system", mine.pk), {"business_unit": "Lending"}, format="json").status_code == 200
    for other in (theirs, unowned):
        refused = api.patch(url("system", other.pk), {"business_unit": "Lending"}, format="json")
        assert refused.status_code == 403
        assert "own" in refused.json()["detail"]
        assert api.delete(url("system", other.pk)).status_code == 403
    assert api.get(url("system", theirs.pk)).status_code == 200
    assert AISystem.objects.get(pk=theirs.pk).business_unit == ""
    assert AISystem.objects.get(pk=mine.pk).business_unit == "Lending"
    assert api.delete(url("system", mine.pk)).status_code == 204


def test_owner_creates_systems_they_own(api_for, acme, dana, olivia):
    api = api_for(acme, role=Role.OWNER, created_by=dana)
    created = api.post(url("system"), system_payload(), format="json")
    assert created.status_code == 201
    assert created.json()["owner"] == dana.pk
    someone_else = api.post(url("system"), system_payload(name="Other", owner=olivia.pk), format="json")
    assert someone_else.status_code == 400
    assert "own systems yourself" in someone_else.json()["errors"]["owner"][0]
    assert AISystem.objects.filter(organization=acme).count() == 1
    # Nor can they hand their own system to someone else.
    mine = created.json()["id"]
    handover = api.patch(url("system", mine), {"owner": olivia.pk}, format="json")
    assert handover.status_code == 400 and "owner" in handover.json()["errors"]
    assert AISystem.objects.get(pk=mine).owner == dana


def test_owner_manages_raci_and_resources_of_own_systems_only(api_for, acme, dana, olivia):
    mine = AISystemFactory(organization=acme, owner=dana)
    theirs = AISystemFactory(organization=acme, owner=olivia)
    their_role = services.role_assign(system=theirs, raci="R", member=olivia, acting_user=olivia)
    api = api_for(acme, role=Role.OWNER, created_by=dana)
    assert api.post(url("roleassignment"), {"system": mine.pk, "raci": "A", "member": dana.pk}).status_code == 201
    assert api.post(url("roleassignment"), {"system": theirs.pk, "raci": "A", "member": dana.pk}).status_code == 403
    assert api.post(url("resource"), {"system": theirs.pk, "kind": "data", "name": "x"}).status_code == 403
    assert api.patch(url("roleassignment", their_role.pk), {"note": "x"}, format="json").status_code == 403
    assert api.delete(url("roleassignment", their_role.pk)).status_code == 403
    assert list(theirs.role_assignments.all()) == [their_role]


def test_owner_may_edit_models_datasets_and_suppliers(api_for, acme, dana):
    api = api_for(acme, role=Role.OWNER, created_by=dana)
    for basename, data in [("aimodel", {"name": "m"}), ("dataset", {"name": "d"}), ("supplier", {"name": "s"})]:
        response = api.post(url(basename), data, format="json")
        assert response.status_code == 201, response.content
        assert api.patch(url(basename, response.json()["id"]), {"description": "x"}, format="json").status_code == 200


def test_officer_changes_anyones_system(api_for, acme, dana, olivia):
    system = AISystemFactory(organization=acme, owner=dana)
    api = api_for(acme, role=Role.OFFICER, created_by=olivia)
    assert api.patch(url("system", system.pk), {"status": "active"}, format="json").status_code == 200
    assert api.post(url("roleassignment"), {"system": system.pk, "raci": "A", "member": dana.pk}).status_code == 201
    assert api.delete(url("system", system.pk)).status_code == 204


# --- Validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"continuous_learning": True, "continuous_learning_controls": ""}, "continuous_learning_controls"),
        ({"eu_ai_act_tier": "limited", "annex_iii_area": None, "tier_rationale": ""}, "tier_rationale"),
        ({"eu_ai_act_tier": "limited", "annex_iii_area": 4}, "annex_iii_area"),
        ({"performance_metrics": [{"name": "AUC"}]}, "performance_metrics"),
        ({"roles": ["overlord"]}, "roles"),
        ({"purpose": ""}, "purpose"),
    ],
)
def test_system_validation_errors_are_400_with_the_field(api, acme, overrides, field):
    response = api.post(url("system"), system_payload(**overrides), format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"] and field in body["errors"], body
    assert not AISystem.objects.filter(organization=acme).exists()


def test_model_validation_on_update_keeps_the_stored_record(api, acme):
    system = AISystemFactory(organization=acme, tier_rationale="")
    response = api.patch(url("system", system.pk), {"continuous_learning": True}, format="json")
    assert response.status_code == 400
    assert "continuous_learning_controls" in response.json()["errors"]
    system.refresh_from_db()
    assert system.continuous_learning is False


def test_owner_must_be_a_member(api, acme):
    stranger = MembershipFactory(role=Role.ADMIN).user  # a member of some other organisation
    response = api.post(url("system"), system_payload(owner=stranger.pk), format="json")
    assert response.status_code == 400
    assert "not a member" in response.json()["errors"]["owner"][0]
    assert not AISystem.objects.exists()


def test_second_accountable_is_refused_with_a_clear_message(api, acme, olivia, victor):
    system = AISystemFactory(organization=acme)
    assert api.post(url("roleassignment"), {"system": system.pk, "raci": "A", "member": olivia.pk}).status_code == 201
    second = api.post(url("roleassignment"), {"system": system.pk, "raci": "A", "member": victor.pk})
    assert second.status_code == 400
    assert second.json()["errors"]["raci"] == ["This system already has an Accountable person; remove them first."]
    neither = api.post(url("roleassignment"), {"system": system.pk, "raci": "C"})
    assert neither.status_code == 400 and "member" in neither.json()["errors"]
    assert system.role_assignments.count() == 1


def test_external_id_is_unique_within_the_organisation(api, acme, globex):
    AISystemFactory(organization=globex, external_id="mlflow:1")
    assert api.post(url("system"), system_payload(external_id="mlflow:1"), format="json").status_code == 201
    again = api.post(url("system"), system_payload(external_id="mlflow:1", name="Again"), format="json")
    assert again.status_code == 400 and "external_id" in again.json()["errors"]


def test_organization_is_never_taken_from_input(api, acme, globex):
    response = api.post(url("supplier"), {"name": "Sneaky", "organization": globex.pk}, format="json")
    assert response.status_code == 201
    assert Supplier.objects.get(pk=response.json()["id"]).organization == acme


# --- History and query counts -------------------------------------------------------------


def test_api_changes_are_recorded_under_the_token_creator(api, acme, olivia):
    system = AISystemFactory(organization=acme)
    assert api.patch(url("system", system.pk), {"name": "Renamed"}, format="json").status_code == 200
    latest = system.history.order_by("-history_id").first()
    assert latest.name == "Renamed" and latest.history_user == olivia
    created = api.post(url("aimodel"), {"name": "m"}, format="json").json()
    assert AIModel.history.filter(id=created["id"]).get().history_user == olivia


def test_patch_that_changes_nothing_writes_no_history(api, acme):
    system = AISystemFactory(organization=acme, name="Same")
    before = AISystem.history.count()
    assert api.patch(url("system", system.pk), {"name": "Same", "models": []}, format="json").status_code == 200
    assert AISystem.history.count() == before


def _list_queries(api_for, acme, basename):
    api = api_for(acme)
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(url(basename), {"page_size": 100})
    assert response.status_code == 200
    return len(ctx.captured_queries), response.json()["count"]


def _add_systems(acme, owner, count):
    for _ in range(count):
        system = AISystemFactory(organization=acme, owner=owner)
        model = AIModelFactory(organization=acme, supplier=SupplierFactory(organization=acme))
        services.system_models_set(system=system, models=[model], acting_user=owner)
        services.system_suppliers_set(system=system, suppliers=[model.supplier], acting_user=owner)
        services.role_assign(system=system, raci="A", member=owner, acting_user=owner)


@pytest.mark.parametrize("basename", ["system", "aimodel", "supplier", "roleassignment"])
def test_list_costs_the_same_queries_for_5_and_50_rows(
    api_for, acme, olivia, basename, django_capture_on_commit_callbacks
):
    _add_systems(acme, olivia, 5)
    few, count = _list_queries(api_for, acme, basename)
    assert count == 5
    with django_capture_on_commit_callbacks(execute=True):  # the cached total of systems follows
        _add_systems(acme, olivia, 45)
    many, count = _list_queries(api_for, acme, basename)
    assert count == 50
    assert few == many
