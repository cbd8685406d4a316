"""A SCIM client of the Django test client for an organisation, authenticated with its SCIM token."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from aims.scim.services import scim_token_issue

SCIM = "application/scim+json"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


class Scim:
    """Sends SCIM requests to ``/scim/v2/`` with ``Authorization: Bearer <token>``."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        self.client = Client()

    def request(self, method: str, path: str, body: Any = None, *, raw: str | None = None, **params: Any):
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        query = urlencode(params)
        url = f"/scim/v2/{path}" + (f"?{query}" if query else "")
        return self.client.generic(method, url, data=data, content_type=SCIM, headers=headers)

    def get(self, path: str, **params: Any):
        return self.request("GET", path, **params)

    def post(self, path: str, body: Any):
        return self.request("POST", path, body)

    def put(self, path: str, body: Any):
        return self.request("PUT", path, body)

    def patch(self, path: str, *operations: dict[str, Any]):
        return self.request("PATCH", path, {"schemas": [PATCH_OP], "Operations": list(operations)})

    def delete(self, path: str):
        return self.request("DELETE", path)


def user_body(user_name: str, **extra: Any) -> dict[str, Any]:
    return {"schemas": [USER], "userName": user_name, "active": True, **extra}


def group_body(name: str, members: list[str] | None = None) -> dict[str, Any]:
    return {"schemas": [GROUP], "displayName": name, "members": [{"value": m} for m in members or []]}


@pytest.fixture
def scim_for():
    """``scim_for(org, admin)``: a SCIM client with a fresh token of ``org`` issued by ``admin``."""

    def _scim(organization, admin):
        _, raw_token = scim_token_issue(organization=organization, acting_user=admin)
        return Scim(raw_token)

    return _scim


@pytest.fixture
def scim(acme, alice, scim_for):
    return scim_for(acme, alice)
