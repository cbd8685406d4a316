"""Readiness checks for clauses 9 and 10, answered by internal audits, reviews and corrective actions."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from audits.models import Audit, AuditProgramme, CorrectiveAction, Finding, ManagementReview, ReviewAction
from controls.readiness import Check


def improvement_checks(organization) -> list[Check]:
    today = timezone.localdate()
    year_ago = today - timedelta(days=365)
    audits_url, ca_url = reverse("audits:home"), reverse("audits:ca_list")
    audited = Audit.objects.for_org(organization).filter(status=Audit.Status.CLOSED, actual_end__gte=year_ago)
    reviewed = ManagementReview.objects.for_org(organization).filter(held_on__gte=year_ago, held_on__lte=today)
    actions = CorrectiveAction.objects.for_org(organization)
    overdue = actions.overdue(today).count()
    nonconformities = Finding.objects.for_org(organization).filter(kind__in=Finding.NONCONFORMITIES)
    without_action = nonconformities.exclude(Exists(CorrectiveAction.objects.filter(finding=OuterRef("pk")))).count()
    review_actions = ReviewAction.objects.for_org(organization)
    late_review_actions = review_actions.filter(status__in=ReviewAction.UNFINISHED, due_date__lt=today).count()
    programme_planned = AuditProgramme.objects.for_org(organization).filter(year=today.year).exists()
    return [
        Check("9.2", gettext("An internal audit programme is planned for %(year)s") % {"year": today.year},
              programme_planned, "", audits_url),
        Check("9.2", gettext("An internal audit was completed in the last twelve months"), audited.exists(), "",
              audits_url),
        Check("9.3", gettext("A management review was held in the last twelve months"), reviewed.exists(), "",
              reverse("audits:review_list")),
        Check.once(nonconformities.exists(), "10.2", gettext("Every nonconformity has a corrective action"),
                   without_action == 0, _count(gettext("%(count)s without one"), without_action),
                   f"{reverse('audits:finding_list')}?open_nc=true"),
        Check.once(actions.exists(), "10.2", gettext("No corrective action is overdue"), overdue == 0,
                   _count(gettext("%(count)s overdue"), overdue), f"{ca_url}?overdue=true"),
        Check.once(review_actions.exists(), "10.1", gettext("No management review action is overdue"),
                   late_review_actions == 0, _count(gettext("%(count)s overdue"), late_review_actions),
                   reverse("audits:review_list")),
    ]  # fmt: skip


def _count(text: str, count: int) -> str:
    """The check's detail: ``text`` with the count, or nothing when there is none."""
    return text % {"count": count} if count else ""
