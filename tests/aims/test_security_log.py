"""Administrators and auditors read the organisation's security log, filter it and export it as
CSV; they never see another organisation's events, and nobody can change the log."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from aims import services
from aims.models import Membership, SecurityEvent
from aims.roles import Role
from aims.security.services import security_event_record

Kind = SecurityEvent.Kind


def _events(acme, globex, alice, bob, victor, charlie):
    security_event_record(kind=Kind.LOGIN, user=victor, actor=victor)
    security_event_record(kind=Kind.LOGIN_FAILED, user=bob, email=bob.email)
    security_event_record(kind=Kind.MFA_ADDED, user=charlie, method="totp")  # a Globex person
    security_event_record(kind=Kind.LOGIN_FAILED, email="stranger@example.com")  # nobody's
    security_event_record(
        kind=Kind.TOKEN_CREATED, organization=acme, actor=alice, email='=HYPERLINK("x")', name="-sync"
    )
    security_event_record(kind=Kind.SSO_CHANGED, organization=globex, actor=charlie)
    old = security_event_record(kind=Kind.LOGIN_FAILED, user=alice, email=alice.email)
    SecurityEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))


def test_admins_see_their_organisation_and_members_events_only(login, acme, globex, alice, bob, victor, charlie):
    _events(acme, globex, alice, bob, victor, charlie)
    response = login(alice).get(reverse("security_log"))
    assert response.status_code == 200
    kinds = [(e.kind, e.user_id) for e in response.context["page_obj"].object_list]
    assert (Kind.LOGIN, victor.pk) in kinds and (Kind.LOGIN_FAILED, bob.pk) in kinds
    assert (Kind.TOKEN_CREATED, None) in kinds
    page = response.content.decode()
    assert "charlie@globex.example" not in page and "stranger@example.com" not in page
    assert Kind.SSO_CHANGED not in {kind for kind, _ in kinds} and Kind.MFA_ADDED not in {kind for kind, _ in kinds}
    assert 'href="/organisation/security-log/"' in page  # the tab


def test_the_log_filters_by_kind_person_and_dates(login, acme, globex, alice, bob, victor, charlie):
    _events(acme, globex, alice, bob, victor, charlie)
    client = login(alice)

    def shown(**params):
        return {(e.kind, e.user_id) for e in client.get(reverse("security_log"), params).context["page_obj"]}

    assert shown(kind=Kind.LOGIN_FAILED) == {(Kind.LOGIN_FAILED, bob.pk), (Kind.LOGIN_FAILED, alice.pk)}
    assert shown(person=victor.pk) == {(Kind.LOGIN, victor.pk)}
    recent = shown(kind=Kind.LOGIN_FAILED, since=(timezone.now() - timedelta(days=7)).date().isoformat())
    assert recent == {(Kind.LOGIN_FAILED, bob.pk)}
    assert shown(until=(timezone.now() - timedelta(days=30)).date().isoformat()) == {(Kind.LOGIN_FAILED, alice.pk)}
    # Another organisation's person is not a choice: the filter is refused and ignored, nothing leaks.
    refused = client.get(reverse("security_log"), {"person": charlie.pk})
    assert "person" in refused.context["filter"].form.errors
    assert "charlie@globex.example" not in refused.content.decode()


def test_the_page_is_paginated(login, acme, alice):
    for _ in range(55):
        security_event_record(kind=Kind.LOGIN, user=alice, actor=alice)
    response = login(alice).get(reverse("security_log"))
    assert len(response.context["page_obj"].object_list) == 50
    assert response.context["page_obj"].paginator.count == 56  # and the sign-in of this test's client


def test_the_csv_export_streams_the_filtered_log_without_formulas(login, acme, globex, alice, bob, victor, charlie):
    _events(acme, globex, alice, bob, victor, charlie)
    response = login(alice).get(reverse("security_log_export"), {"kind": Kind.TOKEN_CREATED})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["When (UTC)", "Event", "Person"]
    assert len(rows) == 2 and rows[1][1] == "API token created"
    assert rows[1][3] == '\'=HYPERLINK("x")'  # text, never a formula
    assert rows[1][7] == "name: -sync"
    every = login(alice).get(reverse("security_log_export"))
    text = b"".join(every.streaming_content).decode()
    assert "charlie@globex.example" not in text and "stranger@example.com" not in text


def test_cells_that_look_like_formulas_become_text():
    from aims.spreadsheets import spreadsheet_safe

    assert [spreadsheet_safe(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "plain", None)] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "plain",
        "",
    ]


def test_auditors_read_the_log_officers_and_viewers_do_not(login, acme, alice, bob, olivia, victor):
    assert login(bob).get(reverse("security_log")).status_code == 200
    assert login(olivia).get(reverse("security_log")).status_code == 403
    assert login(victor).get(reverse("security_log_export")).status_code == 403


def test_the_api_lists_the_log_read_only(api_for, acme, globex, alice, bob, victor, charlie):
    _events(acme, globex, alice, bob, victor, charlie)
    api = api_for(acme, role=Role.ADMIN, created_by=alice)
    body = api.get(reverse("securityevent-list"), {"kind": Kind.LOGIN_FAILED, "person": bob.pk}).json()
    assert [(e["kind"], e["user"]["email"]) for e in body["results"]] == [(Kind.LOGIN_FAILED, bob.email)]
    everything = api.get(reverse("securityevent-list"), {"page_size": 100}).content.decode()
    assert "charlie@globex.example" not in everything and "stranger@example.com" not in everything
    event = SecurityEvent.objects.filter(organization=acme).first()
    detail = reverse("securityevent-detail", args=[event.pk])
    assert api.get(detail).status_code == 200
    assert api.delete(detail).status_code == 405
    assert api.patch(detail, {"kind": "login"}).status_code == 405
    assert api.post(reverse("securityevent-list"), {"kind": "login"}).status_code == 405
    other = SecurityEvent.objects.get(kind=Kind.SSO_CHANGED)
    assert api.get(reverse("securityevent-detail", args=[other.pk])).status_code == 404
    assert api_for(acme, role=Role.OFFICER, created_by=alice).get(reverse("securityevent-list")).status_code == 403


def test_membership_changes_reach_the_log_page(login, acme, alice, victor):
    services.membership_change_role(
        membership=Membership.objects.get(user=victor), role=Role.AUDITOR, acting_user=alice
    )
    page = login(alice).get(reverse("security_log"), {"kind": Kind.MEMBER_ROLE_CHANGED}).content.decode()
    assert "Member role changed" in page and "victor@acme.example" in page
