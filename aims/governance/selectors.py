"""Reads of the leadership and planning records: lists shaped for their pages and API, the
organisation's scope and the dashboard tiles. Every list costs a fixed number of queries."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from aims.dashboard import Tile
from aims.governance.models import REVIEW_NOTICE_DAYS
from aims.models import (
    AIMSScope,
    CompetenceRecord,
    ConcernChannel,
    ContextIssue,
    InterestedParty,
    Membership,
    Objective,
    ObjectiveProgress,
    Organization,
    OrgRole,
    Policy,
    PolicyVersion,
)
from aims.setup import SetupStep
from aims.tenancy import Tenant
from aims.work import WORK_LIMIT, WorkItem, horizon

Status = PolicyVersion.Status


def scope_get(organization: Organization) -> AIMSScope | None:
    return AIMSScope.objects.for_org(organization).first()


def context_issue_list(organization: Organization) -> QuerySet[ContextIssue]:
    return ContextIssue.objects.for_org(organization).order_by("kind", "category", "title", "id")


def interested_party_list(organization: Organization) -> QuerySet[InterestedParty]:
    return InterestedParty.objects.for_org(organization).order_by("name", "id")


def policy_list(organization: Organization) -> QuerySet[Policy]:
    """Policies with the version in force and the latest version, in one query whatever their number."""
    versions = PolicyVersion.objects.filter(policy=OuterRef("pk"))
    approved = versions.filter(status=Status.APPROVED)
    latest = versions.order_by("-number")
    rows: QuerySet[Policy] = (
        Policy.objects.for_org(organization)
        .select_related("owner")
        .annotate(
            approved_number=Subquery(approved.values("number")[:1], output_field=IntegerField()),
            approved_on=Subquery(approved.values("approved_at")[:1]),
            latest_number=Subquery(latest.values("number")[:1], output_field=IntegerField()),
            latest_status=Subquery(latest.values("status")[:1]),
        )
        # The AI policy first: it frames the topic policies (A.2.3).
        .order_by(Case(When(kind=Policy.Kind.AI_POLICY, then=0), default=1), "title", "id")
    )
    return rows


def policy_versions(policy: Policy) -> QuerySet[PolicyVersion]:
    return policy.versions.select_related("author", "approved_by").order_by("-number")


def policy_version_list(organization: Organization) -> QuerySet[PolicyVersion]:
    """Every version of the organisation's policies, newest first within each policy."""
    return PolicyVersion.objects.for_org(organization).select_related("policy").order_by("policy_id", "-number")


def org_role_list(organization: Organization) -> QuerySet[OrgRole]:
    return OrgRole.objects.for_org(organization).select_related("holder", "reports_to").order_by("name", "id")


def concern_channel_list(organization: Organization) -> QuerySet[ConcernChannel]:
    return ConcernChannel.objects.for_org(organization).order_by("-is_active", "name", "id")


def objective_list(organization: Organization) -> QuerySet[Objective]:
    """Objectives with their latest measured value and date (one query whatever their number)."""
    latest = ObjectiveProgress.objects.filter(objective=OuterRef("pk")).order_by("-date", "-id")
    rows: QuerySet[Objective] = (
        Objective.objects.for_org(organization)
        .select_related("owner", "policy")
        .annotate(
            latest_value_annotated=Subquery(latest.values("value")[:1]),
            latest_date=Subquery(latest.values("date")[:1]),
            progress_count=Count("progress", distinct=True),
        )
        .order_by("due_date", "title", "id")
    )
    return rows


def competence_record_list(organization: Organization) -> QuerySet[CompetenceRecord]:
    return CompetenceRecord.objects.for_org(organization).select_related("member").order_by("-date_completed", "-id")


def competence_overview(organization: Organization, today: date | None = None) -> QuerySet[Membership]:
    """Every member with counts of their records by type, what has expired, and their last awareness session."""
    today = today or timezone.localdate()
    records = CompetenceRecord.objects.for_org(organization).filter(member=OuterRef("user_id"))

    def count(**filters: Any) -> Subquery:
        return Subquery(
            records.filter(**filters).order_by().values("member").annotate(n=Count("id")).values("n")[:1],
            output_field=IntegerField(),
        )

    kinds = CompetenceRecord.Kind
    rows: QuerySet[Membership] = (
        Membership.objects.for_org(organization)
        .select_related("user")
        .annotate(
            training_count=count(kind=kinds.TRAINING),
            qualification_count=count(kind=kinds.QUALIFICATION),
            awareness_count=count(kind=kinds.AWARENESS),
            experience_count=count(kind=kinds.EXPERIENCE),
            expired_count=count(valid_until__lt=today),
            expiring_count=count(valid_until__gte=today, valid_until__lte=today + timedelta(REVIEW_NOTICE_DAYS)),
            last_awareness=Subquery(
                records.filter(kind=kinds.AWARENESS).order_by("-date_completed").values("date_completed")[:1]
            ),
        )
        .order_by("user__email")
    )
    return rows


