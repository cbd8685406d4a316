"""URLs of collaboration: writes under ``collaboration/``, the member's list at ``notifications/``."""

from __future__ import annotations

from django.urls import path

from aims.collaboration import views

urlpatterns = [
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("notifications/count/", views.NotificationCountView.as_view(), name="notification_count"),
    path(
        "collaboration/records/<str:record>/<int:pk>/comments/",
        views.CommentCreateView.as_view(),
        name="comment_create",
    ),
    path("collaboration/records/<str:record>/<int:pk>/tasks/", views.TaskCreateView.as_view(), name="task_create"),
    path("collaboration/comments/<int:pk>/remove/", views.CommentRemoveView.as_view(), name="comment_remove"),
    path("collaboration/tasks/<int:pk>/done/", views.TaskDoneView.as_view(), name="task_done"),
    path("collaboration/notifications/<int:pk>/read/", views.NotificationReadView.as_view(), name="notification_read"),
    path(
        "collaboration/notifications/read-all/",
        views.NotificationReadAllView.as_view(),
        name="notifications_read_all",
    ),
    path("collaboration/preferences/", views.PreferenceView.as_view(), name="notification_preferences"),
]
