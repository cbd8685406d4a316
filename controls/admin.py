"""Administration of the control catalogues (reference data; tenant records are changed in the portal)."""

from __future__ import annotations

from django.contrib import admin

from controls.catalogue.models import Framework, Mapping, Requirement


@admin.register(Framework)
class FrameworkAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "version", "publisher"]


@admin.register(Requirement)
class RequirementAdmin(admin.ModelAdmin):
    list_display = ["ref", "title", "framework", "kind"]
    list_filter = ["framework", "kind"]
    search_fields = ["ref", "title"]


@admin.register(Mapping)
class MappingAdmin(admin.ModelAdmin):
    list_display = ["source", "relationship", "target"]
    list_select_related = ["source", "target"]
