"""Give a test session what a real sign-in leaves in it."""

from __future__ import annotations

import time

from allauth.account.internal.flows.login import record_authentication
from django.http import HttpRequest


def session_mark_authenticated(session, user, *, at: float | None = None) -> None:
    """Record in ``session`` (and save) that ``user`` typed their password at ``at`` (now by
    default), as allauth does at sign-in and re-authentication; ``client.force_login`` does not."""
    request = HttpRequest()
    request.session = session
    record_authentication(request, user, method="password", reauthenticated=True)
    if at is not None:
        records = session["account_authentication_methods"]
        records[-1]["at"] = at
        session["account_authentication_methods"] = records
    session.save()


def session_age_authentication(session, seconds: float) -> None:
    """Move every authentication recorded in ``session`` ``seconds`` into the past (and save)."""
    records = session.get("account_authentication_methods", [])
    for record in records:
        record["at"] = time.time() - seconds
    session["account_authentication_methods"] = records
    session.save()
