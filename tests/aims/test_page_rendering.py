"""What every page pays for, made cheaper without changing a character of the markup.

The filter forms' widgets are written without templates (:class:`aims.filters.InlineWidgetRenderer`)
and ``{% load url_cache %}`` remembers the shape of each URL: both are held here against Django's
own output.
"""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.forms.renderers import get_default_renderer
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import mark_safe

from aims.filters import INLINE_WIDGET_RENDERER, OneOrMany
from aims.templatetags.url_cache import cached_reverse

CHOICES = [
    ("", "Any"),
    ("a", 'A & "b"'),
    ("b<", mark_safe("<b>safe</b>")),
    (3, 1234567),
    ("Group", [("g1", "G1"), ("g2", "G2")]),
]

WIDGETS = [
    (forms.TextInput(attrs={"type": "search", "data-flag": True, "off": False, "title": '"quoted"'}), 'hé "<'),
    (forms.TextInput(), None),
    (forms.HiddenInput(), 5),
    (forms.NumberInput(), 1234.5),
    (forms.DateInput(), datetime.date(2026, 1, 2)),
    (forms.CheckboxInput(), True),
    (forms.EmailInput(), "a@example.com"),
    (forms.Select(choices=CHOICES), "a"),
    (forms.Select(choices=CHOICES, attrs={"required": True, "class": "wide"}), ["g2"]),
    (forms.Select(choices=[]), None),
    (forms.SelectMultiple(choices=CHOICES), ["a", "b<"]),
    (OneOrMany(choices=CHOICES[1:]), ["a"]),
    (forms.RadioSelect(choices=CHOICES[:3]), "a"),  # not written in Python: rendered by its templates
    (forms.Textarea(), "text"),
]


@pytest.mark.parametrize(("widget", "value"), WIDGETS, ids=lambda w: type(w).__name__)
def test_filter_widgets_render_exactly_as_with_their_templates(widget, value):
    attrs = {"id": "id_field"}
    expected = widget.render("field", value, attrs=attrs, renderer=get_default_renderer())
    assert widget.render("field", value, attrs=attrs, renderer=INLINE_WIDGET_RENDERER) == expected


@pytest.mark.django_db
def test_a_list_page_filter_form_is_the_same_markup(olivia):
    from registry.filters import AISystemFilter

    request = RequestFactory().get("/inventory/", {"tier": "high", "q": "fraud <x>"})
    request.user = olivia
    filterset = AISystemFilter(request.GET, request=request)
    with_templates = str(filterset.form)
    filterset.form.renderer = INLINE_WIDGET_RENDERER
    assert str(filterset.form) == with_templates


URLS = Template(
    "{% load url_cache %}{% url 'inventory:system_detail' pk %}|{% url 'audits:ca_detail' 7 %}|"
    "{% url 'dashboard' %}|{% url 'catalogue:requirement' 'ISO42001' 'A.5 x' %}|"
    "{% url 'no-such-name' as missing %}[{{ missing }}]"
)


@pytest.mark.parametrize("pk", [1, 42, 918273645500, "12"])
def test_url_cache_gives_what_reverse_gives(pk):
    rendered = URLS.render(Context({"pk": pk}))
    assert rendered == "|".join(
        [
            reverse("inventory:system_detail", args=[pk]),
            reverse("audits:ca_detail", args=[7]),
            reverse("dashboard"),
            reverse("catalogue:requirement", args=["ISO42001", "A.5 x"]),
            "[]",
        ]
    )


def test_url_cache_refuses_what_reverse_refuses():
    for args in ([-1], [True], ["x"], [1, 2]):
        with pytest.raises(NoReverseMatch):
            cached_reverse("inventory:system_detail", args)
    with pytest.raises(NoReverseMatch):
        Template("{% load url_cache %}{% url 'no-such-name' %}").render(Context())


def test_url_cache_follows_the_script_prefix():
    from django.urls import set_script_prefix

    set_script_prefix("/portal/")
    try:
        assert cached_reverse("inventory:system_detail", [3]) == "/portal" + reverse_without_prefix(3)
    finally:
        set_script_prefix("/")


def reverse_without_prefix(pk: int) -> str:
    from django.urls import get_script_prefix, set_script_prefix

    saved = get_script_prefix()
    set_script_prefix("/")
    try:
        return reverse("inventory:system_detail", args=[pk])
    finally:
        set_script_prefix(saved)
