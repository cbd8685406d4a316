"""The core app: registers the governance dashboard tiles and demo data."""

from __future__ import annotations

from django.apps import AppConfig


class AimsConfig(AppConfig):
    name = "aims"
    verbose_name = "AI management system"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy

        from aims import (
            dashboard,
            demo,
            history,  # noqa: F401  (connects the activity feed's invalidation)
            setup,
            work,
        )
        from aims.governance.demo import governance_demo_seed
        from aims.governance.models import Objective, Policy, PolicyVersion
        from aims.governance.selectors import governance_setup_steps, governance_tiles, governance_work
        from aims.identity import signals as identity_signals  # noqa: F401  (security policy in the session)
        from aims.security import signals  # noqa: F401  (connects the sign-in receivers)
        from aims.webhooks import events  # noqa: F401  (records' changes become webhook events)

        dashboard.register(governance_tiles, reads=(Policy, PolicyVersion, Objective))
        demo.register(governance_demo_seed)

        from aims.webhooks.demo import webhooks_demo_seed

        demo.register(webhooks_demo_seed)
        setup.register(governance_setup_steps)
        work.register(governance_work)

        from aims.collaboration.selectors import tasks_work

        work.register(tasks_work)

        from aims import autocomplete
        from aims.forms import member_label, members_of
        from aims.models import User
        from aims.templatetags.url_cache import cached_reverse

        autocomplete.register(
            autocomplete.Source("members", User, members_of, search_fields=("email", "full_name"), label=member_label)
        )
        autocomplete.register(
            autocomplete.Source(
                "policies",
                Policy,
                lambda tenant: Policy.objects.for_org(tenant.organization),
                ("title",),
                search_heading=gettext_lazy("Policies"),
                url=lambda policy: cached_reverse("governance:policy_detail", [policy.pk]),
                list_url_name="governance:policies",
            )
        )
