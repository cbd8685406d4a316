"""Absolute links to portal pages, for e-mails and other messages read outside the portal."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse


def absolute_url(*names: str, args: tuple[Any, ...] | list[Any] = ()) -> str:
    """SITE_URL plus the first of the URL ``names`` that reverses with ``args``; the home page else.

    A message is still worth sending when a page is unavailable (e.g. a module's URLs are not
    installed), so a missing name falls back rather than failing the e-mail.
    """
    site: str = settings.SITE_URL
    for name in names:
        try:
            return site + reverse(name, args=list(args))
        except NoReverseMatch:
            continue
    return site + "/"
