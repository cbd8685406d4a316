"""Inventory pages, included by the project at ``inventory/``."""

from __future__ import annotations

from django.urls import path

from registry import views

app_name = "inventory"

urlpatterns = [
    path("", views.SystemListView.as_view(), name="system_list"),
    path("systems/new/", views.SystemCreateView.as_view(), name="system_create"),
    path("systems/<int:pk>/", views.SystemDetailView.as_view(tab="overview"), name="system_detail"),
    path("systems/<int:pk>/models/", views.SystemDetailView.as_view(tab="models"), name="system_models"),
    path("systems/<int:pk>/suppliers/", views.SystemDetailView.as_view(tab="suppliers"), name="system_suppliers"),
    path("systems/<int:pk>/responsibilities/", views.SystemDetailView.as_view(tab="raci"), name="system_raci"),
    path("systems/<int:pk>/history/", views.SystemDetailView.as_view(tab="history"), name="system_history"),
    path("systems/<int:pk>/edit/", views.SystemUpdateView.as_view(), name="system_update"),
    path("systems/<int:pk>/delete/", views.SystemDeleteView.as_view(), name="system_delete"),
    path("systems/<int:pk>/links/", views.SystemLinkView.as_view(), name="system_link"),
    path(
        "systems/<int:pk>/links/<str:kind>/<int:link_pk>/remove/",
        views.SystemUnlinkView.as_view(),
        name="system_unlink",
    ),
    path("models/", views.ModelListView.as_view(), name="model_list"),
    path("models/new/", views.ModelCreateView.as_view(), name="model_create"),
    path("models/<int:pk>/", views.ModelDetailView.as_view(), name="model_detail"),
    path("models/<int:pk>/edit/", views.ModelUpdateView.as_view(), name="model_update"),
    path("models/<int:pk>/datasets/", views.ModelDatasetView.as_view(), name="model_dataset_link"),
    path(
        "models/<int:pk>/datasets/<int:link_pk>/remove/",
        views.ModelDatasetRemoveView.as_view(),
        name="model_dataset_unlink",
    ),
    path("datasets/", views.DatasetListView.as_view(), name="dataset_list"),
    path("datasets/new/", views.DatasetCreateView.as_view(), name="dataset_create"),
    path("datasets/<int:pk>/", views.DatasetDetailView.as_view(), name="dataset_detail"),
    path("datasets/<int:pk>/edit/", views.DatasetUpdateView.as_view(), name="dataset_update"),
    path("suppliers/", views.SupplierListView.as_view(), name="supplier_list"),
    path("suppliers/new/", views.SupplierCreateView.as_view(), name="supplier_create"),
    path("suppliers/<int:pk>/", views.SupplierDetailView.as_view(), name="supplier_detail"),
    path("suppliers/<int:pk>/edit/", views.SupplierUpdateView.as_view(), name="supplier_update"),
]
