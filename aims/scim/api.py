"""The SCIM 2.0 service (RFC 7644) under ``/scim/v2/``: discovery, Users and Groups.

Plain Django views rather than django-scim2 or DRF. django-scim2 (0.23.0) was evaluated: it
serves ``get_user_model()`` and one ``GROUP_MODEL``, keeps the SCIM identity (``scim_id``,
``scim_external_id``, ``scim_username``) as columns of the user row through its model mixins, and
has one global settings block (adapters, authentication predicate, base location). Its
``GET_EXTRA_MODEL_FILTER_KWARGS_GETTER`` hook can narrow lists to a tenant, but here a SCIM User
is a person's membership of one organisation: an account may be provisioned by several
organisations, each with its own id and externalId, and deactivation must leave the account
untouched. That needs its own model, so the adapters, filter-to-query translation, PATCH handling
and authentication would all have been replaced, leaving little but the URL table. DRF adds
content negotiation, its own error shape and session authentication with CSRF, none of which
SCIM wants, and its OpenAPI schema would list endpoints that have discovery documents of their
own. scim2-models would add pydantic for the schemas alone. So the service is these views, the
small tested parser in :mod:`aims.scim.parsing` for filters and PATCH, and the services.

Every answer is ``application/scim+json``; every refusal, including an unknown path or method,
is a SCIM error (``schemas``, ``status``, ``scimType``, ``detail``), never HTML.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from aims.scim import resources, selectors, services
from aims.scim.authentication import scim_authenticate
from aims.scim.models import ScimProvisioning
from aims.scim.parsing import (
    ERROR_SCHEMA,
    ScimError,
    filter_parse,
    group_attributes,
    group_patch_changes,
    patch_operations_parse,
    user_attributes,
    user_patch_changes,
)

CONTENT_TYPE = "application/scim+json"


def scim_response(data: Any = None, *, status: int = 200, location: str | None = None) -> HttpResponse:
    if data is None:
        return HttpResponse(status=status)
    response = HttpResponse(json.dumps(data), status=status, content_type=CONTENT_TYPE)
    if location:
        response["Location"] = location
    return response


def error_response(error: ScimError) -> HttpResponse:
    body = {"schemas": [ERROR_SCHEMA], "status": str(error.status), "detail": error.detail}
    if error.scim_type:
        body["scimType"] = error.scim_type
    response = scim_response(body, status=error.status)
    if error.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="SCIM"'
    return response


def _scim_error(exc: ValidationError) -> ScimError:
    """A service's refusal as a SCIM error: a taken name is 409 uniqueness, the rest 400."""
    errors = [error for group in getattr(exc, "error_dict", {}).values() for error in group] or [exc]
    codes = {getattr(error, "code", None) for error in errors}
    detail = " ".join(exc.messages)
    if "uniqueness" in codes:
        return ScimError(detail, status=409, scim_type="uniqueness")
    return ScimError(detail, scim_type="mutability" if "mutability" in codes else "invalidValue")


