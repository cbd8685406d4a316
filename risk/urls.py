from django.urls import path

from risk import views

urlpatterns = [
    path("", views.RiskListView.as_view(), name="risks"),
    path("new/", views.RiskFormView.as_view(), name="risk_create"),
    path("criteria/", views.CriteriaView.as_view(), name="risk_criteria"),
    path("<int:pk>/", views.RiskDetailView.as_view(), name="risk_detail"),
    path("<int:pk>/edit/", views.RiskFormView.as_view(), name="risk_update"),
    path("<int:pk>/delete/", views.RiskDeleteView.as_view(), name="risk_delete"),
    path("<int:pk>/accept/", views.RiskAcceptView.as_view(), name="risk_accept"),
    path("<int:pk>/treatments/new/", views.TreatmentFormView.as_view(), name="treatment_create"),
    path("<int:pk>/treatments/<int:treatment_pk>/edit/", views.TreatmentFormView.as_view(), name="treatment_update"),
    path(
        "<int:pk>/treatments/<int:treatment_pk>/delete/", views.TreatmentDeleteView.as_view(), name="treatment_delete"
    ),
]
