from django.urls import path

from controls import soa_views, views

urlpatterns = [
    path("soa/", soa_views.SoAView.as_view(), name="soa"),
    path("soa/versions/", soa_views.SoAVersionsView.as_view(), name="soa_versions"),
    path("soa/versions/<int:number>/", soa_views.SoAVersionView.as_view(), name="soa_version"),
    path("soa/export/<str:fmt>/", soa_views.SoAExportView.as_view(), name="soa_export"),
    path("soa/<str:ref>/", soa_views.SoAControlView.as_view(), name="soa_control"),
    path("soa/<str:ref>/edit/", soa_views.SoARowEditView.as_view(), name="soa_row_edit"),
    path("readiness/", soa_views.ReadinessView.as_view(), name="readiness"),
    path("catalogue/", views.CatalogueView.as_view(), name="catalogue"),
    path("catalogue/<slug:code>/", views.FrameworkView.as_view(), name="catalogue_framework"),
    path("catalogue/<slug:code>/<path:ref>/", views.RequirementView.as_view(), name="catalogue_requirement"),
]

module_urlpatterns = [
    path(f"{name.replace('_', '-')}/", views.ModuleView.as_view(module=name), name=name) for name in views.MODULES
]
