"""Recent authentication for the sensitive steps (tokens, members, the security policy).

Pages use :class:`RecentAuthenticationRequiredMixin`; API views set
``requires_recent_authentication`` and :class:`aims.api.permissions.HasOrganizationRole`
refuses a signed-in session's stale writes with :data:`REAUTHENTICATION_REFUSAL`.
"""

from __future__ import annotations

import time
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import get_adapter
from allauth.account.authentication import get_authentication_records
from allauth.core.exceptions import ReauthenticationRequired
from django.http import HttpRequest

from aims.access import get_for_tenant_or_404

REAUTHENTICATION_REFUSAL = (
    "This step needs a recent sign-in: confirm your password at /accounts/reauthenticate/ "
    "(or sign in again), then repeat the request."
)


def recently_authenticated(request: HttpRequest) -> bool:
    """True when the person signed in or confirmed their password or second factor within
    ``ACCOUNT_REAUTHENTICATION_TIMEOUT`` seconds.

    People who sign in only through their organisation's identity provider have nothing to
    confirm here; as in allauth, their provider's own checks stand.
    """
    user = request.user
    if not user.is_authenticated:
        return False
    records = get_authentication_records(request, user)
    now = time.time()
    if any(now - float(record.get("at", 0)) < account_settings.REAUTHENTICATION_TIMEOUT for record in records):
        return True
    # Only then ask the database (password, second factors): a fresh session costs no query.
    return not get_adapter().get_reauthentication_methods(user)


class RecentAuthenticationRequiredMixin:
    """A POST needs a recent authentication, else allauth asks for the password (or a second
    factor) and then replays the POST.

    List it after :class:`aims.access.TenantViewMixin`, so that the role check (403) comes
    first; an object named in the URL is looked up before asking (another organisation's is 404).
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.method == "POST" and not recently_authenticated(request):
            model = getattr(self, "model", None)
            if model is not None and "pk" in kwargs:
                get_for_tenant_or_404(self.tenant, model, pk=kwargs["pk"])  # type: ignore[attr-defined]
            raise ReauthenticationRequired()
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
