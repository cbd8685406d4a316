"""One guard for every text the API receives: body, query string and path.

PostgreSQL cannot store a NUL character, psycopg cannot send a lone surrogate (JSON allows
``"\\ud800"``) and refuses time-zone offsets it cannot represent; left to the database, each
is a 500. Control characters other than tab and line breaks are never meant either. Rather
than a check on every serializer and filter field, the parsers (request bodies) and
:class:`ApiInputGuardMiddleware` (query string and path) refuse such input up front, as a
400 in the portal's error shape naming each offending field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, parsers

# C0 controls except tab, line feed and carriage return; DEL; UTF-16 surrogates.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# A text that is exactly an ISO 8601 date-time with an offset: its offset must be a real one.
_DATETIME_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*([+-])(\d{2}):?(\d{2})$")
# Every time zone in use lies within -12:00 and +14:00; PostgreSQL stores nothing beyond ±15:59.
MAX_OFFSET_MINUTES = 14 * 60

FORBIDDEN_MESSAGE = "Text may not contain NUL or other control characters (tab and line breaks are fine)."
INVALID_DETAIL = "The request has invalid fields."


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be accepted as text, or None."""
    if _FORBIDDEN.search(value):
        return FORBIDDEN_MESSAGE
    match = _DATETIME_OFFSET.match(value.strip())
    if match:
        sign, hours, minutes = match.groups()
        if int(hours) * 60 + int(minutes) > MAX_OFFSET_MINUTES or int(minutes) > 59:
            return f"The time-zone offset {sign}{hours}:{minutes} does not exist; offsets range from -12:00 to +14:00."
    return None


def data_problems(data: Any, path: str = "") -> dict[str, list[str]]:
    """Problems of every text in parsed JSON (keys too), by dotted path (``items.3.external_id``)."""
    problems: dict[str, list[str]] = {}
    if isinstance(data, str):
        problem = text_problem(data)
        if problem:
            problems[path or "non_field_errors"] = [problem]
    elif isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and _FORBIDDEN.search(key):
                problems[path or "non_field_errors"] = [f"A field name: {FORBIDDEN_MESSAGE}"]
                continue
            problems.update(data_problems(value, where))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            problems.update(data_problems(value, f"{path}.{index}" if path else str(index)))
    return problems


def pairs_problems(pairs: Iterable[tuple[str, list[str]]]) -> dict[str, list[str]]:
    """Problems of form fields or query parameters (``QueryDict.lists()``)."""
    problems: dict[str, list[str]] = {}
    for key, values in pairs:
        if _FORBIDDEN.search(key):
            problems["non_field_errors"] = [f"A parameter name: {FORBIDDEN_MESSAGE}"]
            continue
        for value in values:
            problem = text_problem(value)
            if problem:
                problems[key] = [problem]
    return problems


def _refuse(problems: dict[str, list[str]]) -> None:
    if problems:
        raise exceptions.ValidationError(problems)


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        _refuse(data_problems(data))
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        _refuse(pairs_problems(data.lists()))
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        problems = pairs_problems(parsed.data.lists())
        for name, files in parsed.files.lists():
            if any(_FORBIDDEN.search(file.name or "") for file in files):
                problems[name] = [f"A file name: {FORBIDDEN_MESSAGE}"]
        _refuse(problems)
        return parsed


class ApiInputGuardMiddleware:
    """Refuse, under ``/api/``, a query string or path with text no field could accept."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            problems = pairs_problems(request.GET.lists())
            if _FORBIDDEN.search(request.path):
                problems["path"] = ["The address may not contain NUL or other control characters."]
            if problems:
                return JsonResponse({"detail": INVALID_DETAIL, "errors": problems}, status=400)
        return self.get_response(request)
