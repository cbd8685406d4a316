"""The pack's SoA section at size: each control shows how many risks rely on it and the first few,
from the aggregated figures, in the same queries however many risks there are."""

from __future__ import annotations

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from audits.models import EvidencePack
from audits.packs.sections import collect_controls
from tests.controls.soa.test_scale import grow

pytestmark = pytest.mark.django_db


def _collect(org):
    with CaptureQueriesContext(connection) as ctx:
        result = collect_controls(EvidencePack(organization=org))
    return result, len(ctx.captured_queries)


def test_the_controls_section_counts_the_risks_and_names_the_first_five(acme, globex):
    grow(acme, ["A.6.2.6", "A.7.4"], 2)
    _collect(acme)  # creates the SoA rows
    _, small = _collect(acme)
    risks = grow(acme, ["A.6.2.6"], 7)
    grow(globex, ["A.6.2.6"], 3)
    result, large = _collect(acme)
    assert large == small
    rows = {item["row"].control.ref: item["row"] for item in result.context["table"] if item["row"]}
    relied_on = rows["A.6.2.6"].relied_on
    assert (relied_on.risk_count, relied_on.more) == (9, 4)
    html = render_to_string(result.template, {"data": result.context})
    assert "9 risks:" in html and "and 4 more" in html and "2 risks:" in html
    assert risks[-1].ref_code not in html  # only the first five by reference are named
