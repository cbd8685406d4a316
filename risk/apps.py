"""The risk app: risk register, criteria and treatments, and AI system impact assessments."""

from __future__ import annotations

from typing import cast

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskConfig(AppConfig):
    name = "risk"
    verbose_name = _("Risk and impact")

    def ready(self) -> None:
        from django.utils.translation import gettext, gettext_lazy

        # Imported here, not at the top: these modules use the models, which are not loaded yet.
        from aims import autocomplete, dashboard, demo
        from aims.summaries import invalidate_on
        from aims.templatetags.url_cache import cached_reverse
        from registry.models import AISystem
        from risk.demo import risk_demo_seed
        from risk.impact.demo import impact_demo_seed
        from risk.impact.models import ImpactAssessment
        from risk.models import Risk, RiskCriteria, TreatmentAction
        from risk.selectors import IMPACT_TILES_SCOPE, risk_tiles

        autocomplete.register(
            autocomplete.Source(
                "risks",
                Risk,
                lambda tenant: Risk.objects.for_org(tenant.organization),
                ("ref_code", "title"),
                search_heading=gettext_lazy("Risks"),
                url=lambda risk: cached_reverse("risk:detail", [risk.pk]),
                list_url_name="risk:list",
            )
        )
        from aims import setup, work
        from registry import system_tabs
        from risk.impact.selectors import system_assessment_records
        from risk.selectors import risk_setup_steps, risk_work, system_risk_records

        # The tabs' labels are read when a page shows them, in the reader's language (lazy texts).
        system_tabs.register(
            system_tabs.SystemTab(
                "risks", cast(str, gettext_lazy("Risks")), "risk:system_risks", 50, system_risk_records
            )
        )
        system_tabs.register(
            system_tabs.SystemTab(
                "impact",
                cast(str, gettext_lazy("Impact assessments")),
                "impact:system_assessments",
                60,
                system_assessment_records,
            )
        )
        dashboard.register(risk_tiles)
        setup.register(risk_setup_steps)
        work.register(risk_work)
        # What the cached heat maps, register count and tiles read (risk.selectors): a saved or
        # deleted row of these makes them stale. AI systems count in "systems without approved
        # impact assessment".
        invalidate_on(Risk, TreatmentAction, RiskCriteria, ImpactAssessment, AISystem)
        invalidate_on(ImpactAssessment, AISystem, scope=IMPACT_TILES_SCOPE)
        demo.register(risk_demo_seed)
        # After the register's demo: an assessment's harm is linked to one of its risks.
        demo.register(impact_demo_seed)

        from django.urls import reverse

        from aims.collaboration import registry as discussion

        discussion.register(
            Risk,
            url=lambda risk: reverse("risk:detail", args=[risk.pk]),
            label=lambda r: gettext("risk %(risk)s") % {"risk": r},
        )
        discussion.register(
            ImpactAssessment,
            url=lambda assessment: reverse("impact:detail", args=[assessment.pk]),
            label=lambda assessment: gettext("impact assessment %(assessment)s") % {"assessment": assessment},
        )
        from aims.collaboration.demo import discussion_demo_seed

        # After the register's demo: the demo discussion is about one of its risks.
        demo.register(discussion_demo_seed)
