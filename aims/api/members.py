"""API: the current organisation's members and invitations, and who the caller is."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
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
    result = serializers.ChoiceField(choices=["invited"])
    invitation = InvitationSerializer()


class MembershipFilter(django_filters.FilterSet):
    class Meta:
        model = Membership
        fields = ["role"]


@extend_schema_view(
    list=extend_schema(summary="List the organisation's members"),
    retrieve=extend_schema(summary="One member"),
    partial_update=extend_schema(
        summary="Change a member's role",
        description="The last administrator cannot be demoted. The member's API tokens follow their new role.",
    ),
    destroy=extend_schema(
        summary="Remove a member (their API tokens are revoked)",
        description=(
            "The last administrator cannot be removed. Removing yourself (the session's user, or the "
            "person who created the calling token) must be confirmed with `?confirm=true`: it ends your "
            "access and revokes your tokens, the calling one included."
        ),
        parameters=[OpenApiParameter("confirm", bool, description="Required (true) to remove yourself.")],
    ),
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
        summary="Invite a member",
        description=(
            "Every address gets an invitation e-mail and joins when its owner accepts, whether or not it "
            "already has an account: the answer is the same either way (201 with the invitation). A 400 "
            "speaks only of this organisation: the address is already a member, or already invited."
        ),
        request=MemberAddSerializer,
        responses={201: MemberAddResultSerializer},
    )
    def create(self, request):
        data = MemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.member_add(
            organization=request.tenant.organization,
            acting_user=request.user,
            acting_role=request.tenant.role,
            **data.validated_data,
        )
        body = {"result": "invited", "invitation": InvitationSerializer(invitation).data}
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        services.membership_change_role(
            membership=serializer.instance,
            role=serializer.validated_data.get("role", serializer.instance.role),
            acting_user=self.request.user,
            acting_role=self.request.tenant.role,
        )

    def perform_destroy(self, instance):
        if instance.user_id == self.request.user.pk and self.request.query_params.get("confirm") != "true":
            raise ValidationError(
                {
                    "confirm": "This is your own membership: removing it ends your access and revokes your API "
                    "tokens. Repeat the call with ?confirm=true to go ahead."
                }
            )
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
                "token": inline_serializer(
                    "MeToken",
                    {
                        "id": serializers.IntegerField(),
                        "prefix": serializers.CharField(),
                        "role": serializers.CharField(),
                        "effective_role": serializers.CharField(),
                    },
                    allow_null=True,
                ),
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
                # A token's own role next to what it may do now (``role`` above), which its creator's
                # current role may have narrowed.
                "token": (
                    {
                        "id": tenant.token.pk,
                        "prefix": tenant.token.key_prefix,
                        "role": tenant.token.role,
                        "effective_role": tenant.role,
                    }
                    if tenant.token
                    else None
                ),
            }
        )
