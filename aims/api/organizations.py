"""API: instance administrators create organisations for others.

An *instance administrator* is a superuser (``is_superuser``) calling with their session, or
with an API token they created whose effective role is administrator: a narrower token of
theirs, made for one organisation's integration, cannot found organisations. Everyone else
gets 403. The new organisation has no member yet; its first administrator is invited by
e-mail and joins on accepting, whether or not the address already has an account.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from aims import services
from aims.api.members import InvitationSerializer
from aims.models import ApiToken
from aims.roles import role_is_administrator
from aims.tenancy import resolve_tenant


class IsInstanceAdministrator(permissions.BasePermission):
    message = "Only an instance administrator may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            raise exceptions.NotAuthenticated()
        if not user.is_superuser:
            return False
        if isinstance(request.auth, ApiToken):
            tenant = resolve_tenant(request._request, auth=request.auth)
            return tenant is not None and role_is_administrator(tenant.role)
        return True


class OrganizationCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    admin_email = serializers.EmailField(help_text="The first administrator: invited by e-mail.")


class OrganizationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    created_at = serializers.DateTimeField()


class OrganizationCreateApi(APIView):
    permission_classes = [IsInstanceAdministrator]

    @extend_schema(
        summary="Create an organisation (instance administrators)",
        description=(
            "For a superuser's session, or an administrator-role token created by a superuser; anyone "
            "else gets 403. The first administrator is sent an invitation and joins on accepting it."
        ),
        request=OrganizationCreateSerializer,
        responses={
            201: inline_serializer(
                "OrganizationCreated", {"organization": OrganizationSerializer(), "invitation": InvitationSerializer()}
            )
        },
    )
    def post(self, request):
        data = OrganizationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organization, invitation = services.organization_provision(acting_user=request.user, **data.validated_data)
        body = {
            "organization": OrganizationSerializer(organization).data,
            "invitation": InvitationSerializer(invitation).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)
