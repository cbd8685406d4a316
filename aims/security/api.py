"""API: the organisation's security log, read only (``view_security_log``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from aims.api.base import SelectorQuerysetMixin
from aims.roles import Capability
from aims.security.forms import SecurityEventFilter
from aims.security.models import SecurityEvent
from aims.security.selectors import security_event_list


class _Person(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()


class SecurityEventSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    user = _Person(read_only=True, allow_null=True)
    actor = _Person(read_only=True, allow_null=True)

    class Meta:
        model = SecurityEvent
        fields = [
            "id",
            "kind",
            "kind_display",
            "organization",
            "user",
            "email",
            "actor",
            "ip_address",
            "user_agent",
            "details",
            "created_at",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="The security log",
        description="The organisation's events and the sign-in and MFA events of its members, newest first. "
        "Events are never changed or deleted.",
    ),
    retrieve=extend_schema(summary="One security event"),
)
class SecurityEventViewSet(SelectorQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = SecurityEvent.objects.all()
    selector = staticmethod(security_event_list)
    serializer_class = SecurityEventSerializer
    filterset_class = SecurityEventFilter
    read_capability = Capability.VIEW_SECURITY_LOG
    ordering_fields = ["created_at"]
    search_fields = ["email", "user__email", "actor__email"]
