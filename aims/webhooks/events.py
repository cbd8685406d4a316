"""Webhook events derived from the history of tracked records.

Every save and delete of a tracked record writes a history row, and simple-history announces
it (``post_create_historical_record``). A record of the catalogue (:mod:`aims.webhooks.catalogue`)
whose organisation has an endpoint listening becomes one delivery per endpoint, written in the
same transaction: a change that is rolled back is never announced.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from simple_history.signals import post_create_historical_record

from aims.webhooks import selectors, services
from aims.webhooks.catalogue import ACTIONS, resource_for

# Bookkeeping columns that change on every save tell a receiver nothing.
UNANNOUNCED_FIELDS = {"id", "organization", "updated_at", "created_at", "version", "key_hash"}


def _changed_fields(history_instance: Any) -> list[str]:
    previous = history_instance.prev_record
    if previous is None:
        return []
    delta = history_instance.diff_against(previous)
    return sorted(change.field for change in delta.changes if change.field not in UNANNOUNCED_FIELDS)


@receiver(post_create_historical_record, dispatch_uid="webhooks.record_changed")
def record_changed(sender: Any, instance: Any, history_instance: Any, **kwargs: Any) -> None:
    resource = resource_for(instance._meta.label)
    organization_id = getattr(history_instance, "organization_id", None)
    if resource is None or organization_id is None:
        return
    action = ACTIONS.get(history_instance.history_type)
    if action is None:
        return
    event_type = f"{resource.name}.{action}"
    found = selectors.listeners(organization_id)
    endpoint_ids = found.for_event(event_type)
    if not endpoint_ids:
        return
    path = None if action == "deleted" else resource.path(history_instance)
    data: dict[str, Any] = {"id": history_instance.id}
    reference = getattr(history_instance, "ref_code", None)
    if reference:
        data["reference"] = reference
    data.update(
        {
            "organization": found.organization_slug,
            "url": services.absolute(path) if path else None,
            "changed_fields": _changed_fields(history_instance) if action == "updated" else [],
        }
    )
    services.event_announce(
        organization_id=organization_id,
        endpoint_ids=endpoint_ids,
        event_type=event_type,
        data=data,
        occurred_at=history_instance.history_date,
    )
