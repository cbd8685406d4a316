"""The catalogue of webhook events: the one place that says which records are announced, and how.

An event is named ``<resource>.<action>`` (``risk.created``, ``risk.updated``, ``risk.deleted``).
Events are derived from the history that every tracked record writes
(:mod:`aims.webhooks.events`), so the modules that own the records need no code for them.
Records are named here by their model label and URL name, never imported: the core reads
nothing of the modules above it. ``docs/webhooks.md`` lists the same catalogue for integrators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTIONS = {"+": "created", "~": "updated", "-": "deleted"}
# Sent only by the "Send test event" button, to whichever events the endpoint chose.
TEST_EVENT = "webhook.test"


@dataclass(frozen=True)
class Resource:
    name: str  # the event prefix, "risk"
    model_label: str  # the tracked model, "risk.Risk"
    label: Promise | str
    url_name: str
    # Which attribute of the record the page's URL takes ("id" for most; the risk for a treatment).
    url_arg: str | None = "id"

    def path(self, record: Any) -> str | None:
        """The path of the record's page (or the page that shows it); None when there is none."""
        args = [getattr(record, self.url_arg)] if self.url_arg else []
        try:
            return reverse(self.url_name, args=args)
        except NoReverseMatch:
            return None

    def event_types(self) -> list[str]:
        return [f"{self.name}.{action}" for action in ACTIONS.values()]


RESOURCES: tuple[Resource, ...] = (
    Resource("system", "registry.AISystem", _("AI systems"), "inventory:system_detail"),
    Resource("model", "registry.AIModel", _("Models"), "inventory:model_detail"),
    Resource("risk", "risk.Risk", _("Risks"), "risk:detail"),
    Resource("treatment", "risk.TreatmentAction", _("Risk treatments"), "risk:detail", "risk_id"),
    Resource("soa_version", "controls.SoAVersion", _("Statement of Applicability versions"), "soa:version", "number"),
    Resource("evidence", "controls.Evidence", _("Evidence"), "evidence:detail"),
    Resource("alert", "registry.MonitoringAlert", _("Monitoring alerts"), "monitoring:system", "system_id"),
    Resource("incident", "audits.Incident", _("Incidents"), "audits:incident_detail"),
    Resource("finding", "audits.Finding", _("Audit findings"), "audits:finding_detail"),
    Resource("corrective_action", "audits.CorrectiveAction", _("Corrective actions"), "audits:ca_detail"),
    Resource("pack", "audits.EvidencePack", _("Evidence packs"), "packs:detail"),
    Resource("membership", "aims.Membership", _("Memberships"), "members", None),
)

RESOURCE_BY_MODEL: dict[str, Resource] = {resource.model_label: resource for resource in RESOURCES}
EVENT_TYPES: tuple[str, ...] = tuple(event for resource in RESOURCES for event in resource.event_types())

ACTION_LABELS = {"created": _("created"), "updated": _("updated"), "deleted": _("deleted")}


def event_choices() -> list[tuple[Any, list[tuple[str, Any]]]]:
    """The catalogue as grouped choices for the endpoint form: one group per kind of record."""
    return [
        (resource.label, [(event, f"{event} ({ACTION_LABELS[event.rsplit('.', 1)[1]]})") for event in events])
        for resource in RESOURCES
        for events in [resource.event_types()]
    ]


def resource_for(model_label: str) -> Resource | None:
    return RESOURCE_BY_MODEL.get(model_label)
