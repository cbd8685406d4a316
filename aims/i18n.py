"""The portal's language for each request: the member's choice, else their organisation's default,
else what the browser asks for.

``LocaleMiddleware`` picks the language cookie (set when a member saves their choice) or the
browser's language first, at no cost. Once the request's tenant is resolved (``aims.tenancy.get_tenant``,
before any page of the organisation renders), :func:`follow_organization` applies the member's
choice (``User.language``) or their organisation's default (``Organization.language``): both are
read from rows the tenant already loaded, so the language costs no query, and a request that
never needs the tenant (a health check) reads nothing for it. :class:`ResponseLanguageMiddleware`
puts the language back to the default once the response is rendered: the thread's next work (a
task, an e-mail) starts from the default, not from the last page's language.

What is written for someone else (an e-mail, a notification stored as text) is written in *their*
language, not the language of whoever caused it: :func:`recipient_language` chooses it the same
way, for the recipient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

if TYPE_CHECKING:
    from aims.models import Organization, User
    from aims.tenancy import Tenant

SUPPORTED = {code for code, _ in settings.LANGUAGES}


def _activate(request: HttpRequest, language: str) -> None:
    if language in SUPPORTED:
        translation.activate(language)
        request.LANGUAGE_CODE = language


def member_language(user: User | None, organization: Organization | None) -> str:
    """The member's own language, else their organisation's default, else the portal's."""
    chosen = (user.language if user is not None else "") or (organization.language if organization else "")
    return chosen if chosen in SUPPORTED else settings.LANGUAGE_CODE


@contextmanager
def recipient_language(user: User | None, organization: Organization | None) -> Iterator[str]:
    """Write what is inside in the language of ``user`` (None: someone without an account, or several
    people at once) as a member of ``organization``; the caller's language is back afterwards."""
    language = member_language(user, organization)
    with translation.override(language):
        yield language


def follow_organization(request: HttpRequest, tenant: Tenant | None) -> None:
    """The member's own language, or their organisation's default when they chose none.

    An API token's requests keep the default: integrations read the same messages whoever made the token."""
    if tenant is None or tenant.user is None or tenant.token is not None:
        return
    _activate(request, member_language(tenant.user, tenant.organization))


def remember_choice(response: HttpResponse, language: str) -> None:
    """The member's choice as the language cookie, for the pages that need no organisation."""
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)


class ResponseLanguageMiddleware:
    """Names the response's language, then puts the thread's back to the default."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", translation.get_language() or settings.LANGUAGE_CODE)
            return response
        finally:
            translation.activate(settings.LANGUAGE_CODE)
