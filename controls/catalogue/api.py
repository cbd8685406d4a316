"""API: the control catalogue (read-only reference data, the same for every organisation)."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from controls.catalogue.models import Framework, Mapping, Requirement
from controls.catalogue.selectors import framework_list


class FrameworkSerializer(serializers.ModelSerializer):
    requirement_count = serializers.IntegerField(read_only=True)
    control_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Framework
        fields = [
            "code",
            "name",
            "title",
            "version",
            "publisher",
            "description",
            "source",
            "requirement_count",
            "control_count",
        ]


class MappingSerializer(serializers.ModelSerializer):
    framework = serializers.CharField(source="target.framework.code")
    ref = serializers.CharField(source="target.ref")
    title = serializers.CharField(source="target.title")

    class Meta:
        model = Mapping
        fields = ["framework", "ref", "title", "relationship", "origin", "note"]


class RequirementSerializer(serializers.ModelSerializer):
    framework: serializers.SlugRelatedField[Framework] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    # The stubs type Field.parent (the enclosing serializer); here it is the requirement's parent.
    parent: serializers.SlugRelatedField[Requirement] = serializers.SlugRelatedField(  # type: ignore[assignment]
        slug_field="ref", read_only=True, allow_null=True
    )

    class Meta:
        model = Requirement
        fields = ["id", "framework", "ref", "kind", "title", "description", "guidance", "parent", "depth", "order"]


class RequirementFilter(django_filters.FilterSet):
    framework = django_filters.CharFilter(field_name="framework__code", help_text="Framework code, e.g. ISO42001.")
    parent = django_filters.CharFilter(field_name="parent__ref", help_text="Identifier of the parent, e.g. A.6.")
    kind = django_filters.ChoiceFilter(choices=Requirement.Kind.choices)

    class Meta:
        model = Requirement
        fields = ["framework", "kind", "parent", "depth"]


@extend_schema_view(
    list=extend_schema(summary="List catalogue frameworks"),
    retrieve=extend_schema(summary="One framework by its code"),
)
class FrameworkViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = framework_list()
    serializer_class = FrameworkSerializer
    lookup_field = "code"
    search_fields = ["code", "name"]
    ordering_fields = ["order", "name"]


@extend_schema_view(
    list=extend_schema(summary="List requirements (clauses, control objectives, controls, reference items)"),
    retrieve=extend_schema(summary="One requirement"),
)
class RequirementViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Requirement.objects.select_related("framework", "parent")
    serializer_class = RequirementSerializer
    filterset_class = RequirementFilter
    search_fields = ["ref", "title", "description", "guidance"]
    ordering_fields = ["order", "ref"]
    ordering = ["framework__order", "order"]
