"""Webhook pages, included at ``organisation/webhooks/``."""

from __future__ import annotations

from django.urls import path

from aims.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.EndpointListView.as_view(), name="list"),
    path("new/", views.EndpointCreateView.as_view(), name="create"),
    path("<int:pk>/", views.EndpointDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.EndpointEditView.as_view(), name="edit"),
    path("<int:pk>/test/", views.EndpointActionView.as_view(action="test"), name="test"),
    path("<int:pk>/rotate-secret/", views.EndpointActionView.as_view(action="rotate"), name="rotate"),
    path("<int:pk>/delete/", views.EndpointActionView.as_view(action="delete"), name="delete"),
    path("<int:pk>/deliveries/<int:delivery_pk>/", views.DeliveryDetailView.as_view(), name="delivery"),
    path(
        "<int:pk>/deliveries/<int:delivery_pk>/redeliver/",
        views.DeliveryRedeliverView.as_view(),
        name="redeliver",
    ),
]
