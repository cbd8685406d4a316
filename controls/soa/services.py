"""The Statement of Applicability: rows, the rules for deciding them, and its approved versions.

Writes follow the house rule (keyword-only, atomic, acting user recorded); reads that build
the SoA table live here too, with a fixed number of queries for all 38 rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.utils import timezone

from aims.models import Organization, User
from controls.models import (
    ApplicabilityStatement,
    EvidenceLink,
    ImplementationStatus,
    Requirement,
    SoASystem,
    SoAVersion,
)
from registry.models import AISystem
from risk.models import TreatmentAction, TreatmentControl


def annex_a_controls() -> QuerySet[Requirement]:
    return Requirement.objects.of_framework("ISO42001").controls().order_by("order")


def soa_rows_ensure(organization: Organization) -> None:
    """Create the missing SoA rows: one per Annex A control, undecided."""
    existing = set(ApplicabilityStatement.objects.for_org(organization).values_list("control_id", flat=True))
    missing = [c for c in annex_a_controls() if c.pk not in existing]
    if missing:
        ApplicabilityStatement.objects.bulk_create(
            [ApplicabilityStatement(organization=organization, control=c) for c in missing], ignore_conflicts=True
        )


def soa_rows(organization: Organization) -> QuerySet[ApplicabilityStatement]:
    """All rows with control, area, owner, covered systems and evidence counts (fixed queries)."""
    soa_rows_ensure(organization)
    today = timezone.localdate()
    return (
        ApplicabilityStatement.objects.for_org(organization)
        .select_related("control__parent__parent", "owner")
        .prefetch_related(Prefetch("system_links", queryset=SoASystem.objects.select_related("system")))
        .annotate(
            evidence_count=Count(
                "control__evidence_links",
                filter=Q(control__evidence_links__organization=organization),
                distinct=True,
            ),
            valid_evidence_count=Count(
                "control__evidence_links",
                filter=Q(control__evidence_links__organization=organization)
                & (
                    Q(control__evidence_links__evidence__valid_until__isnull=True)
                    | Q(control__evidence_links__evidence__valid_until__gte=today)
                ),
                distinct=True,
            ),
        )
        .order_by("control__order")
    )


@dataclass
class RiskUse:
    risk_id: int
    ref_code: str
    title: str
    treatment: str


def control_risk_uses(organization: Organization, control_ids: Iterable[int] | None = None) -> dict[int, list[RiskUse]]:
    """Which risks' treatments rely on each control (one query): what makes a control evidently applicable."""
    links = TreatmentControl.objects.for_org(organization).exclude(treatment__status=TreatmentAction.Status.CANCELLED)
    if control_ids is not None:
        links = links.filter(control_id__in=list(control_ids))
    uses: dict[int, list[RiskUse]] = defaultdict(list)
    for link in links.select_related("treatment__risk").order_by("treatment__risk__ref_code"):
        risk = link.treatment.risk
        uses[link.control_id].append(RiskUse(risk.pk, risk.ref_code, risk.title, link.treatment.title))
    return uses


def area_of(control: Requirement) -> Requirement:
    """The top-level Annex A area (A.2 … A.10) of a control; A.6 controls sit one level deeper."""
    area = control.parent
    while area is not None and area.parent_id is not None:
        area = area.parent
    return area


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
        errors["justification"] = "Explain why this control is " + (
            "included." if statement.applicable else "excluded: clause 6.1.3 asks for the reason either way."
        )
    if statement.applicable is False:
        uses = control_risk_uses(statement.organization, [statement.control_id]).get(statement.control_id, [])
        if uses:
            names = ", ".join(f"{u.ref_code} ({u.treatment})" for u in uses)
            errors["applicable"] = (
                f"{statement.control.ref} cannot be excluded: the treatment of {names} relies on it. "
                "Change those treatments first."
            )
    if errors:
        raise ValidationError(errors)
    statement._history_user = acting_user
    statement.full_clean()
    statement.save()
    if systems is not None:
        wanted = {s.pk: s for s in systems}
        if any(s.organization_id != statement.organization_id for s in wanted.values()):
            raise ValidationError({"systems": "Choose your organisation's AI systems."})
        for link in statement.system_links.exclude(system_id__in=wanted):
            link._history_user = acting_user
            link.delete()
        existing = set(statement.system_links.values_list("system_id", flat=True))
        for pk, system in wanted.items():
            if pk not in existing:
                link = SoASystem(organization_id=statement.organization_id, statement=statement, system=system)
                link._history_user = acting_user
                link.save()
    return statement


# --- Versions ----------------------------------------------------------------------------------


def _snapshot(organization: Organization) -> list[dict]:
    rows = list(soa_rows(organization))
    uses = control_risk_uses(organization)
    return [
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
            "risks": sorted({u.ref_code for u in uses.get(row.control_id, [])}),
            "evidence": row.evidence_count,
        }
        for row in rows
    ]


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
            f"Decide and justify every control before submitting; still open: {', '.join(undecided)}."
        )
    if SoAVersion.objects.for_org(organization).filter(status=SoAVersion.Status.SUBMITTED).exists():
        raise ValidationError("A version is already waiting for approval.")
    number = (SoAVersion.objects.for_org(organization).aggregate(n=Max("number"))["n"] or 0) + 1
    version = SoAVersion(
        organization=organization,
        number=number,
        rows=_snapshot(organization),
        note=note.strip(),
        submitted_by=acting_user,
    )
    version._history_user = acting_user
    version.save()
    return version


def _decide(version: SoAVersion, acting_user: User, status: str, comment: str) -> SoAVersion:
    if version.status != SoAVersion.Status.SUBMITTED:
        raise ValidationError(
            f"Version {version.number} is {version.get_status_display().lower()}, not awaiting a decision."
        )
    if version.submitted_by_id == acting_user.pk:
        raise ValidationError("The person who submitted the SoA cannot also decide on it.")
    version.status, version.decided_by, version.decided_at = status, acting_user, timezone.now()
    version.decision_comment = comment.strip()
    version._history_user = acting_user
    version.save()
    return version


@transaction.atomic
def soa_approve(*, version: SoAVersion, acting_user: User, comment: str = "") -> SoAVersion:
    return _decide(version, acting_user, SoAVersion.Status.APPROVED, comment)


@transaction.atomic
def soa_return(*, version: SoAVersion, acting_user: User, comment: str) -> SoAVersion:
    if not comment.strip():
        raise ValidationError({"comment": "Say what needs to change."})
    return _decide(version, acting_user, SoAVersion.Status.RETURNED, comment)


def soa_latest_approved(organization: Organization) -> SoAVersion | None:
    return (
        SoAVersion.objects.for_org(organization)
        .filter(status=SoAVersion.Status.APPROVED)
        .select_related("decided_by", "submitted_by")
        .order_by("-number")
        .first()
    )


def evidence_counts_by_control(organization: Organization) -> dict[int, int]:
    return dict(
        EvidenceLink.objects.for_org(organization)
        .filter(target=EvidenceLink.Target.CONTROL)
        .values_list("control_id")
        .annotate(n=Count("id"))
        .order_by()
    )


IMPLEMENTED = ImplementationStatus.IMPLEMENTED
