"""Services of internal audits, corrective actions, management reviews and incidents: the rules that hold
whoever acts (independence, who records findings, effectiveness checked by someone else, frozen inputs)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from aims.history import object_history, records_history
from aims.roles import Role
from audits.improvement import services as improvement
from audits.models import (
    Audit,
    AuditMember,
    ChecklistItem,
    CorrectiveAction,
    Finding,
    Incident,
    ManagementReview,
    ReviewAction,
)
from risk import services as risk_services
from risk.models import Risk
from tests.audits.factories import AuditFactory, CorrectiveActionFactory, FindingFactory, IncidentFactory, req
from tests.registry.factories import AISystemFactory

# --- Independence ------------------------------------------------------------------------------


def test_an_auditor_may_not_audit_their_own_area(programme, olivia, bob, owen):
    with pytest.raises(ValidationError) as refused:
        AuditFactory(programme=programme, acting_user=olivia, lead_auditor=bob, auditors=[owen], area_owners=[owen])
    assert "auditors" in refused.value.message_dict
    assert "independent of the area" in refused.value.message_dict["auditors"][0]
    assert "Owen Owner" in refused.value.message_dict["auditors"][0]
    with pytest.raises(ValidationError) as lead:
        AuditFactory(programme=programme, acting_user=olivia, lead_auditor=owen, area_owners=[owen])
    assert "lead_auditor" in lead.value.message_dict
    assert not Audit.objects.exists()


def test_independence_holds_when_the_area_owners_change_later(audit, olivia, bob):
    with pytest.raises(ValidationError, match="independent"):
        improvement.audit_save(audit=audit, acting_user=olivia, area_owners=[bob])
    assert list(audit.member_links.values_list("user__email", "role")) == [
        ("owen@acme.example", AuditMember.Role.AREA_OWNER)
    ]


def test_team_members_must_belong_to_the_organisation(programme, olivia, charlie):
    with pytest.raises(ValidationError) as refused:
        AuditFactory(programme=programme, acting_user=olivia, auditors=[charlie])
    assert "auditors" in refused.value.message_dict


def test_audit_gets_a_reference_per_programme_year(audit, programme, olivia):
    second = AuditFactory(programme=programme, acting_user=olivia, title="Second")
    assert (audit.ref_code, second.ref_code) == ("AUD-2026-01", "AUD-2026-02")


def test_dates_must_not_end_before_they_start(programme, olivia):
    bad = Audit(organization=programme.organization, programme=programme, title="Backwards", scope="All",
                planned_start=date(2026, 5, 2), planned_end=date(2026, 5, 1))  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        improvement.audit_save(audit=bad, acting_user=olivia, criteria=[req("8.2")])
    assert "planned_end" in refused.value.message_dict


# --- Checklist ---------------------------------------------------------------------------------


def test_starting_generates_the_checklist_from_the_criteria(started, olivia):
    items = list(started.checklist.order_by("order"))
    assert [i.ref for i in items] == ["8.2", "A.6.2.6", "A.6.2.8"]
    assert all(i.result == ChecklistItem.Result.NOT_CHECKED for i in items)
    assert items[2].question.startswith("A.6.2.8 AI system recording of event logs")
    assert started.status == Audit.Status.IN_PROGRESS and started.actual_start == timezone.localdate()
    # On demand: nothing new while the criteria are unchanged.
    assert improvement.audit_checklist_generate(audit=started, acting_user=olivia) == 0


def test_checklist_follows_changed_criteria_but_keeps_answered_items(started, olivia, bob):
    answered = started.checklist.get(ref="8.2")
    answered.result, answered.notes = ChecklistItem.Result.CONFORMING, "Procedure followed."
    improvement.checklist_item_record(item=answered, acting_user=bob, acting_role=Role.AUDITOR)
    improvement.audit_save(audit=started, acting_user=olivia, criteria=[req("A.7.4")])
    added = improvement.audit_checklist_generate(audit=started, acting_user=olivia)
    assert added == 1
    assert sorted(started.checklist.values_list("ref", flat=True)) == ["8.2", "A.7.4"]


def test_start_needs_an_auditor_and_close_needs_results_and_a_conclusion(programme, olivia, bob):
    lonely = AuditFactory(programme=programme, acting_user=olivia)
    with pytest.raises(ValidationError, match="Assign a lead auditor"):
        improvement.audit_start(audit=lonely, acting_user=olivia)
    improvement.audit_save(audit=lonely, acting_user=olivia, auditors=[bob])
    improvement.audit_start(audit=lonely, acting_user=olivia)
    with pytest.raises(ValidationError) as refused:
        improvement.audit_close(audit=lonely, acting_user=olivia)
    assert "conclusion" in refused.value.message_dict
    assert "3 checklist item(s) are not checked yet." in refused.value.message_dict["__all__"]
    for item in lonely.checklist.all():
        item.result = ChecklistItem.Result.CONFORMING
        improvement.checklist_item_record(item=item, acting_user=bob, acting_role=Role.AUDITOR)
    lonely.refresh_from_db()
    lonely.conclusion = "Conforming."
    improvement.audit_save(audit=lonely, acting_user=olivia)
    improvement.audit_report(audit=lonely, acting_user=olivia)
    closed = improvement.audit_close(audit=lonely, acting_user=olivia)
    assert closed.status == Audit.Status.CLOSED and closed.actual_end == timezone.localdate()
    closed.title = "Changed afterwards"
    with pytest.raises(ValidationError, match="closed"):
        improvement.audit_save(audit=closed, acting_user=olivia)


def test_status_moves_only_through_the_transitions(audit, olivia):
    audit.status = Audit.Status.CLOSED
    with pytest.raises(ValidationError) as refused:
        improvement.audit_save(audit=audit, acting_user=olivia)
    assert "status" in refused.value.message_dict


# --- Who records findings ----------------------------------------------------------------------


def test_assigned_auditor_records_results_and_findings(started, bob):
    item = started.checklist.get(ref="A.6.2.8")
    item.result, item.evidence_checked = ChecklistItem.Result.NONCONFORMING, "Log settings, 3 days sampled."
    improvement.checklist_item_record(item=item, acting_user=bob, acting_role=Role.AUDITOR)
    item.refresh_from_db()
    assert item.checked_by == bob and item.checked_at is not None
    finding = FindingFactory(audit=started, acting_user=bob)
    assert finding.ref_code == "AUD-2026-01-F1" and finding.raised_by == bob
    assert FindingFactory(
        audit=started, acting_user=bob, kind=Finding.Kind.OFI, ref=None, title="Automate"
    ).ref_code.endswith("-F2")


def test_auditor_records_nothing_in_an_audit_they_are_not_assigned_to(other_audit, bob):
    with pytest.raises(PermissionDenied):
        FindingFactory(audit=other_audit, acting_user=bob, ref="A.7.4")
    item = other_audit.checklist.get()
    item.result = ChecklistItem.Result.CONFORMING
    with pytest.raises(PermissionDenied):
        improvement.checklist_item_record(item=item, acting_user=bob, acting_role=Role.AUDITOR)
    assert not Finding.objects.exists()
    assert ChecklistItem.objects.get(pk=item.pk).result == ChecklistItem.Result.NOT_CHECKED


def test_read_only_roles_record_nothing_even_when_assigned(programme, olivia, victor, owen):
    audit = AuditFactory(programme=programme, acting_user=olivia, lead_auditor=victor, area_owners=[owen])
    improvement.audit_start(audit=audit, acting_user=olivia)
    with pytest.raises(PermissionDenied):
        FindingFactory(audit=audit, acting_user=victor, acting_role=Role.VIEWER)


def test_officers_record_findings_in_any_audit(other_audit, olivia):
    assert (
        FindingFactory(audit=other_audit, acting_user=olivia, acting_role=Role.OFFICER, ref="A.7.4").raised_by == olivia
    )


def test_findings_wait_for_the_audit_to_start_and_nonconformities_name_a_requirement(started, olivia, bob):
    planned = AuditFactory(programme=started.programme, acting_user=olivia, lead_auditor=bob, title="Later")
    with pytest.raises(ValidationError, match="Start the audit"):
        FindingFactory(audit=planned, acting_user=bob)
    with pytest.raises(ValidationError) as refused:
        FindingFactory(audit=started, acting_user=bob, ref=None)
    assert "requirement" in refused.value.message_dict


def test_a_finding_with_corrective_actions_stays(started, bob, olivia, owen):
    finding = FindingFactory(audit=started, acting_user=bob)
    CorrectiveActionFactory(acting_user=olivia, owner=owen, finding=finding)
    with pytest.raises(ValidationError, match="corrective actions"):
        improvement.finding_delete(finding=finding, acting_user=bob, acting_role=Role.AUDITOR)


# --- Corrective actions ------------------------------------------------------------------------


@pytest.fixture
def nonconformity(started, bob):
    return FindingFactory(audit=started, acting_user=bob)


def test_effectiveness_is_checked_by_someone_else_before_closing(nonconformity, olivia, owen, alice):
    action = CorrectiveActionFactory(
        acting_user=olivia, owner=owen, finding=nonconformity, due_date=timezone.localdate() + timedelta(days=30)
    )
    assert action.ref_code == "CA-0001" and action.status == CorrectiveAction.Status.OPEN
    improvement.corrective_action_start(action=action, acting_user=owen)
    improvement.corrective_action_complete(action=action, acting_user=owen)
    action.refresh_from_db()
    assert action.status == CorrectiveAction.Status.DONE and action.implemented_by == owen
    with pytest.raises(ValidationError, match="someone other than the action's owner"):
        improvement.corrective_action_verify(action=action, acting_user=owen, effective=True, note="Fine.")
    checked = improvement.corrective_action_verify(
        action=action, acting_user=alice, effective=True, note="Sampled three systems: 90 days kept."
    )
    assert checked.status == CorrectiveAction.Status.VERIFIED_EFFECTIVE
    assert checked.verified_by == alice and checked.verified_on == timezone.localdate()
    assert checked.is_closed
    assert not improvement.open_nonconformities(nonconformity.organization).exists()


def test_the_implementer_does_not_check_their_own_work(nonconformity, olivia, owen, alice):
    action = CorrectiveActionFactory(acting_user=olivia, owner=owen, finding=nonconformity)
    improvement.corrective_action_complete(action=action, acting_user=olivia)
    with pytest.raises(ValidationError, match="whoever implemented it"):
        improvement.corrective_action_verify(action=action, acting_user=olivia, effective=True, note="Done.")
    improvement.corrective_action_verify(action=action, acting_user=alice, effective=True, note="Checked.")
    assert CorrectiveAction.objects.get().is_closed


def test_closing_without_an_effectiveness_check_is_refused(nonconformity, olivia, owen, alice):
    action = CorrectiveActionFactory(acting_user=olivia, owner=owen, finding=nonconformity)
    with pytest.raises(ValidationError, match="effectiveness check"):
        improvement.corrective_action_close(action=action, acting_user=olivia)
    improvement.corrective_action_complete(action=action, acting_user=owen)
    with pytest.raises(ValidationError, match="effectiveness check"):
        improvement.corrective_action_close(action=action, acting_user=olivia)
    # Nor can the status be set by hand.
    action.refresh_from_db()
    action.status = CorrectiveAction.Status.VERIFIED_EFFECTIVE
    with pytest.raises(ValidationError) as refused:
        improvement.corrective_action_save(action=action, acting_user=olivia)
    assert "status" in refused.value.message_dict
    stored = CorrectiveAction.objects.get()
    assert stored.status == CorrectiveAction.Status.DONE and stored.closed_at is None


def test_not_effective_sends_the_action_back_to_work(nonconformity, olivia, owen, alice):
    action = CorrectiveActionFactory(acting_user=olivia, owner=owen, finding=nonconformity)
    improvement.corrective_action_complete(action=action, acting_user=owen)
    improvement.corrective_action_verify(action=action, acting_user=alice, effective=False, note="Still 7 days.")
    action.refresh_from_db()
    assert action.status == CorrectiveAction.Status.NOT_EFFECTIVE and not action.is_closed
    with pytest.raises(ValidationError):
        improvement.corrective_action_close(action=action, acting_user=alice)
    improvement.corrective_action_start(action=action, acting_user=owen)
    improvement.corrective_action_complete(action=action, acting_user=owen)
    improvement.corrective_action_verify(action=action, acting_user=alice, effective=True, note="Now 90 days.")
    assert CorrectiveAction.objects.get().is_closed
    statuses = [r.status for r in CorrectiveAction.history.order_by("history_date", "history_id")]
    assert "not_effective" in statuses and statuses[-1] == "verified_effective"


def test_done_needs_root_cause_and_action(nonconformity, olivia, owen):
    action = CorrectiveActionFactory(acting_user=olivia, owner=owen, finding=nonconformity)
    action.root_cause = ""
    improvement.corrective_action_save(action=action, acting_user=olivia)
    with pytest.raises(ValidationError) as refused:
        improvement.corrective_action_complete(action=action, acting_user=owen)
    assert "root_cause" in refused.value.message_dict


def test_an_action_needs_a_source_and_an_owner_who_can_edit(acme, nonconformity, olivia, victor):
    with pytest.raises(ValidationError, match="finding, an incident or a monitoring alert"):
        improvement.corrective_action_save(
            action=CorrectiveAction(organization=acme, title="Orphan", owner=olivia), acting_user=olivia
        )
    with pytest.raises(ValidationError) as refused:
        CorrectiveActionFactory(acting_user=olivia, owner=victor, finding=nonconformity)
    assert "read-only" in refused.value.message_dict["owner"][0]


# --- Incidents ---------------------------------------------------------------------------------


def test_an_incident_leads_to_a_corrective_action_and_closes_after_it(acme, olivia, owen, alice):
    system = AISystemFactory(organization=acme, owner=owen, name="Customer service assistant")
    incident = IncidentFactory(
        organization=acme, acting_user=owen, system=system, informed_parties="The customer", informed_at=timezone.now()
    )
    assert incident.ref_code == "INC-0001" and incident.reported_by == owen
    action = CorrectiveActionFactory(acting_user=olivia, owner=owen, incident=incident, title="Ground fee answers")
    assert list(incident.corrective_actions.all()) == [action]
    assert system.incidents.get() == incident
    incident.status = Incident.Status.CLOSED
    with pytest.raises(ValidationError) as refused:
        improvement.incident_save(incident=incident, acting_user=olivia)
    assert "status" in refused.value.message_dict
    improvement.corrective_action_complete(action=action, acting_user=owen)
    improvement.corrective_action_verify(action=action, acting_user=alice, effective=True, note="No more fees.")
    improvement.incident_save(incident=incident, acting_user=olivia)
    assert Incident.objects.get().status == Incident.Status.CLOSED


def test_incident_communication_must_be_coherent(acme, olivia):
    now = timezone.now()
    with pytest.raises(ValidationError) as refused:
        IncidentFactory(
            organization=acme,
            acting_user=olivia,
            occurred_at=now,
            detected_at=now - timedelta(hours=2),
            informed_at=now,
            authority_notified=True,
        )
    assert set(refused.value.message_dict) == {"detected_at", "informed_parties", "authority_notified_at"}


# --- Management review -------------------------------------------------------------------------


def test_review_inputs_are_gathered_from_the_portal_and_frozen(acme, started, bob, olivia, owen, alice):
    today = timezone.localdate()
    nc = FindingFactory(audit=started, acting_user=bob)
    FindingFactory(
        audit=started, acting_user=bob, kind=Finding.Kind.OFI, ref=None, title="Automate the release checklist"
    )
    FindingFactory(audit=started, acting_user=bob, kind=Finding.Kind.OBSERVATION, ref="8.2", title="Scattered notes")
    CorrectiveActionFactory(acting_user=olivia, owner=owen, finding=nc, due_date=today - timedelta(days=3))  # overdue
    system = AISystemFactory(organization=acme, owner=owen)
    IncidentFactory(
        organization=acme,
        acting_user=owen,
        system=system,
        severity=Incident.Severity.CRITICAL,
        authority_notified=True,
        authority_notified_at=timezone.now(),
    )
    for likelihood, impact in ((5, 5), (1, 1)):
        risk = Risk(organization=acme, title=f"Risk {likelihood}", owner=olivia, inherent_likelihood=likelihood,
                    inherent_impact=impact)  # fmt: skip
        risk_services.risk_save(instance=risk, acting_user=olivia)
    earlier = improvement.management_review_create(
        review=ManagementReview(organization=acme, title="Last year", held_on=date(2025, 12, 1),
                                period_start=date(2025, 1, 1), period_end=date(2025, 12, 1)),
        acting_user=olivia,
    )  # fmt: skip
    improvement.review_action_save(
        action=ReviewAction(organization=acme, review=earlier, title="Train staff", owner=owen), acting_user=olivia
    )
    review = improvement.management_review_create(
        review=ManagementReview(organization=acme, title="This year", held_on=today,
                                period_start=date(today.year, 1, 1), period_end=today),
        acting_user=olivia,
        attendees=[alice, olivia],
    )  # fmt: skip
    inputs = review.inputs
    assert inputs["previous_actions"]["by_status"]["Open"] == 1
    assert inputs["previous_actions"]["unfinished"][0]["title"] == "Train staff"
    assert inputs["findings_by_kind"] == {"Major nonconformity": 0, "Minor nonconformity": 1, "Observation": 1,
                                          "Opportunity for improvement": 1}  # fmt: skip
    assert inputs["nonconformities"] == {"raised": 1, "open": 1}
    assert inputs["corrective_actions"]["overdue"] == 1
    assert inputs["corrective_actions"]["by_status"]["Open"] == 1
    assert inputs["risks"]["open"] == 2
    assert inputs["risks"]["by_level"]["Critical"] == 1 and inputs["risks"]["by_level"]["Low"] == 1
    assert inputs["incidents"]["in_period"] == 1 and inputs["incidents"]["by_severity"]["Critical"] == 1
    assert inputs["incidents"]["authority_notified"] == 1 and inputs["incidents"]["open"] == 1
    assert [o["title"] for o in inputs["opportunities"]] == ["Automate the release checklist"]
    assert [a["ref_code"] for a in inputs["audits"]] == [started.ref_code]
    for key in ("context_changes", "interested_parties", "objectives"):
        assert set(inputs[key]) >= {"available", "items"}
    assert sorted(review.attendee_links.values_list("user__email", flat=True)) == [
        "alice@acme.example",
        "olivia@acme.example",
    ]

    # Frozen: later changes do not alter the stored inputs, until they are gathered again on purpose.
    FindingFactory(audit=started, acting_user=bob, kind=Finding.Kind.MAJOR_NC, ref="A.6.2.6", title="No monitoring")
    review.decisions = "Extend monitoring."
    improvement.management_review_save(review=review, acting_user=olivia)
    review.refresh_from_db()
    assert review.inputs["findings_by_kind"]["Major nonconformity"] == 0
    improvement.management_review_gather_inputs(review=review, acting_user=olivia)
    review.refresh_from_db()
    assert review.inputs["findings_by_kind"]["Major nonconformity"] == 1
    assert review.history.count() == 3


def test_review_inputs_include_the_aims_context_and_objectives_when_recorded(acme, olivia):
    from django.apps import apps

    issue_model = apps.get_model("aims", "ContextIssue")
    issue = issue_model(organization=acme, kind=issue_model.Kind.values[0], category=issue_model.Category.values[0],
                        title="New AI regulation")  # fmt: skip
    issue.save()
    today = timezone.localdate()
    review = improvement.management_review_create(
        review=ManagementReview(organization=acme, title="Review", held_on=today, period_start=today,
                                period_end=today),
        acting_user=olivia,
    )  # fmt: skip
    changes = review.inputs["context_changes"]
    assert changes["available"] is True
    assert [i["label"] for i in changes["items"]] == ["New AI regulation"]


def test_review_actions_need_an_owner_who_can_edit(acme, olivia, victor):
    today = timezone.localdate()
    review = improvement.management_review_create(
        review=ManagementReview(organization=acme, title="R", held_on=today, period_start=today, period_end=today),
        acting_user=olivia,
    )
    with pytest.raises(ValidationError):
        improvement.review_action_save(
            action=ReviewAction(organization=acme, review=review, title="X", owner=victor), acting_user=olivia
        )


# --- History -----------------------------------------------------------------------------------


def test_every_change_is_recorded_with_who_acted(nonconformity, started, olivia, owen, alice, bob):
    action = CorrectiveActionFactory(acting_user=olivia, owner=owen, finding=nonconformity)
    improvement.corrective_action_complete(action=action, acting_user=owen)
    improvement.corrective_action_verify(action=action, acting_user=alice, effective=True, note="Checked.")
    who = [e.who for e in reversed(object_history(CorrectiveAction.objects.get()))]
    assert who == [olivia, owen, alice, alice]
    audit_entries = records_history(Audit, id=started.pk)
    assert [e.action for e in audit_entries] == ["changed", "created"]
    checklist_entries = records_history(ChecklistItem, audit_id=started.pk)
    assert len(checklist_entries) == 3 and {e.who for e in checklist_entries} == {olivia}
    finding_entries = records_history(Finding, audit_id=started.pk)
    assert finding_entries[0].who == bob and finding_entries[0].label.startswith("AUD-2026-01-F1")
