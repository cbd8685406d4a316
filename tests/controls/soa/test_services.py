"""SoA services: rows per control, the decision rules, submission, approval and frozen versions."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from controls.models import ApplicabilityStatement, Requirement, SoASystem, SoAVersion
from controls.soa import selectors
from controls.soa import services as soa
from risk import services as risk_services
from risk.models import Risk, TreatmentAction
from tests.aims.factories import MembershipFactory
from tests.controls.factories import EvidenceFactory, EvidenceLinkFactory, evidence_on
from tests.registry.factories import AISystemFactory
from tests.risk.factories import RiskFactory, TreatmentActionFactory

JUSTIFICATION = "Needed for the systems in scope; see the risk register."


def control(ref: str) -> Requirement:
    return Requirement.objects.of_framework("ISO42001").controls().get(ref=ref)


def row(org, ref: str) -> ApplicabilityStatement:
    soa.soa_rows_ensure(org)
    return ApplicabilityStatement.objects.for_org(org).select_related("control").get(control__ref=ref)


def decide(org, ref: str, user, *, applicable=True, justification=JUSTIFICATION, systems=None, **fields):
    statement = row(org, ref)
    statement.applicable, statement.justification = applicable, justification
    for name, value in fields.items():
        setattr(statement, name, value)
    return soa.soa_row_update(statement=statement, acting_user=user, systems=systems)


def decide_all(org, user, *, skip=()) -> None:
    soa.soa_rows_ensure(org)
    for statement in ApplicabilityStatement.objects.for_org(org).select_related("control"):
        if statement.control.ref not in skip:
            decide(org, statement.control.ref, user)


def risk_relying_on(org, user, *refs: str, title="Model drift degrades triage") -> tuple[Risk, TreatmentAction]:
    risk = RiskFactory(organization=org, owner=user, title=title, inherent_likelihood=4, inherent_impact=4)
    treatment = TreatmentActionFactory(
        organization=org, risk=risk, owner=user, title="Drift monitoring", control_refs=refs
    )
    return risk, treatment


# --- Rows ----------------------------------------------------------------------------------------


def test_rows_are_created_once_per_control_and_per_organisation(acme, globex):
    assert not ApplicabilityStatement.objects.for_org(acme).exists()
    rows = list(selectors.soa_rows(acme))
    assert len(rows) == 38
    assert [r.control.ref for r in rows][:3] == ["A.2.2", "A.2.3", "A.2.4"]
    assert rows[-1].control.ref == "A.10.4"
    assert all(r.applicable is None and r.implementation_status == "not_started" for r in rows)
    ids = {r.pk for r in rows}
    soa.soa_rows_ensure(acme)
    assert {r.pk for r in selectors.soa_rows(acme)} == ids
    assert ApplicabilityStatement.objects.for_org(acme).count() == 38
    assert not ApplicabilityStatement.objects.for_org(globex).exists()
    assert selectors.soa_rows(globex).count() == 38
    assert ApplicabilityStatement.objects.count() == 76


def test_rows_count_evidence_of_their_own_organisation_only(acme, globex):
    a226 = control("A.6.2.6")
    for org, valid_until in ((acme, None), (acme, "2000-01-01"), (globex, None)):
        EvidenceLinkFactory(
            evidence=EvidenceFactory(organization=org, title="Drift report", valid_until=valid_until), control=a226
        )
    mine = selectors.soa_rows(acme).get(control=a226)
    assert (mine.evidence_count, mine.valid_evidence_count) == (2, 1)
    theirs = selectors.soa_rows(globex).get(control=a226)
    assert (theirs.evidence_count, theirs.valid_evidence_count) == (1, 1)


@pytest.mark.parametrize("applicable, reason", [(True, "included."), (False, "excluded")])
def test_a_decision_needs_a_justification_either_way(acme, olivia, applicable, reason):
    for blank in ("", "   "):
        with pytest.raises(ValidationError) as exc_info:
            decide(acme, "A.5.2", olivia, applicable=applicable, justification=blank)
        [message] = exc_info.value.message_dict["justification"]
        assert reason in message
    assert row(acme, "A.5.2").applicable is None
    decide(acme, "A.5.2", olivia, applicable=applicable)
    assert row(acme, "A.5.2").applicable is applicable


def test_a_control_a_treatment_relies_on_cannot_be_excluded_until_the_treatment_is_cancelled(acme, olivia):
    risk, treatment = risk_relying_on(acme, olivia, "A.6.2.6")
    with pytest.raises(ValidationError) as exc_info:
        decide(acme, "A.6.2.6", olivia, applicable=False, justification="We do not monitor models.")
    [message] = exc_info.value.message_dict["applicable"]
    assert message.startswith("A.6.2.6 cannot be excluded")
    assert f"{risk.ref_code} (Drift monitoring)" in message
    assert row(acme, "A.6.2.6").applicable is None
    # Other controls are not held back by it.
    decide(acme, "A.6.2.5", olivia, applicable=False, justification="No deployment of our own.")

    treatment.status = TreatmentAction.Status.CANCELLED
    risk_services.treatment_save(instance=treatment, acting_user=olivia)
    decide(acme, "A.6.2.6", olivia, applicable=False, justification="We do not monitor models.")
    assert row(acme, "A.6.2.6").applicable is False


def test_risks_of_another_organisation_do_not_hold_back_an_exclusion(acme, globex, olivia, charlie):
    risk_relying_on(globex, charlie, "A.6.2.6")
    decide(acme, "A.6.2.6", olivia, applicable=False, justification="We do not monitor models.")
    assert row(acme, "A.6.2.6").applicable is False


def test_systems_are_linked_and_replaced_and_another_organisations_are_refused(acme, globex, olivia):
    mine, other = AISystemFactory(organization=acme), AISystemFactory(organization=acme)
    theirs = AISystemFactory(organization=globex)
    decide(acme, "A.6.2.6", olivia, systems=[mine, other])
    statement = row(acme, "A.6.2.6")
    assert set(statement.system_links.values_list("system_id", flat=True)) == {mine.pk, other.pk}

    with pytest.raises(ValidationError) as exc_info:
        decide(acme, "A.6.2.6", olivia, implementation="Changed", systems=[mine, theirs])
    assert "systems" in exc_info.value.message_dict
    statement.refresh_from_db()
    assert statement.implementation == ""  # the refused change left the row as it was
    assert set(statement.system_links.values_list("system_id", flat=True)) == {mine.pk, other.pk}
    assert not SoASystem.objects.filter(system=theirs).exists()

    decide(acme, "A.6.2.6", olivia, systems=[other])
    assert list(statement.system_links.values_list("system_id", flat=True)) == [other.pk]
    decide(acme, "A.6.2.6", olivia, systems=None)  # None leaves the links alone
    assert list(statement.system_links.values_list("system_id", flat=True)) == [other.pk]


# --- Submission ----------------------------------------------------------------------------------


def test_submission_is_refused_while_a_control_is_undecided(acme, olivia):
    with pytest.raises(ValidationError) as exc_info:
        soa.soa_submit(organization=acme, acting_user=olivia)
    assert "A.2.2, A.2.3" in exc_info.value.messages[0] and "A.10.4" in exc_info.value.messages[0]

    decide_all(acme, olivia, skip={"A.5.3", "A.9.4"})
    with pytest.raises(ValidationError) as exc_info:
        soa.soa_submit(organization=acme, acting_user=olivia)
    [message] = exc_info.value.messages
    assert message == "Decide and justify every control before submitting; still open: A.5.3, A.9.4."
    assert not SoAVersion.objects.for_org(acme).exists()


def test_submission_is_refused_while_a_decided_control_is_unjustified(acme, olivia):
    decide_all(acme, olivia)
    # A row decided before the rule existed (or imported) without a reason.
    ApplicabilityStatement.objects.for_org(acme).filter(control__ref="A.7.4").update(justification="")
    with pytest.raises(ValidationError) as exc_info:
        soa.soa_submit(organization=acme, acting_user=olivia)
    assert exc_info.value.messages[0].endswith("still open: A.7.4.")


def test_the_snapshot_holds_all_38_rows_with_systems_risks_and_evidence(acme, olivia):
    system = AISystemFactory(organization=acme, ref_code="AIS-0042")
    risk, _ = risk_relying_on(acme, olivia, "A.6.2.6")
    other_risk, _ = risk_relying_on(acme, olivia, "A.6.2.6", title="Bias in triage")
    evidence_on(acme, "Monitoring dashboard", "A.6.2.6")
    decide_all(acme, olivia)
    decide(
        acme, "A.6.2.6", olivia, systems=[system], owner=olivia, implementation_status="implemented",
        implementation="Weekly drift report", target_date="2026-03-31",
    )  # fmt: skip
    decide(acme, "A.10.4", olivia, applicable=False, justification="We have no customers for AI systems.")

    version = soa.soa_submit(organization=acme, acting_user=olivia, note="  First version  ")
    assert (version.number, version.status, version.note) == (1, SoAVersion.Status.SUBMITTED, "First version")
    assert version.submitted_by == olivia and version.decided_by is None
    assert len(version.rows) == 38
    by_ref = {r["ref"]: r for r in version.rows}
    assert by_ref["A.6.2.6"] == {
        "ref": "A.6.2.6",
        "title": control("A.6.2.6").title,
        "applicable": True,
        "justification": JUSTIFICATION,
        "implementation_status": "implemented",
        "implementation": "Weekly drift report",
        "owner": "olivia@acme.example",
        "target_date": "2026-03-31",
        "systems": ["AIS-0042"],
        "risks": sorted([risk.ref_code, other_risk.ref_code]),
        "risk_count": 2,
        "treatment_count": 2,
        "evidence": 1,
    }
    assert by_ref["A.10.4"]["applicable"] is False
    assert by_ref["A.2.2"]["risks"] == [] and by_ref["A.2.2"]["owner"] is None


def test_only_one_version_waits_for_approval_at_a_time(acme, alice, olivia):
    decide_all(acme, olivia)
    first = soa.soa_submit(organization=acme, acting_user=olivia)
    with pytest.raises(ValidationError, match="already waiting for approval"):
        soa.soa_submit(organization=acme, acting_user=alice)
    soa.soa_approve(version=first, acting_user=alice)
    second = soa.soa_submit(organization=acme, acting_user=olivia)
    assert second.number == 2
    soa.soa_return(version=second, acting_user=alice, comment="Justify A.5.2 better.")
    assert soa.soa_submit(organization=acme, acting_user=olivia).number == 3


def test_versions_are_numbered_per_organisation(acme, globex, olivia, charlie):
    decide_all(acme, olivia)
    decide_all(globex, charlie)
    assert soa.soa_submit(organization=acme, acting_user=olivia).number == 1
    assert soa.soa_submit(organization=globex, acting_user=charlie).number == 1


# --- Decisions -----------------------------------------------------------------------------------


def test_an_administrator_other_than_the_submitter_approves(acme, alice, olivia):
    decide_all(acme, olivia)
    version = soa.soa_submit(organization=acme, acting_user=olivia)
    assert selectors.soa_latest_approved(acme) is None
    soa.soa_approve(version=version, acting_user=alice, comment=" Looks complete. ")
    version.refresh_from_db()
    assert version.status == SoAVersion.Status.APPROVED
    assert version.decided_by == alice and version.decided_at is not None
    assert version.decision_comment == "Looks complete."
    assert selectors.soa_latest_approved(acme) == version
    with pytest.raises(ValidationError, match="Version 1 is approved, not awaiting a decision"):
        soa.soa_return(version=version, acting_user=alice, comment="Changed my mind.")


def test_the_submitter_cannot_decide_on_their_own_version(acme, alice):
    decide_all(acme, alice)
    version = soa.soa_submit(organization=acme, acting_user=alice)
    with pytest.raises(ValidationError, match="submitted the SoA cannot also decide"):
        soa.soa_approve(version=version, acting_user=alice)
    with pytest.raises(ValidationError, match="submitted the SoA cannot also decide"):
        soa.soa_return(version=version, acting_user=alice, comment="Not complete.")
    version.refresh_from_db()
    assert version.status == SoAVersion.Status.SUBMITTED and version.decided_by is None
    other_admin = MembershipFactory(organization=acme, role="admin").user
    soa.soa_approve(version=version, acting_user=other_admin)
    assert SoAVersion.objects.get(pk=version.pk).status == SoAVersion.Status.APPROVED


def test_returning_needs_a_comment(acme, alice, olivia):
    decide_all(acme, olivia)
    version = soa.soa_submit(organization=acme, acting_user=olivia)
    with pytest.raises(ValidationError) as exc_info:
        soa.soa_return(version=version, acting_user=alice, comment="  ")
    assert exc_info.value.message_dict == {"comment": ["Say what needs to change."]}
    assert SoAVersion.objects.get(pk=version.pk).status == SoAVersion.Status.SUBMITTED
    soa.soa_return(version=version, acting_user=alice, comment="Justify A.5.2 better.")
    version.refresh_from_db()
    assert (version.status, version.decision_comment, version.decided_by) == (
        "returned",
        "Justify A.5.2 better.",
        alice,
    )
    with pytest.raises(ValidationError, match="is returned, not awaiting a decision"):
        soa.soa_approve(version=version, acting_user=alice)
    assert selectors.soa_latest_approved(acme) is None


def test_an_approved_version_keeps_its_rows_when_the_soa_changes(acme, alice, olivia):
    decide_all(acme, olivia)
    version = soa.soa_approve(version=soa.soa_submit(organization=acme, acting_user=olivia), acting_user=alice)
    frozen = [dict(r) for r in version.rows]
    decide(acme, "A.5.2", olivia, applicable=False, justification="Covered by group policy.")
    decide(acme, "A.2.2", olivia, implementation_status="implemented", systems=[AISystemFactory(organization=acme)])
    version.refresh_from_db()
    assert version.rows == frozen
    by_ref = {r["ref"]: r for r in version.rows}
    assert by_ref["A.5.2"]["applicable"] is True and by_ref["A.2.2"]["implementation_status"] == "not_started"
    assert by_ref["A.2.2"]["systems"] == []
    # The next version captures the change; the approved one stays the latest approved.
    pending = soa.soa_submit(organization=acme, acting_user=olivia)
    assert {r["ref"]: r for r in pending.rows}["A.5.2"]["applicable"] is False
    assert selectors.soa_latest_approved(acme) == version


def test_history_records_who_changed_rows_links_and_versions(acme, alice, olivia):
    system = AISystemFactory(organization=acme)
    decide(acme, "A.6.2.6", olivia, systems=[system])
    statement = row(acme, "A.6.2.6")
    latest = statement.history.latest("history_date")
    assert latest.history_user == olivia and latest.applicable is True and latest.justification == JUSTIFICATION
    assert SoASystem.history.get(statement_id=statement.pk, history_type="+").history_user == olivia
    decide(acme, "A.6.2.6", alice, systems=[])
    assert statement.history.latest("history_date").history_user == alice
    assert SoASystem.history.get(statement_id=statement.pk, history_type="-").history_user == alice

    decide_all(acme, olivia)
    version = soa.soa_submit(organization=acme, acting_user=olivia)
    assert version.history.get(history_type="+").history_user == olivia
    soa.soa_approve(version=version, acting_user=alice)
    changed = version.history.filter(history_type="~").latest("history_date")
    assert changed.history_user == alice and changed.status == "approved"


def test_an_undecided_row_can_get_an_owner_and_a_decision_can_be_reopened(acme, olivia):
    statement = row(acme, "A.5.2")
    statement.owner = olivia
    soa.soa_row_update(statement=statement, acting_user=olivia)
    assert row(acme, "A.5.2").owner == olivia
    decide(acme, "A.5.2", olivia)
    reopened = row(acme, "A.5.2")
    reopened.applicable = None
    soa.soa_row_update(statement=reopened, acting_user=olivia)
    assert row(acme, "A.5.2").applicable is None
