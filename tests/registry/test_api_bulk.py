"""Bulk upsert by external id: idempotent nightly syncs, per-item errors, all or nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aims.roles import Role
from registry.models import AIModel, AISystem, Dataset, ModelDataset, Supplier, SystemModel
from tests.aims.factories import MembershipFactory
from tests.registry.factories import AIModelFactory, AISystemFactory, DatasetFactory, SupplierFactory


@pytest.fixture
def api(api_for, acme, olivia):
    return api_for(acme, role=Role.OFFICER, created_by=olivia)


def bulk(basename):
    return reverse(f"{basename}-bulk-upsert")


def system_items(count=3, **extra):
    return [
        {
            "external_id": f"mlflow:system-{i}",
            "name": f"System {i}",
            "purpose": "Scores applications.",
            "roles": ["producer"],
            **extra,
        }
        for i in range(count)
    ]


def history_total():
    return AISystem.history.count() + SystemModel.history.count()


def test_first_run_creates_and_second_run_changes_nothing(api, acme, olivia):
    model = AIModelFactory(organization=acme)
    items = system_items(3, models=[model.pk])
    first = api.post(bulk("system"), {"items": items}, format="json")
    assert first.status_code == 200, first.content
    body = first.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (3, 0, 0)
    assert [r["action"] for r in body["results"]] == ["created"] * 3
    assert [r["index"] for r in body["results"]] == [0, 1, 2]
    systems = AISystem.objects.filter(organization=acme).order_by("ref_code")
    assert [s.ref_code for s in systems] == ["AIS-0001", "AIS-0002", "AIS-0003"]
    assert {r["id"] for r in body["results"]} == {s.pk for s in systems}
    assert all(s.is_producer and list(s.model_links.values_list("model_id", flat=True)) == [model.pk] for s in systems)
    assert AISystem.history.filter(history_user=olivia).count() == 3

    before = history_total()
    second = api.post(bulk("system"), {"items": items}, format="json").json()
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, 3)
    assert [r["id"] for r in second["results"]] == [r["id"] for r in body["results"]]
    assert history_total() == before
    assert AISystem.objects.filter(organization=acme).count() == 3


def test_every_kind_of_value_compares_equal_on_the_second_run(api, acme, olivia):
    item = {
        "external_id": "mlflow:rich",
        "name": "Credit scoring",
        "purpose": "Estimate default risk.",
        "roles": ["provider", "customer"],
        "eu_ai_act_tier": "high",
        "annex_iii_area": 5,
        "tier_rationale": "Creditworthiness.",
        "continuous_learning": True,
        "continuous_learning_controls": "Weekly retraining behind a gate.",
        "performance_metrics": [{"name": "AUC", "target": ">= 0.80"}],
        "next_review_date": "2027-01-31",
        "owner": olivia.pk,
        "suppliers": [SupplierFactory(organization=acme).pk],
    }
    assert api.post(bulk("system"), {"items": [item]}, format="json").json()["created"] == 1
    before = history_total()
    again = api.post(bulk("system"), {"items": [item]}, format="json").json()
    assert again["unchanged"] == 1, again
    assert history_total() == before


def test_changed_item_is_updated_with_partial_semantics(api, acme):
    api.post(bulk("system"), {"items": system_items(3, business_unit="Lending")}, format="json")
    before = AISystem.history.count()
    items = system_items(3)  # business_unit not sent: kept as it is
    items[1]["name"] = "Renamed"
    items[2] = {"external_id": items[2]["external_id"], "status": "active"}
    body = api.post(bulk("system"), {"items": items}, format="json").json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 2, 1)
    assert [r["action"] for r in body["results"]] == ["unchanged", "updated", "updated"]
    assert AISystem.history.count() == before + 2
    renamed = AISystem.objects.get(organization=acme, external_id="mlflow:system-1")
    assert renamed.name == "Renamed" and renamed.business_unit == "Lending"
    activated = AISystem.objects.get(organization=acme, external_id="mlflow:system-2")
    assert activated.status == "active" and activated.name == "System 2"


def test_link_changes_count_as_updates(api, acme):
    first, second = AIModelFactory(organization=acme), AIModelFactory(organization=acme)
    item = system_items(1, models=[first.pk])[0]
    api.post(bulk("system"), {"items": [item]}, format="json")
    body = api.post(bulk("system"), {"items": [{**item, "models": [first.pk, second.pk]}]}, format="json").json()
    assert body["updated"] == 1
    system = AISystem.objects.get(organization=acme, external_id=item["external_id"])
    assert set(system.model_links.values_list("model_id", flat=True)) == {first.pk, second.pk}


def test_links_by_external_id(api, acme, globex):
    gbm = AIModelFactory(organization=acme, external_id="mlflow:credit-gbm@7")
    cloud = SupplierFactory(organization=acme, external_id="erp:V-1001")
    AIModelFactory(organization=globex, external_id="mlflow:foreign")
    item = system_items(1, model_external_ids=[gbm.external_id], supplier_external_ids=[cloud.external_id])[0]
    body = api.post(bulk("system"), {"items": [item]}, format="json").json()
    assert body["created"] == 1
    system = AISystem.objects.get(pk=body["results"][0]["id"])
    assert list(system.model_links.values_list("model_id", flat=True)) == [gbm.pk]
    assert list(system.supplier_links.values_list("supplier_id", flat=True)) == [cloud.pk]
    assert api.post(bulk("system"), {"items": [item]}, format="json").json()["unchanged"] == 1

    foreign = {**item, "model_external_ids": ["mlflow:foreign"]}
    refused = api.post(bulk("system"), {"items": [foreign]}, format="json")
    assert refused.status_code == 400
    assert "mlflow:foreign" in refused.json()["errors"][0]["errors"]["model_external_ids"][0]
    both = api.post(bulk("system"), {"items": [{**item, "models": [gbm.pk]}]}, format="json")
    assert both.status_code == 400 and "model_external_ids" in both.json()["errors"][0]["errors"]


def test_one_bad_item_reports_its_index_and_nothing_is_written(api, acme):
    items = system_items(4)
    items[1]["continuous_learning"] = True  # no controls described
    items[3]["lifecycle_stage"] = "nonsense"
    before = AISystem.history.count()
    response = api.post(bulk("system"), {"items": items}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "nothing was written" in body["detail"]
    assert [(e["index"], e["external_id"]) for e in body["errors"]] == [
        (1, "mlflow:system-1"),
        (3, "mlflow:system-3"),
    ]
    assert "continuous_learning_controls" in body["errors"][0]["errors"]
    assert "lifecycle_stage" in body["errors"][1]["errors"]
    assert not AISystem.objects.filter(organization=acme).exists()
    assert AISystem.history.count() == before


def test_bad_update_leaves_the_other_items_unwritten_too(api, acme):
    api.post(bulk("system"), {"items": system_items(2)}, format="json")
    items = [
        {"external_id": "mlflow:system-0", "name": "Renamed"},
        {"external_id": "mlflow:system-1", "eu_ai_act_tier": "high"},  # no rationale
        {"external_id": "mlflow:new", "name": "New", "purpose": "New."},
    ]
    response = api.post(bulk("system"), {"items": items}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 1
    assert "tier_rationale" in response.json()["errors"][0]["errors"]
    assert AISystem.objects.get(external_id="mlflow:system-0").name == "System 0"
    assert not AISystem.objects.filter(external_id="mlflow:new").exists()


def test_duplicate_and_missing_external_ids_are_item_errors(api, acme):
    items = system_items(2)
    items.append({**items[0], "name": "Copy"})
    items.append({"name": "No key", "purpose": "x"})
    items.append({"external_id": "   ", "name": "Blank key", "purpose": "x"})
    items.append("not an object")
    body = api.post(bulk("system"), {"items": items}, format="json").json()
    errors = {e["index"]: e for e in body["errors"]}
    assert set(errors) == {2, 3, 4, 5}
    assert "item 0" in errors[2]["errors"]["external_id"][0]
    assert errors[2]["external_id"] == "mlflow:system-0"
    assert "external_id" in errors[3]["errors"] and "external_id" in errors[4]["errors"]
    numeric = api.post(bulk("system"), {"items": [{"external_id": 7, "name": "n", "purpose": "p"}]}, format="json")
    assert "a string" in numeric.json()["errors"][0]["errors"]["external_id"][0]
    assert "non_field_errors" in errors[5]["errors"]
    assert not AISystem.objects.exists()


def test_envelope_is_checked(api, acme):
    too_many = [{"external_id": f"s-{i}", "name": f"S {i}"} for i in range(501)]
    response = api.post(bulk("supplier"), {"items": too_many}, format="json")
    assert response.status_code == 400
    assert "at most 500" in response.json()["errors"]["items"][0]
    for body in ({}, {"items": []}, {"items": {"external_id": "x"}}, [{"external_id": "x"}]):
        assert api.post(bulk("supplier"), body, format="json").status_code == 400
    assert not Supplier.objects.exists()
    exactly = api.post(bulk("supplier"), {"items": too_many[:500]}, format="json")
    assert exactly.status_code == 200 and exactly.json()["created"] == 500


def test_a_service_refusal_while_saving_rolls_back_the_batch(api, acme):
    # Two new suppliers with the same name each pass on their own; the second fails when saved.
    items = [
        {"external_id": "erp:1", "name": "First"},
        {"external_id": "erp:2", "name": "Shared"},
        {"external_id": "erp:3", "name": "Shared"},
    ]
    response = api.post(bulk("supplier"), {"items": items}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert [(e["index"], e["external_id"]) for e in body["errors"]] == [(2, "erp:3")]
    assert "non_field_errors" in body["errors"][0]["errors"]
    assert not Supplier.objects.filter(organization=acme).exists()
    assert Supplier.history.count() == 0


def test_other_organisations_records_with_the_same_external_id_are_untouched(api, acme, globex):
    theirs = AISystemFactory(organization=globex, external_id="mlflow:system-0", name="Globex system")
    body = api.post(bulk("system"), {"items": system_items(1)}, format="json").json()
    assert body["created"] == 1
    theirs.refresh_from_db()
    assert theirs.name == "Globex system"
    assert AISystem.objects.get(organization=acme, external_id="mlflow:system-0").pk != theirs.pk


def test_models_datasets_and_suppliers_sync(api, acme):
    suppliers = [{"external_id": "erp:V-1", "name": "Northwind", "kind": "model"}]
    assert api.post(bulk("supplier"), {"items": suppliers}, format="json").json()["created"] == 1
    vendor = Supplier.objects.get(organization=acme, external_id="erp:V-1")
    datasets = [
        {"external_id": "lake:train", "name": "Train", "purpose": "training", "supplier": vendor.pk},
        {"external_id": "lake:test", "name": "Test", "purpose": "test"},
    ]
    assert api.post(bulk("dataset"), {"items": datasets}, format="json").json()["created"] == 2
    train = Dataset.objects.get(external_id="lake:train")
    test = Dataset.objects.get(external_id="lake:test")
    models = [
        {
            "external_id": "mlflow:gbm@7",
            "name": "gbm",
            "version": "7",
            "supplier": vendor.pk,
            "training_datasets": [train.pk],
            "evaluation_datasets": [test.pk],
        }
    ]
    assert api.post(bulk("aimodel"), {"items": models}, format="json").json()["created"] == 1
    model = AIModel.objects.get(external_id="mlflow:gbm@7")
    assert model.supplier == vendor
    assert set(model.dataset_links.values_list("dataset_id", "usage")) == {
        (train.pk, ModelDataset.Usage.TRAINING),
        (test.pk, ModelDataset.Usage.EVALUATION),
    }
    before = AIModel.history.count() + ModelDataset.history.count() + Dataset.history.count()
    for basename, items in (("supplier", suppliers), ("dataset", datasets), ("aimodel", models)):
        again = api.post(bulk(basename), {"items": items}, format="json").json()
        assert again["created"] == again["updated"] == 0, (basename, again)
    assert AIModel.history.count() + ModelDataset.history.count() + Dataset.history.count() == before
    models[0]["evaluation_datasets"] = []
    assert api.post(bulk("aimodel"), {"items": models}, format="json").json()["updated"] == 1
    assert not model.dataset_links.filter(usage=ModelDataset.Usage.EVALUATION).exists()


def test_bulk_refuses_another_organisations_ids(api, acme, globex):
    foreign = DatasetFactory(organization=globex)
    items = [{"external_id": "mlflow:m", "name": "m", "training_datasets": [foreign.pk]}]
    response = api.post(bulk("aimodel"), {"items": items}, format="json")
    assert response.status_code == 400
    assert "training_datasets" in response.json()["errors"][0]["errors"]
    assert not AIModel.objects.exists() and not ModelDataset.objects.exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AUDITOR])
@pytest.mark.parametrize("basename", ["system", "aimodel", "dataset", "supplier"])
def test_read_only_roles_cannot_bulk_upsert(api_for, acme, role, basename):
    item = {"external_id": "x:1", "name": "n", "purpose": "p"}
    response = api_for(acme, role=role).post(bulk(basename), {"items": [item]}, format="json")
    assert response.status_code == 403
    assert not AISystem.objects.exists() and not Supplier.objects.exists()


def test_owner_bulk_creates_own_systems_but_cannot_update_others(api_for, acme, olivia):
    dana = MembershipFactory(organization=acme, role=Role.OWNER).user
    api = api_for(acme, role=Role.OWNER, created_by=dana)
    body = api.post(bulk("system"), {"items": system_items(1)}, format="json").json()
    assert AISystem.objects.get(pk=body["results"][0]["id"]).owner == dana
    AISystemFactory(organization=acme, owner=olivia, external_id="mlflow:olivias", name="Olivia's")
    items = [*system_items(1), {"external_id": "mlflow:olivias", "name": "Taken over"}]
    refused = api.post(bulk("system"), {"items": items}, format="json")
    assert refused.status_code == 403
    assert AISystem.objects.get(external_id="mlflow:olivias").name == "Olivia's"
    new_for_olivia = {**system_items(1)[0], "external_id": "mlflow:new", "owner": olivia.pk}
    other_owner = api.post(bulk("system"), {"items": [new_for_olivia]}, format="json")
    assert other_owner.status_code == 400 and "owner" in other_owner.json()["errors"][0]["errors"]


def test_bulk_upsert_is_documented_with_an_example(api, acme):
    schema = api.get(reverse("api-schema"), {"format": "json"})
    assert schema.status_code == 200
    operation = schema.json()["paths"]["/api/v1/systems/bulk-upsert/"]["post"]
    assert "external_id" in operation["description"]
    example = operation["requestBody"]["content"]["application/json"]["examples"]["NightlyRegistrySync"]
    assert example["value"]["items"][0]["external_id"]
    assert {"200", "400"} <= set(operation["responses"])
