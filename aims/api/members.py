"""API: the current organisation's members and invitations, and who the caller is."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from aims import services
from aims.api.base import TenantScopedMixin
from aims.models import Invitation, Membership
from aims.roles import ROLE_CAPABILITIES, Capability, Role


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True)
    full_name = serializers.CharField(read_only=True)


class MembershipSerializer(serializers.ModelSerializer):
    user = UserSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "created_at"]
        read_only_fields = ["id", "user", "created_at"]


class InvitationSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "status", "created_at", "expires_at", "sent_at", "accepted_at"]
        read_only_fields = fields


class MemberAddSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)


class MemberAddResultSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=["added", "invited"])
    membership = MembershipSerializer(required=False)
    invitation = InvitationSerializer(required=False)


class MembershipFilter(django_filters.FilterSet):
    class Meta:
        model = Membership
        fields = ["role"]


@extend_schema_view(
    list=extend_schema(summary="List the organisation's members"),
    retrieve=extend_schema(summary="One member"),
    partial_update=extend_schema(summary="Change a member's role"),
    destroy=extend_schema(summary="Remove a member (their API tokens are revoked)"),
)
class MembershipViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Membership.objects.select_related("user")
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter
    search_fields = ["user__email", "user__full_name"]
    ordering_fields = ["user__email", "role", "created_at"]
    write_capability = Capability.MANAGE_MEMBERS
    requires_recent_authentication = True
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @extend_schema(
        summary="Add a member or invite an address",
        description="An existing account is added at once; any other address gets an invitation e-mail.",
        request=MemberAddSerializer,
        responses={201: MemberAddResultSerializer},
    )
    def create(self, request):
        data = MemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.member_add(
            organization=request.tenant.organization,
            acting_user=request.user,
            acting_role=request.tenant.role,
            **data.validated_data,
        )
        if isinstance(result, Membership):
            body = {"result": "added", "membership": MembershipSerializer(result).data}
        else:
            body = {"result": "invited", "invitation": InvitationSerializer(result).data}
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        services.membership_change_role(
            membership=serializer.instance,
            role=serializer.validated_data.get("role", serializer.instance.role),
            acting_user=self.request.user,
            acting_role=self.request.tenant.role,
        )

    def perform_destroy(self, instance):
        services.membership_remove(membership=instance, acting_user=self.request.user)


@extend_schema_view(
    list=extend_schema(summary="List invitations"),
    retrieve=extend_schema(summary="One invitation"),
    destroy=extend_schema(summary="Revoke a pending invitation", responses={204: OpenApiResponse()}),
)
class InvitationViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Invitation.objects.all()
    serializer_class = InvitationSerializer
    read_capability = Capability.MANAGE_MEMBERS
    write_capability = Capability.MANAGE_MEMBERS
    requires_recent_authentication = True
    search_fields = ["email"]
    ordering_fields = ["created_at", "email"]

    def perform_destroy(self, instance):
        services.invitation_revoke(invitation=instance, acting_user=self.request.user)


class MeApi(APIView):
    """Who the caller is, for which organisation, with which role and capabilities."""

    @extend_schema(
        summary="The caller's identity, organisation and role",
        responses=inline_serializer(
            "Me",
            {
                "user": UserSerializer(),
                "organization": inline_serializer(
                    "MeOrganization",
                    {
                        "id": serializers.IntegerField(),
                        "name": serializers.CharField(),
                        "slug": serializers.CharField(),
                    },
                ),
                "role": serializers.CharField(),
                "capabilities": serializers.ListField(child=serializers.CharField()),
                "authenticated_by": serializers.ChoiceField(choices=["token", "session"]),
            },
        ),
    )
    def get(self, request):
        tenant = request.tenant
        org = tenant.organization
        return Response(
            {
                "user": UserSerializer(request.user).data,
                "organization": {"id": org.pk, "name": org.name, "slug": org.slug},
                "role": tenant.role,
                "capabilities": sorted(ROLE_CAPABILITIES[tenant.role]),
                "authenticated_by": "token" if tenant.token else "session",
            }
        )
