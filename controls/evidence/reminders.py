"""Reminders by e-mail: evidence about to expire (or just expired) and SoA rows past their target date.

Each item is reminded once per period; a :class:`~controls.evidence.models.Reminder` row records
what was sent, so a retried or doubled run sends nothing twice.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from aims.i18n import recipient_language
from aims.links import absolute_url
from aims.selectors import reminder_recipients
from controls.evidence.models import Evidence, Reminder
from controls.evidence.selectors import CONTROL_FRAMEWORK, expiring_days
from controls.soa.models import ApplicabilityStatement, ImplementationStatus

logger = logging.getLogger(__name__)

REMINDER_EVIDENCE_EXPIRY = "evidence_expiry"
REMINDER_SOA_TARGET = "soa_target"
# Evidence that expired up to this many days ago is still reminded about once (a missed daily
# run, evidence recorded already expired); older expiries show on the list, not by e-mail.
JUST_EXPIRED_DAYS = 7

Remindable = Evidence | ApplicabilityStatement


def _remind_once(*, item: Remindable, kind: str, period: date, recipients: list[str], subject: str, body: str) -> bool:
    """Record the reminder and send it in one transaction: if sending fails, the next run tries again."""
    try:
        with transaction.atomic():
            reminder = Reminder(organization_id=item.organization_id, kind=kind, object_id=item.pk,
                                period=period.isoformat(), sent_to=recipients[0])  # fmt: skip
            # The unique constraint is the guard against two runs at once; it is enforced by the insert.
            reminder.full_clean(validate_unique=False, validate_constraints=False)
            reminder.save()
            send_mail(subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=recipients)
    except IntegrityError:
        return False
    return True


def reminders_send(today: date | None = None) -> int:
    """E-mail owners about evidence about to expire (or just expired) and SoA rows past their target date.

    Each item is reminded once per period (the ``valid_until`` or ``target_date`` reminded
    about): a changed date opens a new period. Without an owner who is still a member, the
    organisation's admins and officers are told. Returns the number of e-mails sent.
    """
    today = today or timezone.localdate()
    horizon = today + timedelta(days=expiring_days())
    evidence: list[Remindable] = list(
        Evidence.objects.filter(
            valid_until__gte=today - timedelta(days=JUST_EXPIRED_DAYS), valid_until__lte=horizon
        ).select_related("organization", "owner")
    )
    rows: list[Remindable] = list(
        ApplicabilityStatement.objects.filter(applicable=True, target_date__lt=today)
        .exclude(implementation_status=ImplementationStatus.IMPLEMENTED)
        .select_related("organization", "control")
    )
    organizations = {i.organization_id for i in [*evidence, *rows]}
    done = set(
        Reminder.objects.filter(
            kind__in=[REMINDER_EVIDENCE_EXPIRY, REMINDER_SOA_TARGET], organization_id__in=organizations
        ).values_list("organization_id", "kind", "object_id", "period")
    )
    people = reminder_recipients(organizations)
    sent = 0
    for kind, items, date_field in (
        (REMINDER_EVIDENCE_EXPIRY, evidence, "valid_until"),
        (REMINDER_SOA_TARGET, rows, "target_date"),
    ):
        for item in items:
            period: date = getattr(item, date_field)
            if (item.organization_id, kind, item.pk, period.isoformat()) in done:
                continue
            members, fallback = people[item.organization_id]
            owner_email = members.get(item.owner_id) if item.owner_id is not None else None
            recipients = [owner_email] if owner_email else fallback
            if not recipients:
                logger.warning("No one to remind about %s #%s in organisation %s.", kind, item.pk, item.organization_id)
                continue
            with recipient_language(item.owner if owner_email else None, item.organization):
                subject, body = _reminder_message(item, period, today, addressed_to_owner=bool(owner_email))
            sent += _remind_once(item=item, kind=kind, period=period, recipients=recipients, subject=subject, body=body)
    return sent


def _reminder_message(item: Remindable, period: date, today: date, *, addressed_to_owner: bool) -> tuple[str, str]:
    """Subject and body about ``item``; ``period`` is the date reminded about (expiry or target date)."""
    context: dict[str, Any] = {
        "item": item, "today": today, "organization": item.organization, "to_owner": addressed_to_owner,
    }  # fmt: skip
    if isinstance(item, Evidence):
        days = (period - today).days
        context.update(
            days=days, expired=days < 0, days_ago=-days, link=absolute_url("evidence:detail", args=[item.pk])
        )
        names = {"organization": item.organization.name, "evidence": item.title, "days": days}
        if days < 0:
            subject = gettext("[%(organization)s] Evidence “%(evidence)s” has expired") % names
        elif days == 0:
            subject = gettext("[%(organization)s] Evidence “%(evidence)s” expires today") % names
        else:
            subject = (
                ngettext(
                    "[%(organization)s] Evidence “%(evidence)s” expires in %(days)s day",
                    "[%(organization)s] Evidence “%(evidence)s” expires in %(days)s days",
                    days,
                )
                % names
            )
        return subject, render_to_string("emails/reminder_evidence_expiry.txt", context)
    context.update(
        days_late=(today - period).days,
        link=absolute_url("soa:statement"),
        control_link=absolute_url("catalogue:requirement", args=[CONTROL_FRAMEWORK, item.control.ref]),
    )
    subject = gettext("[%(organization)s] Control %(control)s is past its target date") % {
        "organization": item.organization.name,
        "control": item.control.ref,
    }
    return subject, render_to_string("emails/reminder_soa_target.txt", context)