@method_decorator(csrf_exempt, name="dispatch")  # a bearer token, never a cookie, authenticates
class ScimView(View):
    """Authenticate with the SCIM token, run the handler, turn every refusal into a SCIM error."""

    http_method_names = ["get", "post", "put", "patch", "delete"]
    provisioning: ScimProvisioning

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            self.provisioning = scim_authenticate(request)
            if "\x00" in request.get_full_path() or b"\\u0000" in request.body:
                raise ScimError("Values cannot contain NUL characters.", scim_type="invalidValue")
            return super().dispatch(request, *args, **kwargs)
        except ScimError as error:
            return error_response(error)
        except ValidationError as exc:
            return error_response(_scim_error(exc))

    def http_method_not_allowed(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        allowed = ", ".join(m.upper() for m in self.http_method_names if hasattr(self, m))
        response = error_response(ScimError(f"{request.method} is not supported here.", status=405))
        response["Allow"] = allowed
        return response

    @property
    def organization(self) -> Any:
        return self.provisioning.organization

    @property
    def base_url(self) -> str:
        return self.request.build_absolute_uri(reverse("scim_root"))

    def body(self) -> Any:
        try:
            return json.loads(self.request.body or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise ScimError(f"The body is not valid JSON: {exc}.", scim_type="invalidSyntax") from exc

    def projected(self, resource: dict[str, Any]) -> dict[str, Any]:
        params = self.request.GET
        return resources.project(
            resource, params.get("attributes", "").split(","), params.get("excludedAttributes", "").split(",")
        )

    def page(self, queryset: Any, render: Any) -> HttpResponse:
        """One page of ``queryset`` as a ListResponse (``startIndex`` is 1-based, §3.4.2.4)."""
        start, count = self._int("startIndex", 1), self._int("count", resources.MAX_RESULTS)
        # Bounded both ways: the database's OFFSET is a 64-bit integer.
        start, count = min(max(start, 1), 2**31), min(max(count, 0), resources.MAX_RESULTS)
        total = queryset.count()
        rows = list(queryset[start - 1 : start - 1 + count]) if count else []
        found = [self.projected(render(row, self.base_url)) for row in rows]
        return scim_response(resources.list_response(found, total, start))

    def _int(self, name: str, default: int) -> int:
        value = self.request.GET.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError as exc:
            raise ScimError(f"{name} must be an integer.", scim_type="invalidValue") from exc

    def condition(self, fields: dict[str, tuple[str, str]]) -> Any:
        text = self.request.GET.get("filter")
        return None if text is None else selectors.filter_q(filter_parse(text), fields)


class RootView(ScimView):
    """Any path under /scim/v2/ that is not a resource: a SCIM 404, not the portal's page."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        raise ScimError(f"{request.path} is not a SCIM endpoint.", status=404)

    post = put = patch = delete = get


class ServiceProviderConfigView(ScimView):
    http_method_names = ["get"]

    def get(self, request: HttpRequest) -> HttpResponse:
        return scim_response(resources.service_provider_config(self.base_url))


class ResourceTypesView(ScimView):
    http_method_names = ["get"]

    def get(self, request: HttpRequest, name: str | None = None) -> HttpResponse:
        types = resources.resource_types(self.base_url)
        if name is None:
            return scim_response(resources.list_response(types, len(types), 1))
        found = next((item for item in types if item["id"] == name), None)
        if found is None:
            raise ScimError(f"There is no resource type {name}.", status=404)
        return scim_response(found)


class SchemasView(ScimView):
    http_method_names = ["get"]

    def get(self, request: HttpRequest, name: str | None = None) -> HttpResponse:
        schemas = resources.schemas(self.base_url)
        if name is None:
            return scim_response(resources.list_response(schemas, len(schemas), 1))
        found = next((item for item in schemas if item["id"] == name), None)
        if found is None:
            raise ScimError(f"There is no schema {name}.", status=404)
        return scim_response(found)


class UsersView(ScimView):
    http_method_names = ["get", "post"]

    def get(self, request: HttpRequest) -> HttpResponse:
        users = selectors.scim_user_list(self.organization, self.condition(selectors.USER_FILTERS))
        return self.page(users, resources.user_resource)

    def post(self, request: HttpRequest) -> HttpResponse:
        created = services.scim_user_create(
            provisioning=self.provisioning, attributes=user_attributes(self.body()), request=request
        )
        resource = resources.user_resource(self._get(str(created.scim_id)), self.base_url)
        return scim_response(resource, status=201, location=resource["meta"]["location"])

    def _get(self, scim_id: str) -> Any:
        scim_user = selectors.scim_user_get(self.organization, scim_id)
        if scim_user is None:
            raise ScimError(f"There is no user {scim_id}.", status=404)
        return scim_user


class UserView(UsersView):
    http_method_names = ["get", "put", "patch", "delete"]

    def get(self, request: HttpRequest, scim_id: str) -> HttpResponse:  # type: ignore[override]
        return scim_response(self.projected(resources.user_resource(self._get(scim_id), self.base_url)))

    def put(self, request: HttpRequest, scim_id: str) -> HttpResponse:
        scim_user = self._get(scim_id)
        changes = user_attributes(self.body())
        changes.pop("email")  # the account's address is the person's own; provisioning never moves it
        return self._update(scim_user, changes)

    def patch(self, request: HttpRequest, scim_id: str) -> HttpResponse:
        scim_user = self._get(scim_id)
        changes = user_patch_changes(patch_operations_parse(self.body()))
        changes.pop("email", None)
        return self._update(scim_user, changes)

    def delete(self, request: HttpRequest, scim_id: str) -> HttpResponse:
        services.scim_user_delete(provisioning=self.provisioning, scim_user=self._get(scim_id), request=request)
        return scim_response(status=204)

    def _update(self, scim_user: Any, changes: dict[str, Any]) -> HttpResponse:
        services.scim_user_update(
            provisioning=self.provisioning, scim_user=scim_user, changes=changes, request=self.request
        )
        return scim_response(resources.user_resource(self._get(str(scim_user.scim_id)), self.base_url))


class GroupsView(ScimView):
    http_method_names = ["get", "post"]

    def get(self, request: HttpRequest) -> HttpResponse:
        groups = selectors.scim_group_list(self.organization, self.condition(selectors.GROUP_FILTERS))
        return self.page(groups, resources.group_resource)

    def post(self, request: HttpRequest) -> HttpResponse:
        created = services.scim_group_create(
            provisioning=self.provisioning, **group_attributes(self.body()), request=request
        )
        resource = resources.group_resource(self._get(str(created.scim_id)), self.base_url)
        return scim_response(resource, status=201, location=resource["meta"]["location"])

    def _get(self, scim_id: str) -> Any:
        group = selectors.scim_group_get(self.organization, scim_id)
        if group is None:
            raise ScimError(f"There is no group {scim_id}.", status=404)
        return group


class GroupView(GroupsView):
    http_method_names = ["get", "put", "patch", "delete"]

    def get(self, request: HttpRequest, scim_id: str) -> HttpResponse:  # type: ignore[override]
        return scim_response(self.projected(resources.group_resource(self._get(scim_id), self.base_url)))

    def put(self, request: HttpRequest, scim_id: str) -> HttpResponse:
        group = self._get(scim_id)
        attributes = group_attributes(self.body())
        services.scim_group_update(
            provisioning=self.provisioning,
            group=group,
            display_name=attributes["display_name"],
            external_id=attributes["external_id"],
            members_set=attributes["members"],
            request=request,
        )
        return scim_response(self.projected(resources.group_resource(self._get(scim_id), self.base_url)))

    def patch(self, request: HttpRequest, scim_id: str) -> HttpResponse:
        group = self._get(scim_id)
        changes = group_patch_changes(patch_operations_parse(self.body()))
        services.scim_group_update(provisioning=self.provisioning, group=group, request=request, **vars(changes))
        return scim_response(self.projected(resources.group_resource(self._get(scim_id), self.base_url)))

    def delete(self, request: HttpRequest, scim_id: str) -> HttpResponse:
        services.scim_group_delete(provisioning=self.provisioning, group=self._get(scim_id), request=request)
        return scim_response(status=204)
