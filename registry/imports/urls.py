from __future__ import annotations

from django.urls import path

from registry.imports import views as import_views

app_name = "imports"

urlpatterns = [
    path("import/", import_views.InventoryImportView.as_view(), name="upload"),
    path("import/confirm/", import_views.InventoryImportConfirmView.as_view(), name="confirm"),
    path("export/<str:fmt>/", import_views.InventoryExportView.as_view(), name="export"),
]
