"""API: the organisation's API tokens, for its administrators (``manage_tokens``).

A token never does more than its creator may do now: its *effective role* is the lower of its
own role and its creator's current role, so a demotion narrows it (and a promotion back
restores it) and it is refused once the creator leaves. An owner-role token changes only what
its creator owns. The raw key is in the answer to the creation only; the portal keeps a hash.
Revoking keeps the token in the list (status ``revoked``) and in the history.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aims import services
from aims.api.base import TenantScopedMixin
from aims.api.members import UserSerializer
from aims.models import ApiToken
from aims.roles import Capability, Role


class ApiTokenSerializer(serializers.ModelSerializer):
    prefix = serializers.CharField(source="key_prefix", read_only=True)
    effective_role = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="What the token may do now: the lower of its role and its creator's current role; "
        "null once the creator has left the organisation (the token is then refused).",
    )
    effective_role_note = serializers.SerializerMethodField(
        help_text="Why the effective role differs from the role, when it does."
    )
    creator = UserSerializer(source="created_by", read_only=True)
    status = serializers.CharField(read_only=True, help_text="active, expired or revoked.")

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "role",
            "effective_role",
            "effective_role_note",
            "creator",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
            "status",
        ]
        read_only_fields = fields

    def get_effective_role_note(self, token: ApiToken) -> str:
        if token.effective_role is None:
            return "Refused: its creator is no longer a member of the organisation."
        if token.is_narrowed:
            label = token.get_effective_role_display()
            return f"Acts as {label}: its creator's role is now {label}."
        return ""


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    role = serializers.ChoiceField(choices=Role.choices, help_text="At most the caller's effective role.")
    expires_in_days = serializers.IntegerField(
        min_value=1, max_value=settings.API_TOKEN_MAX_DAYS, default=90, help_text="Days until the token expires."
    )


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True, help_text="The raw token: shown in this answer only, never again.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="List API tokens (never their keys)"),
    retrieve=extend_schema(summary="One API token"),
    destroy=extend_schema(summary="Revoke an API token", responses={204: OpenApiResponse()}),
)
class ApiTokenViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = ApiToken.objects.select_related("created_by").with_creator_role()
    serializer_class = ApiTokenSerializer
    read_capability = Capability.MANAGE_TOKENS
    write_capability = Capability.MANAGE_TOKENS
    # A signed-in session mints or revokes a token only soon after a sign-in; tokens act as themselves.
    requires_recent_authentication = True
    search_fields = ["name", "key_prefix"]
    ordering_fields = ["created_at", "name", "expires_at", "last_used_at"]
    filterset_fields = ["role"]

    @extend_schema(
        summary="Create an API token",
        description="The answer carries the raw key (`key`) once; store it now. The role may not exceed "
        "the caller's own effective role.",
        request=ApiTokenCreateSerializer,
        responses={201: ApiTokenCreatedSerializer},
    )
    def create(self, request):
        data = ApiTokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, raw_key = services.api_token_create(
            organization=request.tenant.organization,
            acting_user=request.user,
            acting_role=request.tenant.role,
            **data.validated_data,
        )
        token = self.get_queryset().get(pk=token.pk)
        token.key = raw_key
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.api_token_revoke(token=instance, acting_user=self.request.user)

    @extend_schema(summary="Revoke an API token", request=None, responses={200: ApiTokenSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = services.api_token_revoke(token=self.get_object(), acting_user=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=token.pk)).data)