def governance_tiles(organization: Organization) -> list[Tile]:
    """Dashboard tiles: approved AI policy, policies due for review, objectives at risk (two queries)."""
    today = timezone.localdate()
    in_force = PolicyVersion.objects.filter(policy=OuterRef("pk"), status=Status.APPROVED)
    policies = Policy.objects.for_org(organization).annotate(in_force=Exists(in_force))
    counts = policies.aggregate(
        ai_policy=Count("id", filter=Q(kind=Policy.Kind.AI_POLICY, in_force=True)),
        due=Count("id", filter=Q(in_force=True, next_review_date__lte=today + timedelta(REVIEW_NOTICE_DAYS))),
        overdue=Count("id", filter=Q(in_force=True, next_review_date__lt=today)),
    )
    objectives = Objective.objects.for_org(organization).aggregate(
        at_risk=Count("id", filter=Q(status=Objective.Status.AT_RISK)),
        overdue=Count("id", filter=Q(due_date__lt=today) & ~Q(status__in=Objective.CLOSED)),
    )
    policies_url = reverse("governance:policies")
    return [
        Tile(
            gettext("Approved AI policy"),
            gettext("Yes") if counts["ai_policy"] else gettext("No"),
            gettext("in force (5.2)") if counts["ai_policy"] else gettext("none approved yet (5.2)"),
            policies_url,
            order=20,
            attention=not counts["ai_policy"],
        ),
        Tile(
            gettext("Policies due for review"),
            counts["due"],
            gettext("%(count)s overdue") % {"count": counts["overdue"]}
            if counts["overdue"]
            else gettext("within %(days)s days") % {"days": REVIEW_NOTICE_DAYS},
            f"{policies_url}?review_due=true",
            21,
            attention=counts["overdue"] > 0,
        ),
        Tile(
            gettext("Objectives at risk"),
            objectives["at_risk"],
            gettext("%(count)s past their due date") % {"count": objectives["overdue"]},
            f"{reverse('governance:objectives')}?status=at_risk",
            22,
            attention=objectives["at_risk"] > 0,
        ),
    ]


def governance_setup_steps(organization: Organization) -> list[SetupStep]:
    """First-run steps of clauses 4 and 5: scope and context, the AI policy, the AIMS roles."""
    from aims.governance.models import AIMSScope, ContextIssue, OrgRole, Policy, PolicyVersion

    scope = AIMSScope.objects.for_org(organization).first()
    has_scope = scope is not None and bool(scope.statement.strip())
    issues = ContextIssue.objects.for_org(organization).count()
    approved_policy = (
        Policy.objects.for_org(organization)
        .filter(kind=Policy.Kind.AI_POLICY, versions__status=PolicyVersion.Status.APPROVED)
        .exists()
    )
    roles = OrgRole.objects.for_org(organization).count()
    context_progress = ", ".join(
        part
        for part in (
            gettext("scope statement recorded") if has_scope else gettext("no scope statement yet"),
            gettext("%(count)s issue(s)") % {"count": issues},
        )
        if part
    )
    return [
        SetupStep(10, gettext("Define the scope and context of the AIMS"),
                  gettext("Which AI activities, sites and systems the management system covers, and the internal "
                          "and external issues that shape it (clauses 4.1 to 4.3)."),
                  has_scope and issues > 0, reverse("governance:scope"), gettext("Record the scope"),
                  context_progress, reverse("governance:context"), gettext("Record context issues")),
        SetupStep(20, gettext("Approve an AI policy"),
                  gettext("Top management's commitment and the principles for developing and using AI (clause 5.2)."),
                  approved_policy, reverse("governance:policies"), gettext("Write the policy"),
                  gettext("approved") if approved_policy else gettext("no approved AI policy yet")),
        SetupStep(30, gettext("Assign AIMS roles and responsibilities"),
                  gettext("Who runs the management system, who reports on it, who may approve (clause 5.3)."),
                  roles > 0, reverse("governance:roles"), gettext("Assign roles"),
                  gettext("%(count)s role(s) recorded") % {"count": roles}),
    ]  # fmt: skip


def governance_work(tenant: Tenant, today: date) -> list[WorkItem]:
    """My work in the AIMS section: policy versions to approve (written by someone else), reviews
    of my policies and my objectives coming due."""
    from aims.governance.models import Objective, Policy, PolicyVersion
    from aims.roles import Capability

    user, organization, until = tenant.user, tenant.organization, horizon(today)
    items = []
    if tenant.can(Capability.APPROVE):
        in_review = (
            PolicyVersion.objects.for_org(organization)
            .filter(status=PolicyVersion.Status.IN_REVIEW)
            .exclude(author=user)
            .select_related("policy")
        )
        items += [
            WorkItem(gettext("AIMS"), gettext("Approve a policy version"),
                     gettext("%(policy)s, version %(number)s") % {"policy": v.policy.title, "number": v.number},
                     reverse("governance:version_detail", args=[v.policy_id, v.pk]))
            for v in in_review.order_by("pk")[:WORK_LIMIT]
        ]  # fmt: skip
    in_force = Exists(PolicyVersion.objects.filter(policy=OuterRef("pk"), status=PolicyVersion.Status.APPROVED))
    policies = Policy.objects.for_org(organization).filter(in_force, owner=user, next_review_date__lte=until)
    items += [
        WorkItem(gettext("AIMS"), gettext("Policy review"), p.title, reverse("governance:policy_detail", args=[p.pk]),
                 "", p.next_review_date)
        for p in policies.order_by("next_review_date", "pk")[:WORK_LIMIT]
    ]  # fmt: skip
    objectives = (
        Objective.objects.for_org(organization)
        .filter(owner=user, due_date__lte=until)
        .exclude(status__in=Objective.CLOSED)
    )
    items += [
        WorkItem(
            gettext("AIMS"),
            gettext("Objective"),
            o.title,
            reverse("governance:objective_detail", args=[o.pk]),
            "",
            o.due_date,
        )
        for o in objectives.order_by("due_date", "pk")[:WORK_LIMIT]
    ]
    return items
