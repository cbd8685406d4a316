"""Evidence packs at a chosen level of detail: which systems get detail pages, and how the option is asked for."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.test import TestCase
from django.urls import reverse

from aims.roles import Role
from audits.models import EvidencePack, PackDetail
from audits.packs import services
from audits.packs.models import AUTO_DETAIL_ALL_BELOW
from audits.packs.sections import detailed_system_ids
from registry.models import AISystem
from tests.audits.conftest import pdf_text

# One line of every system's detail page, and of no other page.
DETAIL_LINE = "Intended use (A.9.4)"


def request_pack(org, user, **options):
    with TestCase.captureOnCommitCallbacks(execute=True):
        pack, created = services.evidence_pack_request(organization=org, acting_user=user, **options)
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.SUCCEEDED, pack.error
    return pack


def pack_text(pack) -> str:
    return pdf_text(default_storage.open(pack.file.name).read())[1]


@pytest.fixture
def high_risk_by_register(acme, olivia, inventory):
    """The minimal-tier third system carries an open critical risk: high-risk by its register."""
    from tests.risk.factories import RiskFactory

    return RiskFactory(
        organization=acme, system=inventory[2], owner=olivia, title="Unsafe advice", inherent_likelihood=5,
        inherent_impact=5,
    )  # fmt: skip


def test_high_risk_details_the_high_tier_and_the_systems_with_a_high_open_risk(
    acme, bob, inventory, high_risk_by_register
):
    pack = request_pack(acme, bob, sections=["inventory"], detail=PackDetail.HIGH_RISK)
    assert pack.detail == PackDetail.HIGH_RISK
    assert detailed_system_ids(pack) == [inventory[0].pk, inventory[2].pk]
    text = pack_text(pack)
    assert text.count(DETAIL_LINE) == 2
    # Every system is in the summary table, detailed or not.
    for system in inventory:
        assert system.ref_code in text and system.name in text
    assert "the 2 high-risk systems" in text


def test_a_closed_high_risk_does_not_make_a_system_high_risk(acme, bob, olivia, inventory, high_risk_by_register):
    from risk import services as risk_services

    high_risk_by_register.status = "closed"
    risk_services.risk_save(instance=high_risk_by_register, acting_user=olivia)
    pack, _ = services.evidence_pack_request(organization=acme, acting_user=bob, detail=PackDetail.HIGH_RISK)
    assert detailed_system_ids(pack) == [inventory[0].pk]


def test_none_keeps_the_summary_tables_only(acme, bob, inventory, risk_register):
    pack = request_pack(acme, bob, sections=["inventory", "risks"], detail=PackDetail.NONE)
    assert detailed_system_ids(pack) == []
    text = pack_text(pack)
    assert DETAIL_LINE not in text
    assert all(system.ref_code in text for system in inventory)
    assert "Each risk and its treatments" not in text and "not printed one by one" in text
    assert "The worst open risks" in text and risk_register[0].ref_code in text


def test_all_details_every_system_in_reference_order(acme, bob, inventory):
    pack = request_pack(acme, bob, sections=["inventory"], detail=PackDetail.ALL)
    assert detailed_system_ids(pack) == [s.pk for s in sorted(inventory, key=lambda s: s.ref_code)]
    assert pack_text(pack).count(DETAIL_LINE) == 3


def test_automatic_detail_is_resolved_and_stored(acme, bob, inventory):
    pack, _ = services.evidence_pack_request(organization=acme, acting_user=bob)
    assert pack.detail == PackDetail.ALL  # three systems: a small inventory
    AISystem.objects.bulk_create(
        AISystem(organization=acme, ref_code=f"BULK-{n:03}", name=f"Bulk {n}", purpose="Bulk.")
        for n in range(AUTO_DETAIL_ALL_BELOW - len(inventory))
    )
    assert services.resolve_detail(acme, EvidencePack.Scope.AIMS, PackDetail.AUTO) == PackDetail.HIGH_RISK
    # A one-system pack always details its system.
    assert services.resolve_detail(acme, EvidencePack.Scope.SYSTEM, PackDetail.AUTO) == PackDetail.ALL
    assert services.resolve_detail(acme, EvidencePack.Scope.AIMS, PackDetail.NONE) == PackDetail.NONE


def test_automatic_detail_keeps_to_summaries_when_the_high_risk_systems_are_too_many(acme, bob, inventory, monkeypatch):
    AISystem.objects.bulk_create(
        AISystem(organization=acme, ref_code=f"BULK-{n:03}", name=f"Bulk {n}", purpose="Bulk.", eu_ai_act_tier="high")
        for n in range(AUTO_DETAIL_ALL_BELOW)
    )
    high_risk = AUTO_DETAIL_ALL_BELOW + 1  # the bulk ones and the high-tier system of the inventory
    monkeypatch.setattr(services, "AUTO_DETAIL_HIGH_RISK_UP_TO", high_risk)
    assert services.resolve_detail(acme, EvidencePack.Scope.AIMS, PackDetail.AUTO) == PackDetail.HIGH_RISK
    monkeypatch.setattr(services, "AUTO_DETAIL_HIGH_RISK_UP_TO", high_risk - 1)
    assert services.resolve_detail(acme, EvidencePack.Scope.AIMS, PackDetail.AUTO) == PackDetail.NONE
    pack = request_pack(acme, bob, sections=["inventory"])
    assert pack.detail == PackDetail.NONE
    text = pack_text(pack)
    assert DETAIL_LINE not in text
    assert f"{high_risk} of them are high" in text  # "high-risk", hyphenated at a line end


def test_overdue_lists_print_the_oldest_and_count_them_all(acme, bob, olivia, inventory, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from audits.packs import sections
    from tests.risk.factories import RiskFactory

    today = timezone.localdate()
    for days in (30, 10, 20):
        RiskFactory(
            organization=acme, system=inventory[0], owner=olivia, title=f"Late by {days} days",
            inherent_likelihood=3, inherent_impact=days // 10,
        )  # fmt: skip
    from risk.models import Risk

    for risk, days in zip(Risk.objects.for_org(acme).order_by("pk"), (30, 10, 20), strict=True):
        Risk.objects.filter(pk=risk.pk).update(next_review_date=today - timedelta(days=days))
    monkeypatch.setattr(sections, "OVERDUE_LIMIT", 2)
    context = sections.collect_risks(
        services.evidence_pack_request(organization=acme, acting_user=bob, detail=PackDetail.NONE)[0]
    ).context
    assert context["overdue_review_count"] == 3
    assert [r.title for r in context["overdue_reviews"]] == ["Late by 30 days", "Late by 20 days"]
    # The worst first, by current level; the risks are not loaded one by one for summary tables.
    assert context["worst"][0].title == "Late by 30 days"
    assert len(context["worst"]) == 3 and context["total"] == 3 and context["risks"] == []


def test_the_detail_level_is_part_of_the_fingerprint(acme, bob, inventory):
    first, created = services.evidence_pack_request(organization=acme, acting_user=bob, detail=PackDetail.AUTO)
    assert created
    # "Automatic" means "all" for this inventory: the very same pack.
    same, created = services.evidence_pack_request(organization=acme, acting_user=bob, detail=PackDetail.ALL)
    assert not created and same == first
    other, created = services.evidence_pack_request(organization=acme, acting_user=bob, detail=PackDetail.NONE)
    assert created and other != first and other.fingerprint != first.fingerprint


def test_the_service_refuses_an_unknown_detail_level(acme, bob):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        services.evidence_pack_request(organization=acme, acting_user=bob, detail="some")
    assert "detail" in caught.value.message_dict


def test_the_api_takes_the_detail_level_and_refuses_a_bad_one(api_for, acme, bob, inventory):
    api = api_for(acme, role=Role.AUDITOR, created_by=bob)
    bad = api.post(reverse("evidencepack-list"), {"detail": "everything"}, format="json")
    assert bad.status_code == 400 and "detail" in bad.json()
    assert not EvidencePack.objects.exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        created = api.post(
            reverse("evidencepack-list"), {"sections": ["inventory"], "detail": "high_risk"}, format="json"
        )
    assert created.status_code == 201 and created.json()["detail"] == "high_risk"
    assert EvidencePack.objects.get().detail == PackDetail.HIGH_RISK


def test_the_request_form_offers_the_detail_level_and_the_detail_page_shows_it(login, bob, acme, inventory):
    client = login(bob)
    page = client.get(reverse("packs:list")).content.decode()
    assert 'name="detail"' in page and "High-risk AI systems only" in page
    bad = client.post(
        reverse("packs:list"),
        {"scope": "aims", "period_start": "2026-01-01", "period_end": "2026-06-30", "detail": "lots"},
    )
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("packs:list"),
            {"scope": "aims", "period_start": "2026-01-01", "period_end": "2026-06-30", "sections": ["inventory"],
             "detail": "none"},
        )  # fmt: skip
    pack = EvidencePack.objects.get()
    assert pack.detail == PackDetail.NONE
    assert "None: summary tables only" in client.get(response["Location"]).content.decode()


def test_another_organisations_pack_detail_answers_404(login, charlie, acme, bob, inventory):
    pack, _ = services.evidence_pack_request(organization=acme, acting_user=bob, detail=PackDetail.NONE)
    assert login(charlie).get(reverse("packs:detail", args=[pack.pk])).status_code == 404
