"""SCIM requests authenticate with the organisation's SCIM token: ``Authorization: Bearer aims_scim_…``.

The token decides the organisation and nothing else: it is not an API token, a session does
not count, and a person's credentials never reach the SCIM endpoints.
"""

from __future__ import annotations

from django.http import HttpRequest

from aims.scim.models import ScimProvisioning
from aims.scim.parsing import ScimError
from aims.scim.selectors import scim_provisioning_for_token
from aims.scim.services import scim_token_mark_used


def scim_authenticate(request: HttpRequest) -> ScimProvisioning:
    """The provisioning whose token the request carries; :class:`ScimError` 401 otherwise."""
    parts = request.headers.get("authorization", "").split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise ScimError("Send the organisation's SCIM token as “Authorization: Bearer <token>”.", status=401)
    provisioning = scim_provisioning_for_token(parts[1])
    if provisioning is None:
        raise ScimError("This SCIM token is not valid: it is unknown, rotated or revoked.", status=401)
    scim_token_mark_used(provisioning=provisioning)
    return provisioning
