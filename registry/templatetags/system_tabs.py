"""``{% system_tab_list system as tabs %}``: the tab bar of an AI system's page (registry.system_tabs)."""

from __future__ import annotations

from django import template

from registry import system_tabs
from registry.models import AISystem

register = template.Library()


@register.simple_tag
def system_tab_list(system: AISystem) -> list[system_tabs.ShownTab]:
    # The page found the system in the request's organisation (registry.selectors.system_detail).
    return system_tabs.system_tabs(system.organization, system)
