"""How ready the organisation is for certification, per clause 4-10 and per Annex A area.

Clause readiness is the share of passed checks; each module registers the checks it can
answer (:func:`register`), so a clause with no check yet says "not measured" instead of
pretending. Annex A readiness comes from the Statement of Applicability and the evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db.models import Count, Exists, Model, OuterRef, Q, QuerySet, Window
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext

from aims.dashboard import Tile
from aims.governance.models import (
    AIMSScope,
    CompetenceRecord,
    ContextIssue,
    InterestedParty,
    Objective,
    OrgRole,
    Policy,
    PolicyVersion,
)
from aims.models import Membership, Organization
from aims.roles import Capability, Role, role_can
from aims.summaries import cached_summary, invalidate_on
from controls.catalogue.models import Requirement
from controls.evidence.models import Evidence, EvidenceLink
from controls.soa.models import ApplicabilityStatement, ImplementationStatus, SoASystem, SoAVersion
from controls.soa.selectors import area_of, soa_latest_approved, soa_rows
from registry.models import AISystem, RoleAssignment, SystemStatus
from risk.models import (
    DEFAULT_IMPACT,
    DEFAULT_LIKELIHOOD,
    LEVEL_RANK,
    ImpactAssessment,
    Level,
    Risk,
    RiskCriteria,
    TreatmentAction,
    default_matrix,
)
from risk.selectors import open_risk_groups, open_risks_past_review


@dataclass
class Check:
    """One thing the portal can verify. ``measured`` is False while there is nothing to verify
    yet ("no overdue treatment" of an organisation without treatments): such a check is shown
    but counts neither way, so an empty organisation reads 0 % and not the share of rules that
    nothing can break yet."""

    clause: str
    label: str
    ok: bool
    detail: str = ""
    url: str = ""
    measured: bool = True

    @classmethod
    def once(cls, present: bool, *args: Any, **kwargs: Any) -> Check:
        """A check that counts once there is something to check (``present``)."""
        check = cls(*args, **kwargs)
        if not present:
            check.ok, check.measured, check.detail = False, False, gettext("Nothing to check yet.")
        return check


@dataclass
class ClauseReadiness:
    ref: str
    title: str
    checks: list[Check] = field(default_factory=list)

    @property
    def score(self) -> int | None:
        measured = [c for c in self.checks if c.measured]
        if not measured:
            return None
        return round(100 * sum(c.ok for c in measured) / len(measured))

    @property
    def missing(self) -> list[Check]:
        return [c for c in self.checks if c.measured and not c.ok]


@dataclass
class AreaReadiness:
    ref: str
    title: str
    total: int = 0
    decided: int = 0
    applicable: int = 0
    excluded: int = 0
    implemented: int = 0
    evidenced: int = 0
    missing: list[tuple[str, str]] = field(default_factory=list)  # (what, link)

    @property
    def score(self) -> int:
        """Mean of: share decided, share of applicable implemented, share of applicable with valid evidence."""
        complete = self.total > 0 and self.decided == self.total
        decided = self.decided / self.total if self.total else 0
        # With nothing applicable yet, the other two shares count only once every control is decided
        # (all excluded); an undecided area must not look two-thirds ready.
        implemented = self.implemented / self.applicable if self.applicable else float(complete)
        evidenced = self.evidenced / self.applicable if self.applicable else float(complete)
        return round(100 * (decided + implemented + evidenced) / 3)


@dataclass
class Readiness:
    clauses: list[ClauseReadiness]
    areas: list[AreaReadiness]

    @property
    def clause_score(self) -> int | None:
        scored = [c.score for c in self.clauses if c.score is not None]
        return round(sum(scored) / len(scored)) if scored else None

    @property
    def annex_score(self) -> int:
        return round(sum(a.score for a in self.areas) / len(self.areas)) if self.areas else 0

    @property
    def overall(self) -> int:
        parts = [s for s in (self.clause_score, self.annex_score) if s is not None]
        return round(sum(parts) / len(parts)) if parts else 0


CheckProvider = Callable[[Organization], list[Check]]


@dataclass(frozen=True)
class _Part:
    """A provider of checks and the scope its cached answer lives in: writes to what it reads
    move that scope on, so a new risk recomputes the risk checks and leaves the others cached."""

    provider: CheckProvider
    scope: str


_parts: list[_Part] = []
# What the Annex A figures read (the SoA rows, their systems and evidence).
ANNEX_SCOPE = "readiness.annex"


def register(provider: CheckProvider, *, reads: Iterable[type[Model]] = ()) -> CheckProvider:
    """Add the checks of a module; a write to any model in ``reads`` makes its cached checks stale."""
    scope = f"readiness.{provider.__module__}.{provider.__qualname__}"
    if all(part.provider is not provider for part in _parts):
        _parts.append(_Part(provider, scope))
    invalidate_on(*reads, scope=scope)
    return provider


def annex_a_readiness(organization: Organization) -> list[AreaReadiness]:
    areas: dict[str, AreaReadiness] = {}
    for row in soa_rows(organization):
        area = area_of(row.control)
        entry = areas.setdefault(area.ref, AreaReadiness(area.ref, area.title))
        link = reverse("soa:control", args=[row.control.ref])
        entry.total += 1
        if row.applicable is not None and row.justification.strip():
            entry.decided += 1
        else:
            what = f"{row.control.ref} {row.control.title}"
            entry.missing.append((gettext("%(control)s: decide and justify") % {"control": what}, link))
            continue
        if row.applicable:
            entry.applicable += 1
            if row.implementation_status == ImplementationStatus.IMPLEMENTED:
                entry.implemented += 1
            else:
                entry.missing.append((f"{row.control.ref}: {row.get_implementation_status_display().lower()}", link))
            if row.valid_evidence_count:  # type: ignore[attr-defined]  # annotated by soa_rows
                entry.evidenced += 1
            else:
                entry.missing.append((gettext("%(ref)s: no valid evidence") % {"ref": row.control.ref}, link))
        else:
            entry.excluded += 1
    order = {r.ref: r.order for r in Requirement.objects.of_framework("ISO42001").filter(depth=0)}
    return sorted(areas.values(), key=lambda a: order.get(a.ref, 0))


def _clauses(checks: list[Check]) -> list[ClauseReadiness]:
    """The checks under their clause 4-10, in the order the providers registered them."""
    clauses = []
    for clause in Requirement.objects.of_framework("ISO42001").clauses().filter(depth=0).order_by("order"):
        prefix = clause.ref + "."
        mine = [c for c in checks if c.clause == clause.ref or c.clause.startswith(prefix)]
        clauses.append(ClauseReadiness(clause.ref, clause.title, mine))
    return clauses


def readiness(organization: Organization) -> Readiness:
    """The readiness of the organisation as of now, computed in a fixed number of queries whatever its size."""
    checks = [check for part in _parts for check in part.provider(organization)]
    return Readiness(_clauses(checks), annex_a_readiness(organization))


def readiness_summary(organization: Organization) -> Readiness:
    """:func:`readiness`, each provider's checks and the Annex A figures cached apart until a write
    to a record that part reads commits (the models each one registers): a new risk recomputes the
    risk checks only. The date is part of the names: overdue and expired checks compare with
    today, so a new day computes afresh."""
    # The language too: the labels and details are written in the reader's language.
    today = f"{timezone.localdate().isoformat()}:{get_language()}"
    checks = [
        check
        for part in _parts
        for check in cached_summary(
            organization.pk, f"{part.scope}:{today}", partial(part.provider, organization), scope=part.scope
        )
    ]
    areas = cached_summary(
        organization.pk, f"{ANNEX_SCOPE}:{today}", partial(annex_a_readiness, organization), scope=ANNEX_SCOPE
    )
    return Readiness(_clauses(checks), areas)


# --- Checks answered by the inventory, the risk module and the SoA ------------------------------

# What the Annex A figures read; ControlsConfig.ready makes their writes invalidate them.
ANNEX_READS: tuple[type[Model], ...] = (ApplicabilityStatement, SoASystem, Evidence, EvidenceLink)


# How many references a check names before "and N more".
NAMED = 5


def _first(records: QuerySet[Any], limit: int = NAMED) -> tuple[list[str], int]:
    """The first ``limit`` references and how many records there are in all, in one query: the
    total is ``COUNT(*) OVER ()``, computed by the database before the limit applies."""
    rows = list(
        records.annotate(total=Window(Count("pk"))).order_by("ref_code").values_list("ref_code", "total")[:limit]
    )
    return [ref for ref, _ in rows], rows[0][1] if rows else 0


def _names(records: QuerySet[Any]) -> str:
    """'AIS-1, AIS-2 … and 995 more', or "" when there is none."""
    return _listed(*_first(records))


def _listed(names: list[str], total: int) -> str:
    more = total - len(names)
    listed = ", ".join(names)
    return gettext("%(names)s and %(more)s more") % {"names": listed, "more": more} if more > 0 else listed


def _missing_for(names: str) -> str:
    return gettext("Missing for %(names)s") % {"names": names} if names else ""


def _overdue(count: int) -> str:
    return gettext("%(count)s overdue") % {"count": count} if count else ""


def _active_systems(organization: Organization) -> QuerySet[AISystem]:
    return AISystem.objects.for_org(organization).exclude(status=SystemStatus.RETIRED)


def inventory_checks(organization: Organization) -> list[Check]:
    """4.3 and 5.3: the inventory and its accountable people."""
    active = _active_systems(organization)
    active_count = active.count()
    inventory = reverse("inventory:system_list")
    detail = (
        gettext("%(count)s active system(s)") % {"count": active_count}
        if active_count
        else gettext("The inventory is empty.")
    )
    checks = [
        Check("4.3", gettext("AI systems in scope are recorded in the inventory"), active_count > 0, detail, inventory)
    ]
    no_accountable = _names(
        active.filter(status=SystemStatus.ACTIVE).exclude(
            Exists(RoleAssignment.objects.filter(system=OuterRef("pk"), raci=RoleAssignment.Raci.ACCOUNTABLE))
        )
    )
    checks.append(Check.once(active_count > 0, "5.3", gettext("Every active AI system has an Accountable person"),
                             not no_accountable, _missing_for(no_accountable),
                             f"{inventory}?accountable=missing"))  # fmt: skip
    return checks


def impact_checks(organization: Organization) -> list[Check]:
    """6.1.4 and 8.4: impact assessments of the active systems and their reviews."""
    today = timezone.localdate()
    checks = []
    has_active = _active_systems(organization).exists()
    approved = ImpactAssessment.objects.for_org(organization).filter(status=ImpactAssessment.Status.APPROVED)
    without_ia = _names(
        _active_systems(organization).exclude(
            Exists(ImpactAssessment.objects.filter(system=OuterRef("pk"), status=ImpactAssessment.Status.APPROVED))
        )
    )
    checks.append(Check.once(has_active, "6.1.4", gettext("Every active AI system has an approved impact assessment"),
                             not without_ia, _missing_for(without_ia),
                             reverse("impact:list")))  # fmt: skip
    due = approved.filter(next_review_date__lt=today).count()
    checks.append(Check.once(approved.exists(), "8.4", gettext("No impact assessment is past its review date"),
                             due == 0, gettext("%(count)s due") % {"count": due} if due else "",
                             f"{reverse('impact:list')}?due=true"))  # fmt: skip
    return checks


def risk_checks(organization: Organization) -> list[Check]:
    """6.1.2, 6.1.3 and 8.2: what reads the risk register, the only checks a new risk recomputes."""
    risks_url = reverse("risk:list")
    criteria = RiskCriteria.objects.for_org(organization).first()
    checks = [Check("6.1.2", gettext("Risk criteria are defined"), criteria is not None, "", reverse("risk:criteria"))]
    unassessed = _names(
        _active_systems(organization).exclude(
            Exists(Risk.objects.filter(system=OuterRef("pk")).exclude(inherent_level=""))
        )
    )
    has_active = _active_systems(organization).exists()
    checks.append(Check.once(has_active, "6.1.2", gettext("Every active AI system has assessed risks"),
                             not unassessed,
                             gettext("No assessed risk for %(names)s") % {"names": unassessed} if unassessed else "",
                             risks_url))  # fmt: skip

    # Read-only: the criteria the register would use, without creating them here.
    threshold = (
        criteria.acceptance_threshold if criteria is not None else _default_criteria(organization).acceptance_threshold
    )
    above = [level for level in Level if LEVEL_RANK[level] > LEVEL_RANK[Level(threshold)]]
    # The current level: the residual one once assessed, otherwise the inherent one.
    untreated = Q(status__in=[Risk.Status.IDENTIFIED, Risk.Status.ASSESSED]) & (
        Q(residual_level__in=above) | Q(residual_level="", inherent_level__in=above)
    )
    open_risks = Risk.objects.open().for_org(organization)
    # Both counts from the register's open-risk tallies (shared with the dashboard); the names
    # walk the reference index and stop at five.
    treatable = (Risk.Status.IDENTIFIED, Risk.Status.ASSESSED)
    groups = open_risk_groups(organization)
    counts = {
        "untreated": sum(g.count for g in groups if g.status in treatable and g.current_level in above),
        "overdue": open_risks_past_review(organization),
    }
    names = (
        list(open_risks.filter(untreated).order_by("ref_code").values_list("ref_code", flat=True)[:NAMED])
        if counts["untreated"]
        else []
    )
    named = _listed(names, counts["untreated"])
    has_open = any(group.count for group in groups)
    checks.append(Check.once(has_open, "6.1.3", gettext("Risks above the acceptance threshold are treated or accepted"),
                             not named, gettext("Untreated: %(names)s") % {"names": named} if named else "",
                             risks_url))  # fmt: skip
    overdue = counts["overdue"]
    checks.append(Check.once(has_open, "8.2", gettext("No risk is past its review date"), overdue == 0,
                             _overdue(overdue), f"{risks_url}?overdue=true"))  # fmt: skip
    return checks


def treatment_checks(organization: Organization) -> list[Check]:
    """8.3: overdue treatments, counted along the index of open treatments by due date."""
    open_treatments = TreatmentAction.objects.for_org(organization).filter(
        status__in=[TreatmentAction.Status.PLANNED, TreatmentAction.Status.IN_PROGRESS]
    )
    overdue = open_treatments.filter(due_date__lt=timezone.localdate()).count()
    return [Check.once(overdue > 0 or open_treatments.exists(), "8.3", gettext("No risk treatment is overdue"),
                       overdue == 0, _overdue(overdue),
                       f"{reverse('risk:list')}?treatment_overdue=true")]  # fmt: skip


def soa_checks(organization: Organization) -> list[Check]:
    approved = soa_latest_approved(organization)
    detail = ""
    if approved is not None and approved.decided_at is not None:
        detail = gettext("Version %(number)s approved %(date)s") % {
            "number": approved.number,
            "date": date_format(approved.decided_at, "d M Y"),
        }
    return [Check("6.1.3", gettext("The Statement of Applicability is approved"), approved is not None, detail,
                  reverse("soa:versions"))]  # fmt: skip


def evidence_checks(organization: Organization) -> list[Check]:
    """7.5: documented evidence, one aggregate for both checks."""
    figures = Evidence.objects.for_org(organization).aggregate(
        recorded=Count("pk"), expired=Count("pk", filter=Q(valid_until__lt=timezone.localdate()))
    )
    expired = figures["expired"]
    evidence_url = reverse("evidence:list")
    return [
        Check("7.5", gettext("Documented evidence is recorded"), figures["recorded"] > 0, "", evidence_url),
        Check.once(figures["recorded"] > 0, "7.5", gettext("No evidence has expired"), expired == 0,
                   gettext("%(count)s expired item(s)") % {"count": expired} if expired else "",
                   f"{evidence_url}?status=expired"),
    ]  # fmt: skip


def _default_criteria(organization: Organization) -> RiskCriteria:
    """The criteria the register creates on first use, unsaved: what applies until the organisation sets its own."""
    return RiskCriteria(
        organization=organization,
        likelihood_levels=DEFAULT_LIKELIHOOD,
        impact_levels=DEFAULT_IMPACT,
        matrix=default_matrix(),
    )


EDIT_ROLES = [role for role in Role.values if role_can(role, Capability.EDIT)]


def governance_checks(organization: Organization) -> list[Check]:
    """Clauses 4, 5, 6.2 and 7: the records of the AIMS section of the portal."""
    context_url, policies_url = reverse("governance:context"), reverse("governance:policies")
    scope = AIMSScope.objects.for_org(organization).first()
    ai_policy = Policy.objects.for_org(organization).filter(
        kind=Policy.Kind.AI_POLICY, versions__status=PolicyVersion.Status.APPROVED
    )
    objectives = Objective.objects.for_org(organization)
    missed = objectives.filter(status=Objective.Status.MISSED).count()
    editors = Membership.objects.for_org(organization).filter(role__in=EDIT_ROLES)
    untrained = editors.exclude(
        Exists(CompetenceRecord.objects.for_org(organization).filter(member_id=OuterRef("user_id")))
    ).count()
    return [
        Check("4.1", gettext("Internal and external issues are recorded"),
              ContextIssue.objects.for_org(organization).exists(), "", context_url),
        Check("4.2", gettext("Interested parties and their requirements are recorded"),
              InterestedParty.objects.for_org(organization).exists(), "", reverse("governance:parties")),
        Check("4.3", gettext("The AIMS scope statement is recorded"),
              scope is not None and bool(scope.statement.strip()), "", reverse("governance:scope")),
        Check("5.2", gettext("An approved AI policy is in force"), ai_policy.exists(), "", policies_url),
        Check("5.3", gettext("AIMS roles, responsibilities and authorities are assigned"),
              OrgRole.objects.for_org(organization).exists(), "", reverse("governance:roles")),
        Check("6.2", gettext("AI objectives are set"), Objective.objects.for_org(organization).exists(), "",
              reverse("governance:objectives")),
        Check.once(missed > 0 or objectives.exists(), "6.2", gettext("No AI objective has been missed"), missed == 0,
                   gettext("%(count)s missed") % {"count": missed} if missed else "",
                   reverse("governance:objectives")),
        Check.once(untrained > 0 or editors.exists(), "7.2",
                   gettext("Everyone who changes AIMS records has a competence record"), untrained == 0,
                   gettext("%(count)s member(s) without one") % {"count": untrained} if untrained else "",
                   reverse("governance:competence")),
    ]  # fmt: skip


# Each provider's checks are cached apart, until a write to a model it reads.
# The order of registration is the order of the checks within each clause.
register(inventory_checks, reads=(AISystem, RoleAssignment))
register(risk_checks, reads=(AISystem, Risk, RiskCriteria))
register(soa_checks, reads=(SoAVersion,))
register(treatment_checks, reads=(TreatmentAction,))
register(impact_checks, reads=(AISystem, ImpactAssessment))
register(evidence_checks, reads=(Evidence,))
register(governance_checks, reads=(AIMSScope, ContextIssue, InterestedParty, Policy, PolicyVersion, Objective,
                                   OrgRole, Membership, CompetenceRecord))  # fmt: skip


def readiness_tiles(organization: Organization) -> list[Tile]:
    result = readiness_summary(organization)
    applicable = sum(a.applicable for a in result.areas)
    implemented = sum(a.implemented for a in result.areas)
    url = reverse("soa:readiness")
    return [
        Tile(
            gettext("Certification readiness"), f"{result.overall} %", gettext("clauses 4-10 and Annex A"), url, order=0
        ),
        Tile(
            gettext("Controls implemented"),
            f"{implemented}/{applicable}",
            gettext("of applicable Annex A controls"),
            reverse("soa:statement"),
            8,
        ),
    ]


def statements_for(organization: Organization) -> QuerySet[ApplicabilityStatement]:
    return ApplicabilityStatement.objects.for_org(organization)
