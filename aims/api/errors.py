"""One error shape for the API: ``{"detail": str, "errors": {field: [messages]}}``."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from aims.concurrency import StaleRecord, conflict_body, etag


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
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.Throttled):
        # DRF has set Retry-After (whole seconds); say the same in words.
        wait = response.get("Retry-After")
        later = f"in {wait} seconds" if wait else "later"
        return Response({"detail": f"Too many requests: try again {later}."}, status=429, headers=response.headers)
    if response.status_code == status.HTTP_400_BAD_REQUEST and isinstance(response.data, dict | list):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"detail": "The request has invalid fields.", "errors": errors}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"])}
    return response if response.data else Response(status=response.status_code)
