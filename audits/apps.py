"""The audits app: registers its dashboard tiles, readiness checks and demo data."""

from __future__ import annotations

from typing import cast

from django.apps import AppConfig
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = _("Audits and evidence packs")

    def ready(self) -> None:
        from aims import dashboard, demo, setup, work
        from audits.improvement import selectors as improvement_selectors
        from audits.improvement.demo import alert_demo_seed, improvement_demo_seed
        from audits.improvement.readiness import improvement_checks
        from audits.improvement.selectors import audit_setup_steps, improvement_work
        from audits.improvement.services import improvement_tiles
        from audits.models import (
            Audit,
            AuditProgramme,
            CorrectiveAction,
            Finding,
            Incident,
            ManagementReview,
            ReviewAction,
        )
        from controls import readiness
        from registry import system_tabs

        # The tab labels are lazy: each page shows them in its reader's language.
        system_tabs.register(
            system_tabs.SystemTab(
                "incidents",
                cast(str, _("Incidents")),
                "audits:system_incidents",
                80,
                improvement_selectors.system_incident_records,
            )
        )
        system_tabs.register(
            system_tabs.SystemTab(
                "findings",
                cast(str, _("Findings and actions")),
                "audits:system_findings",
                90,
                improvement_selectors.system_finding_records,
            )
        )

        dashboard.register(improvement_tiles, reads=(Finding, CorrectiveAction, Incident, Audit))
        setup.register(audit_setup_steps)
        work.register(improvement_work)
        demo.register(improvement_demo_seed)
        demo.register(alert_demo_seed)
        readiness.register(
            improvement_checks,
            reads=(Audit, AuditProgramme, CorrectiveAction, Finding, ManagementReview, ReviewAction),
        )

        from django.urls import reverse

        from aims.collaboration import registry as discussion

        discussion.register(
            Finding,
            url=lambda finding: reverse("audits:finding_detail", args=[finding.pk]),
            label=lambda finding: gettext("finding %(finding)s") % {"finding": finding},
        )
        discussion.register(
            CorrectiveAction,
            url=lambda action: reverse("audits:ca_detail", args=[action.pk]),
            label=lambda action: gettext("corrective action %(action)s") % {"action": action},
        )
