"""Catalogue browser pages (included at ``controls/``) and the landing pages of modules (at the root)."""

from __future__ import annotations

from django.urls import path

from controls.catalogue import views

app_name = "catalogue"

urlpatterns = [
    path("catalogue/", views.CatalogueView.as_view(), name="frameworks"),
    path("catalogue/<slug:code>/", views.FrameworkView.as_view(), name="framework"),
    path("catalogue/<slug:code>/<path:ref>/", views.RequirementView.as_view(), name="requirement"),
]

module_urlpatterns = [
    path(f"{name.replace('_', '-')}/", views.ModuleView.as_view(module=name), name=name) for name in views.MODULES
]
