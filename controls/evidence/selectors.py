"""Reads of the evidence library: lists, one piece of evidence, what it may be linked to, validity.

Every read a page or the API shows starts here, with a fixed number of queries whatever the
number of rows; writes are in :mod:`controls.evidence.services`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Case, Count, Exists, Model, OuterRef, Prefetch, Q, QuerySet, When
from django.utils import timezone
from django.utils.translation import gettext

from aims.models import Organization
from aims.references import names_by_reference, record_by_reference
from controls.catalogue.models import Requirement
from controls.evidence.models import Evidence, EvidenceDownload, EvidenceLink, EvidenceVersion
from registry.models import AISystem
from risk.models import ImpactAssessment, Risk, TreatmentAction

CONTROL_FRAMEWORK = "ISO42001"

TARGET_MODELS: dict[str, type[Model]] = {
    EvidenceLink.Target.CONTROL: Requirement,
    EvidenceLink.Target.SYSTEM: AISystem,
    EvidenceLink.Target.RISK: Risk,
    EvidenceLink.Target.TREATMENT: TreatmentAction,
    EvidenceLink.Target.ASSESSMENT: ImpactAssessment,
}


def expiring_days() -> int:
    """How many days before it expires evidence counts as "expiring" (and its owner is reminded)."""
    return int(settings.REMINDER_DAYS_BEFORE_EXPIRY)


def evidence_status_q(status: str, today: date | None = None) -> Q:
    """valid (beyond the reminder window or no expiry), expiring (within it) or expired."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=expiring_days())
    conditions: dict[str, Q] = {
        Evidence.Validity.VALID: Q(valid_until__isnull=True) | Q(valid_until__gt=horizon),
        Evidence.Validity.EXPIRING: Q(valid_until__gte=today, valid_until__lte=horizon),
        Evidence.Validity.EXPIRED: Q(valid_until__lt=today),
    }
    return conditions[status]


def evidence_validity(evidence: Evidence, today: date | None = None) -> str:
    """The :class:`Evidence.Validity` of one piece of evidence on ``today``."""
    if evidence.valid_until is None:
        return Evidence.Validity.VALID
    days = (evidence.valid_until - (today or timezone.localdate())).days
    if days < 0:
        return Evidence.Validity.EXPIRED
    return Evidence.Validity.EXPIRING if days <= expiring_days() else Evidence.Validity.VALID


def _link_queryset() -> QuerySet[EvidenceLink]:
    # Controls first, then what they are applied to, in the order of EvidenceLink.Target.
    order = Case(*(When(target=value, then=i) for i, value in enumerate(EvidenceLink.Target.values)))
    links = EvidenceLink.objects.select_related("control", "system", "risk", "treatment__risk", "assessment")
    return links.order_by(order, "control__order", "pk")


def _versions_queryset() -> QuerySet[EvidenceVersion]:
    return EvidenceVersion.objects.select_related("created_by").order_by("-number")


def evidence_list(organization: Organization) -> QuerySet[Evidence]:
    """Evidence with what the list shows, in a fixed number of queries whatever the number of rows."""
    evidence: QuerySet[Evidence] = (
        Evidence.objects.for_org(organization)
        .select_related("owner")
        .annotate(version_count=Count("versions"))
        .prefetch_related(
            Prefetch(
                "links",
                queryset=EvidenceLink.objects.filter(target=EvidenceLink.Target.CONTROL)
                .select_related("control")
                .order_by("control__order"),
                to_attr="control_links",
            )
        )
        .order_by("title", "pk")
    )
    return evidence


def system_evidence(organization: Organization, system: AISystem) -> QuerySet[Evidence]:
    """The evidence linked to one AI system, with the controls it supports (:func:`evidence_list`'s rows)."""
    linked = EvidenceLink.objects.filter(target=EvidenceLink.Target.SYSTEM, system=system, evidence=OuterRef("pk"))
    return evidence_list(organization).filter(Exists(linked))


def evidence_get(organization: Organization, pk: Any) -> Evidence:
    """One piece of evidence with its versions (and uploaders) and links; raises DoesNotExist."""
    evidence: Evidence = (
        Evidence.objects.for_org(organization)
        .select_related("owner")
        .prefetch_related(
            Prefetch("versions", queryset=_versions_queryset()), Prefetch("links", queryset=_link_queryset())
        )
        .get(pk=pk)
    )
    return evidence


DOWNLOADS_SHOWN = 20


def evidence_downloads(evidence: Evidence, limit: int = DOWNLOADS_SHOWN) -> list[EvidenceDownload]:
    """The latest downloads of any version of ``evidence``, newest first, in one query."""
    return list(
        EvidenceDownload.objects.filter(organization_id=evidence.organization_id, version__evidence=evidence)
        .select_related("user", "version")
        .order_by("-downloaded_at", "-pk")[:limit]
    )


def evidence_api_queryset(organization: Organization) -> QuerySet[Evidence]:
    """What the API answers: every row with its versions and links, two prefetches whatever the count."""
    return (
        Evidence.objects.for_org(organization)
        .select_related("owner")
        .prefetch_related(
            Prefetch("versions", queryset=_versions_queryset()), Prefetch("links", queryset=_link_queryset())
        )
        .order_by("title", "pk")
    )


def link_target_choices(organization: Organization, target: str) -> QuerySet[Any]:
    """The records of ``target`` that evidence of ``organization`` may support."""
    if target == EvidenceLink.Target.CONTROL:
        return Requirement.objects.of_framework(CONTROL_FRAMEWORK).controls().order_by("order")
    queryset: QuerySet[Any] = TARGET_MODELS[target]._default_manager.filter(organization=organization)
    if target == EvidenceLink.Target.TREATMENT:
        queryset = queryset.select_related("risk").order_by("risk__ref_code", "pk")
    elif target == EvidenceLink.Target.ASSESSMENT:
        queryset = queryset.order_by("system_id", "-version")
    return queryset


def link_target_get(organization: Organization, target: str, value: Any) -> Model:
    """Resolve the record a link points at; anything outside the organisation reads as unknown.

    ``value`` is the record's id, or its reference where it has one: a control's Annex A
    identifier (``A.6.2.4``), a system's or a risk's code.
    Raises ``ValidationError`` with ``target`` or ``id`` messages.
    """
    if target not in TARGET_MODELS:
        choices = ", ".join(EvidenceLink.Target.values)
        raise ValidationError({"target": gettext("Choose one of: %(choices)s.") % {"choices": choices}})
    label = EvidenceLink.Target(target).label
    text = str(value).strip() if value is not None else ""
    queryset = link_target_choices(organization, target)
    if names_by_reference(queryset, text):
        # A control by its identifier (A.6.2.4), a system or risk by its code (AIS-0001, RSK-0004).
        found = record_by_reference(queryset, text)
    else:
        found = queryset.filter(pk=int(text)).first() if text.isdigit() else None
    if found is None:
        if target == EvidenceLink.Target.CONTROL:
            message = gettext("No ISO/IEC 42001 Annex A control “%(text)s” in your organisation.") % {"text": text}
        else:
            message = gettext("No %(kind)s “%(text)s” in your organisation.") % {"kind": label.lower(), "text": text}
        raise ValidationError({"id": message})
    record: Model = found
    return record
