"""No form page lists every AI system, risk, control or member once there are more than a select should hold.

The walk visits the create and edit forms (and the detail pages that carry link forms) of the
records that choose among these rows, with more than ``AUTOCOMPLETE_ABOVE`` of each, and counts
what each page renders: no ``<select>`` may carry more than ``AUTOCOMPLETE_ABOVE + 1`` options
(the rows and an empty choice), and no field more than ``AUTOCOMPLETE_ABOVE`` checkboxes.
"""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.urls import reverse

from aims.roles import Role
from audits.improvement import services as improvement
from controls.models import Framework, Requirement
from controls.soa import services as soa
from tests.aims.factories import MembershipFactory, UserFactory
from tests.audits.factories import (
    AuditFactory,
    CorrectiveActionFactory,
    FindingFactory,
    IncidentFactory,
    ManagementReviewFactory,
)
from tests.controls.factories import EvidenceFactory
from tests.registry.factories import AIModelFactory, AISystemFactory, DatasetFactory
from tests.risk.factories import ImpactAssessmentFactory, ImpactItemFactory, RiskFactory, TreatmentActionFactory


class ChoiceCounter(HTMLParser):
    """The options of each ``<select>`` (by name) and the checkboxes of each field of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.options: Counter[str] = Counter()
        self.checkboxes: Counter[str] = Counter()
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "select":
            self.select = attributes.get("name") or "?"
        elif tag == "option" and self.select is not None:
            self.options[self.select] += 1
        elif tag == "input" and attributes.get("type") == "checkbox":
            self.checkboxes[attributes.get("name") or "?"] += 1

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None


@pytest.fixture
def many(acme, alice):
    """More than AUTOCOMPLETE_ABOVE systems, risks, members, Annex A controls, datasets and evidence."""
    n = settings.AUTOCOMPLETE_ABOVE + 5
    systems = AISystemFactory.create_batch(n, organization=acme, owner=alice)
    for user in UserFactory.create_batch(n):
        MembershipFactory(organization=acme, user=user, role=Role.AUDITOR)
    risks = RiskFactory.create_batch(n, organization=acme, owner=alice, system=systems[0])
    framework = Framework.objects.get(code="ISO42001")
    last = Requirement.objects.filter(framework=framework).order_by("-order").first().order
    extra = [
        Requirement(framework=framework, ref=f"A.99.{i}", kind=Requirement.Kind.CONTROL, title=f"Extra {i}")
        for i in range(n)
    ]
    for i, control in enumerate(extra, start=last + 1):
        control.order = i
    Requirement.objects.bulk_create(extra)
    datasets = DatasetFactory.create_batch(n, organization=acme)
    evidence = EvidenceFactory.create_batch(n, organization=acme)
    soa.soa_rows_ensure(acme)
    treatment = TreatmentActionFactory(risk=risks[0], owner=alice)
    audit = AuditFactory(programme__organization=acme, acting_user=alice, lead_auditor=alice)
    improvement.audit_start(audit=audit, acting_user=alice)
    finding = FindingFactory(audit=audit, acting_user=alice, acting_role=Role.ADMIN)
    incident = IncidentFactory(organization=acme, acting_user=alice)
    action = CorrectiveActionFactory(finding=finding, owner=alice, acting_user=alice)
    review = ManagementReviewFactory(organization=acme, acting_user=alice)
    assessment = ImpactAssessmentFactory(system=systems[1], author=alice)
    item = ImpactItemFactory(assessment=assessment, acting_user=alice)
    model = AIModelFactory(organization=acme)
    return {
        "system": systems[0], "risk": risks[0], "treatment": treatment, "audit": audit, "finding": finding,
        "incident": incident, "action": action, "review": review, "assessment": assessment, "item": item,
        "model": model, "dataset": datasets[0], "evidence": evidence[0],
    }  # fmt: skip


def _pages(r):
    return [
        ("risk:create", []),
        ("risk:update", [r["risk"].pk]),
        ("risk:detail", [r["risk"].pk]),
        ("risk:treatment_create", [r["risk"].pk]),
        ("risk:treatment_update", [r["risk"].pk, r["treatment"].pk]),
        ("soa:row_edit", ["A.6.2.6"]),
        ("soa:control", ["A.6.2.6"]),
        ("impact:list", []),
        ("impact:edit", [r["assessment"].pk]),
        ("impact:detail", [r["assessment"].pk]),
        ("impact:item_edit", [r["assessment"].pk, r["item"].pk]),
        ("inventory:system_create", []),
        ("inventory:system_update", [r["system"].pk]),
        ("inventory:system_detail", [r["system"].pk]),
        ("inventory:model_create", []),
        ("inventory:model_update", [r["model"].pk]),
        ("inventory:model_detail", [r["model"].pk]),
        ("inventory:dataset_update", [r["dataset"].pk]),
        ("evidence:create", []),
        ("evidence:update", [r["evidence"].pk]),
        ("evidence:detail", [r["evidence"].pk]),
        ("audits:audit_create", []),
        ("audits:audit_update", [r["audit"].pk]),
        ("audits:audit_detail", [r["audit"].pk]),
        ("audits:finding_create", [r["audit"].pk]),
        ("audits:finding_update", [r["audit"].pk, r["finding"].pk]),
        ("audits:ca_create", []),
        ("audits:ca_update", [r["action"].pk]),
        ("audits:incident_create", []),
        ("audits:incident_update", [r["incident"].pk]),
        ("audits:review_create", []),
        ("audits:review_update", [r["review"].pk]),
        ("audits:review_detail", [r["review"].pk]),
        ("governance:objective_create", []),
        ("governance:competence_create", []),
    ]


def test_no_form_page_lists_every_system_risk_control_or_member(login, alice, many):
    above = settings.AUTOCOMPLETE_ABOVE
    client = login(alice)
    searched, problems = 0, []
    for name, args in _pages(many):
        response = client.get(reverse(name, args=args))
        if response.status_code != 200:
            problems.append(f"{name}: {response.status_code}")
            continue
        html = response.content.decode()
        counter = ChoiceCounter()
        counter.feed(html)
        too_many = {field: count for field, count in counter.options.items() if count > above + 1}
        boxes = {field: count for field, count in counter.checkboxes.items() if count > above}
        if too_many or boxes:
            problems.append(f"{name}: options {too_many}, checkboxes {boxes}")
        searched += html.count('role="combobox"')
    assert not problems, "\n".join(problems)
    assert searched >= len(_pages(many))  # the walk met the search boxes that replace the lists
