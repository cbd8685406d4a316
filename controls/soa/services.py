"""The Statement of Applicability: the rules for deciding its rows, and its approved versions.

Writes follow the house rule (keyword-only, atomic, acting user recorded through
:func:`aims.records.record_save`); the reads that build the SoA table are in
:mod:`controls.soa.selectors`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext

from aims.models import Organization, User
from aims.records import record_delete, record_save
from controls.soa.models import ApplicabilityStatement, SoASystem, SoAVersion
from controls.soa.selectors import RISK_PREVIEW, control_risk_summaries, control_treatment_links, soa_rows
from registry.models import AISystem


def soa_rows_ensure(organization: Organization) -> None:
    """Create the missing SoA rows: one per Annex A control, undecided."""
    ApplicabilityStatement.objects.ensure_rows(organization)


@transaction.atomic
def soa_row_update(
    *,
    statement: ApplicabilityStatement,
    acting_user: User,
    systems: Iterable[AISystem] | None = None,
) -> ApplicabilityStatement:
    """Save a row whose fields the caller has set.

    The justification is required once a decision is made, either way (clause 6.1.3), and a
    control that a risk treatment relies on cannot be excluded.
    """
    errors = {}
    if statement.applicable is not None and not statement.justification.strip():
        errors["justification"] = (
            gettext("Explain why this control is included.")
            if statement.applicable
            else gettext("Explain why this control is excluded: clause 6.1.3 asks for the reason either way.")
        )
    if statement.applicable is False:
        relied_on = _exclusion_refused(statement)
        if relied_on:
            errors["applicable"] = relied_on
    if errors:
        raise ValidationError(errors)
    record_save(statement, acting_user=acting_user)
    if systems is not None:
        wanted = {s.pk: s for s in systems}
        if any(s.organization_id != statement.organization_id for s in wanted.values()):
            raise ValidationError({"systems": gettext("Choose your organisation's AI systems.")})
        for link in statement.system_links.exclude(system_id__in=wanted):
            record_delete(link, acting_user=acting_user)
        existing = set(statement.system_links.values_list("system_id", flat=True))
        for pk, system in wanted.items():
            if pk not in existing:
                link = SoASystem(organization_id=statement.organization_id, statement=statement, system=system)
                record_save(link, acting_user=acting_user)
    return statement


def _exclusion_refused(statement: ApplicabilityStatement) -> str:
    """Why the control cannot be excluded (the treatments relying on it), or "" when nothing does.

    Answered with EXISTS; only a refusal reads the first few treatments to name them.
    """
    links = control_treatment_links(statement.organization, [statement.control_id])
    if not links.exists():
        return ""
    first = list(
        links.select_related("treatment__risk").order_by("treatment__risk__ref_code", "treatment_id")[:RISK_PREVIEW]
    )
    names = ", ".join(f"{link.treatment.risk.ref_code} ({link.treatment.title})" for link in first)
    more = links.count() - len(first) if len(first) == RISK_PREVIEW else 0
    figures = {"ref": statement.control.ref, "names": names, "more": more}
    if more:
        return (
            gettext(
                "%(ref)s cannot be excluded: the treatment of %(names)s and %(more)s more relies on it. "
                "Change those treatments first."
            )
            % figures
        )
    return (
        gettext("%(ref)s cannot be excluded: the treatment of %(names)s relies on it. Change those treatments first.")
        % figures
    )


# --- Versions ----------------------------------------------------------------------------------


def _snapshot(organization: Organization) -> list[dict[str, Any]]:
    rows = list(soa_rows(organization))
    relied_on = control_risk_summaries(organization)
    snapshot = []
    for row in rows:
        summary = relied_on.get(row.control_id)
        snapshot.append(
            {
                "ref": row.control.ref,
                "title": row.control.title,
                "applicable": row.applicable,
                "justification": row.justification,
                "implementation_status": row.implementation_status,
                "implementation": row.implementation,
                "owner": row.owner.email if row.owner else None,
                "target_date": row.target_date.isoformat() if row.target_date else None,
                "systems": [link.system.ref_code for link in row.system_links.all()],
                # The counts, and the first risks by reference: a version freezes what the SoA shows,
                # while the register keeps the full list (100,000 risks must not be copied into each version).
                "risks": [risk.ref_code for risk in summary.first_risks] if summary else [],
                "risk_count": summary.risk_count if summary else 0,
                "treatment_count": summary.treatment_count if summary else 0,
                "evidence": row.evidence_count,  # type: ignore[attr-defined]  # annotated by soa_rows
            }
        )
    return snapshot


@transaction.atomic
def soa_submit(*, organization: Organization, acting_user: User, note: str = "") -> SoAVersion:
    """Freeze the current SoA as a new version awaiting approval; every control must be decided and justified."""
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    soa_rows_ensure(organization)
    undecided = list(
        ApplicabilityStatement.objects.for_org(organization)
        .filter(Q(applicable__isnull=True) | Q(justification=""))
        .select_related("control")
        .order_by("control__order")
        .values_list("control__ref", flat=True)
    )
    if undecided:
        raise ValidationError(
            gettext("Decide and justify every control before submitting; still open: %(refs)s.")
            % {"refs": ", ".join(undecided)}
        )
    if SoAVersion.objects.for_org(organization).filter(status=SoAVersion.Status.SUBMITTED).exists():
        raise ValidationError(gettext("A version is already waiting for approval."))
    number = (SoAVersion.objects.for_org(organization).aggregate(n=Max("number"))["n"] or 0) + 1
    version = SoAVersion(
        organization=organization,
        number=number,
        rows=_snapshot(organization),
        note=note.strip(),
        submitted_by=acting_user,
    )
    return record_save(version, acting_user=acting_user)


def _decide(version: SoAVersion, acting_user: User, status: str, comment: str) -> SoAVersion:
    if not version.is_submitted:
        raise ValidationError(
            gettext("Version %(number)s is %(status)s, not awaiting a decision.")
            % {"number": version.number, "status": version.get_status_display().lower()}
        )
    if version.submitted_by_id == acting_user.pk:
        raise ValidationError(gettext("The person who submitted the SoA cannot also decide on it."))
    version.status, version.decided_by, version.decided_at = status, acting_user, timezone.now()
    version.decision_comment = comment.strip()
    return record_save(version, acting_user=acting_user)


@transaction.atomic
def soa_approve(*, version: SoAVersion, acting_user: User, comment: str = "") -> SoAVersion:
    return _decide(version, acting_user, SoAVersion.Status.APPROVED, comment)


@transaction.atomic
def soa_return(*, version: SoAVersion, acting_user: User, comment: str) -> SoAVersion:
    if not comment.strip():
        raise ValidationError({"comment": gettext("Say what needs to change.")})
    return _decide(version, acting_user, SoAVersion.Status.RETURNED, comment)
