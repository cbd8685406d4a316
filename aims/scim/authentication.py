"""SCIM requests authenticate with the organisation's SCIM token: ``Authorization: Bearer aims_scim_…``.

The token decides the organisation and nothing else: it is not an API token, a session does
not count, and a person's credentials never reach the SCIM endpoints. Like API tokens, it follows
the person who issued it: once they no longer manage the organisation's members (removed,
demoted or disabled), it is refused until someone who does issues a new one.
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
    if not provisioning.issuer_manages:  # type: ignore[attr-defined]  # annotated by the selector
        raise ScimError(
            "The person who issued this SCIM token no longer manages members; an administrator must issue a new one.",
            status=401,
        )
    scim_token_mark_used(provisioning=provisioning)
    return provisioning
