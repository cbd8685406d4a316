"""The registry app: registers the inventory's dashboard panel and demo data."""

from __future__ import annotations

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "AI system inventory"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy

        from aims import autocomplete, dashboard, demo, setup, work
        from aims.summaries import invalidate_on
        from aims.templatetags.url_cache import cached_reverse
        from registry.demo import inventory_demo_seed
        from registry.models import AISystem, Dataset
        from registry.monitoring.demo import monitoring_demo_seed
        from registry.monitoring.views import monitoring_tiles
        from registry.selectors import (
            SYSTEMS_SCOPE,
            inventory_panels,
            inventory_setup_steps,
            inventory_tiles,
            inventory_work,
        )
        from registry.system_tabs import register_inventory_tabs

        register_inventory_tabs()
        setup.register(inventory_setup_steps)
        work.register(inventory_work)

        invalidate_on(AISystem, scope=SYSTEMS_SCOPE)
        autocomplete.register(
            autocomplete.Source(
                "systems",
                AISystem,
                lambda tenant: AISystem.objects.for_org(tenant.organization),
                ("ref_code", "name"),
                search_heading=gettext_lazy("AI systems"),
                url=lambda system: cached_reverse("inventory:system_detail", [system.pk]),
                list_url_name="inventory:system_list",
            )
        )
        autocomplete.register(
            autocomplete.Source(
                "datasets", Dataset, lambda tenant: Dataset.objects.for_org(tenant.organization), ("name",)
            )
        )
        from registry.models import RoleAssignment

        # Cached until a write to what they read; monitoring tiles follow the clock and are not.
        dashboard.register(inventory_tiles, reads=(AISystem, RoleAssignment))
        dashboard.register_panels(inventory_panels, reads=(AISystem,))
        demo.register(inventory_demo_seed)
        dashboard.register(monitoring_tiles)
        demo.register(monitoring_demo_seed)
