from __future__ import annotations

from django.db.models import Count, QuerySet

from aims.models import Organization
from audits.models import EvidencePack


def evidence_pack_list(organization: Organization) -> QuerySet[EvidencePack]:
    result: QuerySet[EvidencePack] = (
        EvidencePack.objects.for_org(organization)
        .select_related("requested_by", "system")
        .annotate(download_count=Count("downloads"))
        .prefetch_related("parts")
        .order_by("-created_at")
    )
    return result


def evidence_pack_get(organization: Organization, pk: int) -> EvidencePack:
    result: EvidencePack = (
        EvidencePack.objects.for_org(organization).select_related("requested_by", "system", "organization").get(pk=pk)
    )
    return result
