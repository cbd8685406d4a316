"""Read an HTML form the way a browser submits it, for the load run's simulated people.

No Django and no Locust here: the load run's process imports this module under gevent, and
tests/test_benchmarks_load.py checks it against the portal's real rendered forms.

A browser sends every enabled field of the form with its current value: text-like inputs with
their ``value``, checked boxes and radios, the selected options of each select (the first one
when none is marked and the select takes one value), and the text of each textarea. The
simulated officer changes one field of that list and posts it back, so the hidden
``record_version`` and ``csrfmiddlewaretoken`` travel with it as they do from a browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode

VERSION_FIELD = "record_version"
CSRF_FIELD = "csrfmiddlewaretoken"
#: The start of the portal's refusal of a stale edit (aims.concurrency.STALE_MESSAGE).
STALE_MARK = "Someone else saved this"
#: Inputs a browser never sends as plain name=value pairs of a urlencoded form.
_NOT_SENT = {"submit", "button", "image", "reset", "file"}


@dataclass
class HtmlForm:
    """One form: where it posts and the name/value pairs a browser would send, in page order."""

    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)

    def names(self) -> set[str]:
        return {name for name, _ in self.fields}

    def value(self, name: str) -> str | None:
        """The first value sent under ``name``, or None when the form sends no such field."""
        return next((value for key, value in self.fields if key == name), None)

    def replace(self, name: str, value: str) -> None:
        """Send ``value`` as the only value of ``name`` (added at the end if the form had none)."""
        kept = [(key, old) for key, old in self.fields if key != name]
        self.fields = [*kept, (name, value)]

    def encoded(self) -> str:
        return urlencode(self.fields)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self._form: HtmlForm | None = None
        self._select: dict[str, object] | None = None
        self._option: dict[str, object] | None = None
        self._textarea: list[str] | None = None
        self._textarea_name = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value if value is not None else "" for key, value in attrs}
        if tag == "form":
            self._form = HtmlForm(action=a.get("action", ""), method=a.get("method", "get").lower())
            self.forms.append(self._form)
            return
        if self._form is None or "disabled" in a:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in _NOT_SENT:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self._form.fields.append((name, a.get("value", "on")))
                return
            self._form.fields.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select = {"name": name, "multiple": "multiple" in a, "options": []}
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": []}
            self._select["options"].append(self._option)  # type: ignore[attr-defined]
        elif tag == "textarea" and name:
            self._textarea, self._textarea_name = [], name

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.append(data)
        elif self._option is not None:
            self._option["text"].append(data)  # type: ignore[attr-defined]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            self._form.fields.extend((self._select["name"], value) for value in _selected(self._select))  # type: ignore[misc]
            self._select = self._option = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            text = "".join(self._textarea)
            # HTML drops one newline right after <textarea>; Django's widget writes one there.
            self._form.fields.append((self._textarea_name, text[1:] if text.startswith("\n") else text))
            self._textarea = None


def _selected(select: dict[str, object]) -> list[str]:
    options: list[dict[str, object]] = select["options"]  # type: ignore[assignment]

    def value(option: dict[str, object]) -> str:
        explicit = option["value"]
        return str(explicit) if explicit is not None else "".join(option["text"]).strip()  # type: ignore[call-overload]

    chosen = [value(option) for option in options if option["selected"]]
    if not chosen and options and not select["multiple"]:
        chosen = [value(options[0])]
    return chosen


def forms_in(html: str) -> list[HtmlForm]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def form_with_field(html: str, name: str) -> HtmlForm:
    """The first POST form of the page that sends a field called ``name``.

    Raises LookupError when there is none: the page is not the form the caller expected
    (an error page, a sign-in page after a lost session).
    """
    for form in forms_in(html):
        if form.method == "post" and name in form.names():
            return form
    raise LookupError(f"no POST form with a {name!r} field on the page")
