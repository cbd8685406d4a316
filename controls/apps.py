"""The controls app: the catalogue, the Statement of Applicability, evidence and readiness."""

from __future__ import annotations

from django.apps import AppConfig


class ControlsConfig(AppConfig):
    name = "controls"
    verbose_name = "Controls and catalogue"

    def ready(self) -> None:
        from django.utils.translation import gettext, gettext_lazy

        # Imported once the apps are loaded: these modules read models.
        from aims import autocomplete, dashboard, demo
        from aims.summaries import invalidate_on
        from aims.templatetags.url_cache import cached_reverse
        from controls import readiness
        from controls.catalogue.models import Requirement
        from controls.catalogue.selectors import catalogue_tiles
        from controls.catalogue.views import register_framework_context
        from controls.models import Evidence
        from controls.readiness import readiness_tiles
        from controls.soa import selectors as soa_selectors
        from controls.soa.demo import soa_demo_seed
        from controls.soa.selectors import CONTROL_RISKS_SCOPE
        from controls.soa.views import framework_coverage_context
        from registry import system_tabs
        from risk.models import Risk, TreatmentAction, TreatmentControl

        system_tabs.register(
            system_tabs.SystemTab(
                "controls",
                # Lazy: the tab is registered once and named in each reader's language.
                gettext_lazy("Controls and evidence"),
                "soa:system_controls",
                70,
                soa_selectors.system_control_records,
            )
        )

        # The catalogue is the same for every organisation: nothing to narrow.
        autocomplete.register(
            autocomplete.Source(
                "controls",
                Requirement,
                lambda tenant: Requirement.objects.select_related("framework"),
                ("ref", "title"),
                search_heading=gettext_lazy("Controls and requirements"),
                url=lambda row: cached_reverse("catalogue:requirement", [row.framework.code, row.ref]),
            )
        )
        autocomplete.register(
            autocomplete.Source(
                "evidence",
                Evidence,
                lambda tenant: Evidence.objects.for_org(tenant.organization),
                ("title",),
                search_heading=gettext_lazy("Evidence"),
                url=lambda evidence: cached_reverse("evidence:detail", [evidence.pk]),
                list_url_name="evidence:list",
            )
        )
        dashboard.register(catalogue_tiles)
        from aims import setup, work
        from controls.soa.selectors import controls_work, soa_setup_steps

        dashboard.register(readiness_tiles)
        setup.register(soa_setup_steps)
        work.register(controls_work)
        invalidate_on(*readiness.ANNEX_READS, scope=readiness.ANNEX_SCOPE)
        invalidate_on(TreatmentAction, TreatmentControl, scope=CONTROL_RISKS_SCOPE)
        invalidate_on(Risk, scope=CONTROL_RISKS_SCOPE, on_create=False)
        demo.register(soa_demo_seed)
        register_framework_context(framework_coverage_context)

        from django.urls import reverse

        from aims.collaboration import registry as discussion
        from controls.soa.models import ApplicabilityStatement

        # A control's SoA row has its page by the control's reference.
        discussion.register(
            ApplicabilityStatement,
            url=lambda row: reverse("soa:control", args=[row.control.ref]),
            label=lambda row: gettext("SoA row %(ref)s %(title)s")
            % {"ref": row.control.ref, "title": row.control.title},
            select_related=("control",),
        )
        discussion.register(
            Evidence,
            url=lambda evidence: reverse("evidence:detail", args=[evidence.pk]),
            label=lambda evidence: gettext("evidence %(title)s") % {"title": evidence},
        )
