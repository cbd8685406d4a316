"""One error shape for the API: ``{"detail": str, "errors": {field: [messages]}}`` (``errors`` on a 400 only).

Every failure of an API request answers in that shape, a server error too: an integration
parses JSON, never Django's HTML error page. A database that cannot be reached is a 503
with ``Retry-After`` (the request may simply be sent again); any other unexpected error is a
500, logged with its traceback like Django logs it.
"""

from __future__ import annotations

import logging
import sys

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from aims.concurrency import StaleRecord, conflict_body, etag

logger = logging.getLogger("django.request")

#: Seconds a client should wait before sending a request again after a 503.
RETRY_AFTER_SECONDS = 30
SERVER_ERROR = "The server failed to answer this request; it has been logged. Try again later."
UNAVAILABLE = "The database is unavailable for a moment; send the request again shortly."
UNSTORABLE = "A value of the request cannot be stored (out of range or not valid text)."
CONFLICT = "A concurrent change took the same value first; nothing was written. Read the record again and retry."


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = CONFLICT
    default_code = "conflict"


#: PostgreSQL's unique and foreign-key violations: what a concurrent writer causes; any other
#: integrity error (a NOT NULL) is a fault of the portal and stays a server error.
_RACE_SQLSTATES = frozenset({"23505", "23503"})


def _lost_a_race(exc: IntegrityError) -> bool:
    # The driver's error carries the SQLSTATE: ``pgcode`` (psycopg2), ``sqlstate`` (psycopg 3).
    sqlstate = getattr(exc.__cause__, "pgcode", None) or getattr(exc.__cause__, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in _RACE_SQLSTATES
    return str(exc).startswith(("UNIQUE constraint failed", "FOREIGN KEY constraint failed"))  # SQLite


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def failure_response(exc: BaseException | None) -> JsonResponse:
    """The JSON answer to an exception no view handled: 503 for a lost database, else 500."""
    if isinstance(exc, OperationalError | InterfaceError):
        response = JsonResponse({"detail": UNAVAILABLE}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return JsonResponse({"detail": SERVER_ERROR}, status=500)


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """``handler500``: JSON under ``/api/`` (e.g. a middleware lost the database), a page elsewhere.

    A page whose database connection was lost answers 503 with ``Retry-After``, saying that
    nothing saved is lost and the page can be loaded again, rather than "something went wrong".
    """
    exc = sys.exc_info()[1]
    if _is_api(request):
        return failure_response(exc)
    if isinstance(exc, OperationalError | InterfaceError):
        response = defaults.server_error(request, template_name="503.html")
        response.status_code = 503
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return defaults.server_error(request, template_name=template_name)


def page_not_found(request: HttpRequest, exception: Exception, template_name: str = "404.html") -> HttpResponse:
    """``handler404``: an unknown API address answers JSON too."""
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception, template_name=template_name)


def exception_handler(exc, context):
    # A write whose If-Match names an older version (aims.concurrency): 412, with what changed.
    if isinstance(exc, StaleRecord):
        return Response(
            conflict_body(exc),
            status=status.HTTP_412_PRECONDITION_FAILED,
            headers={"ETag": etag(exc.current_version) or ""},
        )
    # Services raise Django's ValidationError; the API reports it like a serializer error.
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            errors = dict(exc.message_dict)
            if NON_FIELD_ERRORS in errors:
                errors["non_field_errors"] = errors.pop(NON_FIELD_ERRORS)
        else:
            errors = {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(errors)
    if isinstance(exc, DataError):
        # The input guard (aims.api.input) and the fields refuse what they know of; whatever
        # the database still finds unstorable is the request's fault, not a server error.
        logger.warning("API request refused by the database: %s", exc)
        exc = exceptions.ValidationError({"non_field_errors": [UNSTORABLE]})
    if isinstance(exc, IntegrityError) and _lost_a_race(exc):
        # Validation found the value free (or the referenced row there), then another writer
        # changed it first: the request may succeed once re-read, so 409 rather than a 500.
        logger.warning("API request lost a race for a unique value: %s", exc)
        exc = Conflict()
    response = drf_exception_handler(exc, context)
    if response is None:
        request = context.get("request")
        logger.error(
            "Internal Server Error: %s",
            getattr(request, "path", "?"),
            exc_info=(type(exc), exc, exc.__traceback__),
            extra={"status_code": 500, "request": getattr(request, "_request", None)},
        )
        set_rollback()
        return failure_response(exc)
    if isinstance(exc, exceptions.Throttled):
        # DRF has set Retry-After (whole seconds); say the same in words.
        wait = response.get("Retry-After")
        later = f"in {wait} seconds" if wait else "later"
        return Response({"detail": f"Too many requests: try again {later}."}, status=429, headers=response.headers)
    # Only a validation error names fields; another 400 (a body that is not JSON) says it in ``detail``.
    if isinstance(exc, exceptions.ValidationError) and isinstance(response.data, dict | list):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"detail": "The request has invalid fields.", "errors": errors}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"])}
    return response if response.data else Response(status=response.status_code)
