"""Inventory import (preview, confirm, all or nothing) and export (CSV, XLSX), with tenancy and roles."""

from __future__ import annotations

import csv
import io
import os
from datetime import date, timedelta

import openpyxl
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aims.roles import Role
from aims.tenancy import Tenant
from registry.imports.services import (
    MAX_IMPORT_BYTES,
    AISystemResource,
    inventory_export,
    inventory_import_apply,
    inventory_import_preview,
)
from registry.imports.views import SESSION_KEY
from registry.models import AISystem, EUAIActTier, SystemStatus
from registry.services import inventory_record_save
from tests.aims.factories import MembershipFactory, UserFactory

COLUMNS = list(AISystemResource.Meta.fields)


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    """Each test keeps pending uploads in its own private directory."""
    settings.PRIVATE_STORAGE_DIR = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    return tmp_path


@pytest.fixture
def oscar(acme):
    """An AI system owner of Acme."""
    return MembershipFactory(organization=acme, role=Role.OWNER, user=UserFactory(email="oscar@acme.example")).user


def system(org, user=None, **fields):
    values = {"name": "Triage assistant", "purpose": "Prioritise incoming cases."} | fields
    return inventory_record_save(instance=AISystem(organization=org, **values), acting_user=user)


def tenant(org, user, role=Role.ADMIN):
    return Tenant(organization=org, role=role, user=user)


def csv_file(rows: list[dict], name: str = "inventory.csv") -> SimpleUploadedFile:
    columns = list(dict.fromkeys(column for row in rows for column in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode("utf-8"), content_type="text/csv")


def csv_bytes(rows: list[dict]) -> bytes:
    return csv_file(rows).read()


def xlsx_bytes(header: list, rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def preview(client, upload):
    response = client.post(reverse("imports:upload"), {"file": upload})
    assert response.status_code == 200
    return response


def read_csv(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def read_xlsx(content: bytes) -> list[dict]:
    rows = list(openpyxl.load_workbook(io.BytesIO(content), read_only=True).active.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


VALID = {"name": "Claims scoring", "purpose": "Score insurance claims for fraud review."}


# --- Preview -------------------------------------------------------------------------------------


def test_preview_lists_every_row_error_with_its_row_number_and_writes_nothing(login, alice, charlie, acme):
    upload = csv_file(
        [
            VALID,
            {**VALID, "name": "Bad stage", "lifecycle_stage": "someday"},
            {"name": "", "purpose": "", "business_unit": "Claims"},
            {**VALID, "name": "Foreign owner", "owner_email": "charlie@globex.example"},
            {**VALID, "name": "Learner", "continuous_learning": "yes", "continuous_learning_controls": ""},
            {**VALID, "name": "Late review", "next_review_date": "31/12/2026"},
            {**VALID, "name": "High, no rationale", "eu_ai_act_tier": "High-risk"},
        ]
    )
    response = preview(login(alice), upload)

    report = response.context["report"]
    assert response.context["token"] is None
    errors = {row.line: row.errors for row in report.rows}
    assert errors[2] == []
    assert errors[3] == [
        "lifecycle_stage: “someday” is not a life-cycle stage; use one of: inception, design, verification, "
        "deployment, operation, reevaluation, retirement."
    ]
    assert "name: This field cannot be blank." in errors[4]
    assert "purpose: This field cannot be blank." in errors[4]
    assert errors[5] == ["owner_email: charlie@globex.example is not a member of this organisation."]
    assert errors[6] == [
        "continuous_learning_controls: Explain how the system's continuous learning is kept under control."
    ]
    assert errors[7] == ["next_review_date: “31/12/2026” is not a date; use YYYY-MM-DD, e.g. 2026-03-31."]
    assert errors[8] == ["tier_rationale: Give the reasons for this EU AI Act tier."]
    assert [row.action for row in report.rows] == ["new"] * 7
    assert not AISystem.objects.exists()
    page = response.content.decode()
    assert "6 rows need fixing" in page
    assert "charlie@globex.example is not a member of this organisation." in page
    assert "Import 1 row" not in page
    assert not default_storage.exists("imports") or not default_storage.listdir("imports")[1]


def test_preview_of_a_clean_file_offers_the_import_and_keeps_the_file_privately(login, alice, acme, private_storage):
    system(acme, alice)  # AIS-0001
    response = preview(login(alice), csv_file([VALID, {**VALID, "name": "Second"}]))

    report = response.context["report"]
    assert [(row.action, row.reference) for row in report.rows] == [("new", "AIS-0002"), ("new", "AIS-0003")]
    assert "Import 2 rows" in response.content.decode()
    token = response.context["token"]
    pending = response.wsgi_request.session[SESSION_KEY][token]
    assert pending["name"] == f"imports/{token}.csv"
    assert (private_storage / "imports" / f"{token}.csv").exists()
    assert AISystem.objects.count() == 1


# --- Apply ---------------------------------------------------------------------------------------


def test_confirmed_csv_import_creates_and_updates_with_history(login, alice, olivia, acme):
    existing = system(acme, alice, name="Old name", external_id="mlflow-7")
    by_external = system(acme, alice, name="Synced", external_id="mlflow-8")
    client = login(olivia)
    upload = csv_file(
        [
            {"reference": existing.ref_code, **VALID, "name": "New name", "owner_email": "alice@acme.example"},
            {"reference": "", "external_id": "mlflow-8", "name": "Synced", "purpose": by_external.purpose},
            {"reference": "", "external_id": "mlflow-9", **VALID, "roles": "provider, AI customer"},
            {
                **VALID,
                "name": "Hiring screen",
                "eu_ai_act_tier": "high",
                "annex_iii_area": "4",
                "tier_rationale": "Screens job applicants.",
                "performance_metrics": "AUC=0.80; Approval rate gap=<5%",
                "continuous_learning": "TRUE",
                "continuous_learning_controls": "Weekly retraining, approved by the model board.",
                "next_review_date": "2026-03-31",
                "status": "Active",
            },
        ]
    )
    token = preview(client, upload).context["token"]

    response = client.post(reverse("imports:confirm"), {"token": token})

    assert response.status_code == 302
    assert response.url == reverse("inventory:system_list")
    existing.refresh_from_db()
    assert existing.name == "New name"
    assert existing.owner == alice
    assert existing.history.latest().history_user == olivia
    created = AISystem.objects.filter(external_id="mlflow-9").get()
    assert created.ref_code == "AIS-0003"
    assert created.roles == ["provider", "customer"]
    assert created.history.get().history_user == olivia
    hiring = AISystem.objects.get(name="Hiring screen")
    assert hiring.ref_code == "AIS-0004"
    assert hiring.eu_ai_act_tier == EUAIActTier.HIGH and hiring.annex_iii_area == 4
    assert hiring.performance_metrics == [
        {"name": "AUC", "target": "0.80"},
        {"name": "Approval rate gap", "target": "<5%"},
    ]
    assert hiring.continuous_learning is True
    assert hiring.next_review_date == date(2026, 3, 31)
    assert hiring.status == SystemStatus.ACTIVE
    assert hiring.organization == acme
    assert AISystem.objects.count() == 4
    by_external.refresh_from_db()
    assert by_external.history.count() == 1  # unchanged: not saved again
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Imported inventory.csv: 2 new, 1 updated, 1 unchanged."]
    assert SESSION_KEY not in client.session or token not in client.session[SESSION_KEY]
    assert not default_storage.exists(f"imports/{token}.csv")


def test_xlsx_import(login, alice, acme):
    content = xlsx_bytes(
        ["Reference", "Name", "Purpose", "Next review date", "Annex III area", "EU AI Act tier", "Tier rationale"],
        [
            [None, "Radiology triage", "Flag urgent scans.", date(2026, 6, 30), 5, "High-risk", "Medical device."],
            [None, None, None, None, None, None, None],  # blank rows are skipped
            [None, "Chatbot", "Answer patient questions.", "2026-07-01", None, "limited", "Talks to people."],
        ],
    )
    client = login(alice)
    response = preview(client, SimpleUploadedFile("inventory.xlsx", content))
    report = response.context["report"]
    assert [(row.line, row.action, row.errors) for row in report.rows] == [(2, "new", []), (4, "new", [])]

    client.post(reverse("imports:confirm"), {"token": response.context["token"]})

    radiology = AISystem.objects.get(name="Radiology triage")
    assert (radiology.next_review_date, radiology.annex_iii_area, radiology.eu_ai_act_tier) == (
        date(2026, 6, 30),
        5,
        "high",
    )
    assert AISystem.objects.get(name="Chatbot").next_review_date == date(2026, 7, 1)


def test_apply_is_all_or_nothing(alice, acme):
    existing = system(acme, alice, name="Keep me")
    content = csv_bytes(
        [
            {"reference": existing.ref_code, **VALID, "name": "Changed"},
            VALID,
            {**VALID, "status": "archived"},
        ]
    )

    report = inventory_import_apply(tenant=tenant(acme, alice), content=content, fmt="csv")

    assert not report.applied
    assert [row.line for row in report.error_rows] == [4]
    existing.refresh_from_db()
    assert existing.name == "Keep me"
    assert AISystem.objects.count() == 1


def test_confirm_revalidates_and_writes_nothing_when_the_inventory_changed(login, alice, olivia, acme):
    owner = MembershipFactory(organization=acme, role=Role.VIEWER, user=UserFactory(email="leaver@acme.example"))
    client = login(alice)
    response = preview(client, csv_file([VALID, {**VALID, "name": "Owned", "owner_email": "leaver@acme.example"}]))
    owner.delete()  # the owner leaves between preview and confirmation

    response = client.post(reverse("imports:confirm"), {"token": response.context["token"]})

    assert response.status_code == 200
    assert response.context["report"].error_rows[0].errors == [
        "owner_email: leaver@acme.example is not a member of this organisation."
    ]
    assert response.context["token"] is None
    assert not AISystem.objects.exists()


def test_duplicate_references_in_the_file_are_row_errors(alice, acme):
    existing = system(acme, alice)
    content = csv_bytes(
        [
            {"reference": existing.ref_code, **VALID},
            {"reference": existing.ref_code, **VALID, "name": "Again"},
            {"external_id": "x-1", **VALID},
            {"external_id": "x-1", **VALID},
        ]
    )

    report = inventory_import_preview(tenant=tenant(acme, alice), content=content, fmt="csv")

    assert {row.line: row.errors for row in report.error_rows} == {
        3: [f"reference: {existing.ref_code} appears more than once in the file (also row 2)."],
        5: ["external_id: x-1 appears more than once in the file (also row 4)."],
    }


def test_one_system_changed_by_two_rows_is_a_row_error(alice, acme):
    existing = system(acme, alice, external_id="mlflow-1")
    content = csv_bytes(
        [
            {"reference": "", "external_id": "mlflow-1", **VALID},  # found by external id
            {"reference": existing.ref_code, "external_id": "mlflow-2", **VALID},  # and again by reference
        ]
    )

    report = inventory_import_preview(tenant=tenant(acme, alice), content=content, fmt="csv")

    assert {row.line: row.errors for row in report.error_rows} == {
        3: [f"Row 2 already changes {existing.ref_code}; change each system in one row."]
    }


def test_moving_an_external_id_within_one_file_is_refused_with_a_clear_message(alice, acme):
    """The preview checks constraints against the saved inventory, so it errs on the safe side here."""
    existing = system(acme, alice, external_id="mlflow-1")
    content = csv_bytes(
        [
            {"reference": existing.ref_code, "external_id": "", **VALID},
            {"reference": "", "external_id": "mlflow-1", **VALID, "name": "Successor"},
        ]
    )

    report = inventory_import_preview(tenant=tenant(acme, alice), content=content, fmt="csv")

    assert report.rows[1].errors == ["external_id: Another AI system of the organisation already has this external id."]


def test_external_id_of_another_system_is_a_row_error(alice, acme):
    system(acme, alice, external_id="mlflow-1")
    content = csv_bytes([{"external_id": "", **VALID}, {"reference": "AIS-0050", "external_id": "mlflow-1", **VALID}])

    report = inventory_import_preview(tenant=tenant(acme, alice), content=content, fmt="csv")

    assert report.rows[0].reference == "AIS-0051"  # numbered after every reference in the file
    assert report.rows[1].errors == ["external_id: mlflow-1 is already the external id of AIS-0001."]


# --- Export --------------------------------------------------------------------------------------


@pytest.fixture
def inventories(acme, globex, alice, charlie):
    high = system(
        acme,
        alice,
        name="Hiring screen",
        eu_ai_act_tier=EUAIActTier.HIGH,
        annex_iii_area=4,
        tier_rationale="Screens applicants.",
        is_provider=True,
        is_customer=True,
        owner=alice,
        performance_metrics=[{"name": "AUC", "target": "0.80"}, {"name": "Gap", "target": "<5%"}],
        continuous_learning=True,
        continuous_learning_controls="Monthly review.",
        next_review_date=date(2026, 1, 31),
        status=SystemStatus.ACTIVE,
        description='=HYPERLINK("http://evil.example")',
        external_id="mlflow-1",
    )
    minimal = system(
        acme, alice, name="Spell checker", eu_ai_act_tier=EUAIActTier.MINIMAL, tier_rationale="Low stakes."
    )
    foreign = system(globex, charlie, name="Globex secret", eu_ai_act_tier=EUAIActTier.HIGH, tier_rationale="x")
    return high, minimal, foreign


def test_export_csv_contains_only_the_organisations_filtered_systems(login, victor, acme, inventories):
    high, _minimal, _foreign = inventories
    response = login(victor).get(reverse("imports:export", args=["csv"]), {"tier": "high"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    filename = f"inventory-acme-{timezone.localdate():%Y%m%d}.csv"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    rows = read_csv(response.content)
    assert [row["name"] for row in rows] == ["Hiring screen"]
    row = rows[0]
    assert list(row) == COLUMNS
    assert row["reference"] == high.ref_code
    assert row["roles"] == "provider, customer"
    assert row["owner_email"] == "alice@acme.example"
    assert row["performance_metrics"] == "AUC=0.80; Gap=<5%"
    assert row["continuous_learning"] == "yes"
    assert row["annex_iii_area"] == "4"
    assert row["next_review_date"] == "2026-01-31"
    # Text that a spreadsheet would run as a formula is exported as text.
    assert row["description"] == '\'=HYPERLINK("http://evil.example")'

    everything = read_csv(login(victor).get(reverse("imports:export", args=["csv"])).content)
    assert [r["name"] for r in everything] == ["Hiring screen", "Spell checker"]


def test_export_xlsx_contains_only_the_organisations_filtered_systems(login, bob, inventories):
    response = login(bob).get(reverse("imports:export", args=["xlsx"]), {"q": "spell"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].endswith('.xlsx"')
    rows = read_xlsx(response.content)
    assert [row["name"] for row in rows] == ["Spell checker"]
    assert list(rows[0]) == COLUMNS


def test_export_unknown_format_is_404(login, victor):
    assert login(victor).get(reverse("imports:export", args=["pdf"])).status_code == 404


def test_export_costs_a_fixed_number_of_queries(login, alice, acme):
    client = login(alice)
    client.get(reverse("imports:export", args=["csv"]))  # warm up session and tenant caches
    system(acme, alice, owner=alice)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("imports:export", args=["csv"]))
    for index in range(5):
        system(acme, alice, name=f"System {index}", owner=alice)
    with CaptureQueriesContext(connection) as six:
        response = client.get(reverse("imports:export", args=["xlsx"]))
    assert len(read_xlsx(response.content)) == 6
    assert len(six) == len(one)


# --- Round trip ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_leaves_every_row_unchanged(alice, acme, inventories, fmt):
    content = inventory_export(AISystem.objects.for_org(acme).select_related("owner"), fmt)

    report = inventory_import_preview(tenant=tenant(acme, alice), content=content, fmt=fmt)

    assert [(row.action, row.errors) for row in report.rows] == [("unchanged", [])] * 2
    assert report.change_count == 0


def test_round_trip_through_the_pages(login, alice, inventories):
    client = login(alice)
    exported = client.get(reverse("imports:export", args=["csv"])).content
    response = preview(client, SimpleUploadedFile("inventory.csv", exported))
    assert response.context["report"].unchanged_count == 2
    assert response.context["token"] is None
    assert "Nothing to import" in response.content.decode()


# --- Tenancy -------------------------------------------------------------------------------------


def test_another_organisations_reference_creates_a_new_system_and_leaves_theirs_alone(
    login, alice, acme, globex, charlie
):
    """References are per organisation: Globex's AIS-0001 is invisible to Acme, so Acme's row is new."""
    theirs = system(globex, charlie, name="Globex secret", external_id="shared-id")
    client = login(alice)
    response = preview(
        client,
        csv_file([{"reference": theirs.ref_code, "external_id": "shared-id", "name": "Acme bot", "purpose": "Chat."}]),
    )
    row = response.context["report"].rows[0]
    assert (row.action, row.reference, row.name, row.errors) == ("new", "AIS-0001", "Acme bot", [])
    assert "Globex secret" not in response.content.decode()

    client.post(reverse("imports:confirm"), {"token": response.context["token"]})

    ours = AISystem.objects.for_org(acme).get()
    assert (ours.ref_code, ours.name, ours.external_id) == ("AIS-0001", "Acme bot", "shared-id")
    theirs.refresh_from_db()
    assert (theirs.name, theirs.organization, theirs.history.count()) == ("Globex secret", globex, 1)


# --- Roles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["victor", "bob"])
def test_viewers_and_auditors_cannot_import(request, login, persona):
    client = login(request.getfixturevalue(persona))
    assert client.get(reverse("imports:upload")).status_code == 403
    assert client.post(reverse("imports:upload"), {"file": csv_file([VALID])}).status_code == 403
    assert client.post(reverse("imports:confirm"), {"token": "x"}).status_code == 403
    assert not AISystem.objects.exists()


def test_import_page_requires_sign_in(client):
    response = client.get(reverse("imports:upload"))
    assert response.status_code == 302
    assert "login" in response.url


def test_owner_may_only_import_systems_they_own(oscar, alice, acme):
    mine = system(acme, oscar, owner=oscar, name="Mine")
    others = system(acme, alice, owner=alice, name="Alice's")
    unowned = system(acme, alice, name="Nobody's")
    content = csv_bytes(
        [
            {"reference": mine.ref_code, **VALID, "name": "Mine, renamed", "owner_email": ""},
            {"reference": others.ref_code, **VALID},
            {"reference": unowned.ref_code, **VALID},
            {**VALID, "name": "New one"},
            {**VALID, "name": "For Alice", "owner_email": "alice@acme.example"},
        ]
    )

    report = inventory_import_preview(tenant=tenant(acme, oscar, Role.OWNER), content=content, fmt="csv")

    errors = {row.line: row.errors for row in report.rows}
    assert errors[2] == [] and errors[5] == []
    assert errors[3] == [f"You can only change AI systems you own; {others.ref_code} has another owner."]
    assert errors[4] == [f"You can only change AI systems you own; {unowned.ref_code} has another owner."]
    assert errors[6] == [
        "owner_email: As an AI system owner you can only import systems you own: "
        "leave owner_email empty or give your own address."
    ]

    fixed = csv_bytes([{"reference": mine.ref_code, **VALID, "name": "Mine, renamed"}, {**VALID, "name": "New one"}])
    report = inventory_import_apply(tenant=tenant(acme, oscar, Role.OWNER), content=fixed, fmt="csv")
    assert report.applied
    assert AISystem.objects.get(name="New one").owner == oscar
    mine.refresh_from_db()
    assert (mine.name, mine.owner) == ("Mine, renamed", oscar)


# --- Bad files -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("inventory.txt", b"name,purpose\nA,B\n", "Upload a .csv or .xlsx file."),
        ("inventory.csv", b"name,purpose\n" + b"x" * MAX_IMPORT_BYTES, "The file is larger than 2 MB"),
        ("inventory.xlsx", b"PK\x03\x04 not really a workbook", "The file is not an Excel workbook (.xlsx)"),
        ("inventory.csv", "name,purpose\nCaf\xe9,B\n".encode("latin-1"), "The file is not UTF-8 text."),
        ("inventory.csv", b"name,purpose\nA,B\x00\n", "The file contains NUL characters"),
        ("inventory.csv", b'name,purpose\nA,"B\n', "The CSV file could not be read"),
        ("inventory.csv", b"", "The submitted file is empty."),
        ("inventory.csv", b"\n,\n", "The file is empty."),
        ("inventory.csv", b"colour,size\nred,big\n", "none of them was recognised"),
        ("inventory.csv", b"name,purpose\n", "no rows to import"),
        ("inventory.csv", b"name,purpose,name\nA,B,C\n", "These columns appear more than once: name."),
    ],
)
def test_unusable_files_get_a_form_error(login, alice, name, content, message):
    response = login(alice).post(reverse("imports:upload"), {"file": SimpleUploadedFile(name, content)})

    assert response.status_code == 200
    assert response.context["report"] is None
    assert any(message in error for error in response.context["form"].errors["file"])
    assert not AISystem.objects.exists()


def test_too_many_rows_is_a_form_error(login, alice):
    content = b"name,purpose\n" + b"A,B\n" * 2001
    response = login(alice).post(reverse("imports:upload"), {"file": SimpleUploadedFile("big.csv", content)})
    assert response.context["form"].errors["file"] == [
        "The file has more than 2,000 rows; split it into smaller files."
    ]


def test_semicolon_csv_with_bom_and_extra_columns(alice, acme):
    content = "\ufeffName;Purpose;Notes\nA;B;keep this\n".encode()
    report = inventory_import_preview(tenant=tenant(acme, alice), content=content, fmt="csv")
    assert [(row.action, row.name, row.errors) for row in report.rows] == [("new", "A", [])]
    assert report.ignored_columns == ["notes"]


# --- Confirmation safety -------------------------------------------------------------------------


def test_confirming_a_file_from_another_session_fails_cleanly(login, alice, olivia, private_storage):
    token = preview(login(alice), csv_file([VALID])).context["token"]
    other = Client()
    other.force_login(olivia)

    response = other.post(reverse("imports:confirm"), {"token": token}, follow=True)

    assert response.redirect_chain == [(reverse("imports:upload"), 302)]
    assert "no longer available" in response.content.decode()
    assert not AISystem.objects.exists()
    assert (private_storage / "imports" / f"{token}.csv").exists()  # still alice's to confirm


def test_abandoned_uploads_are_removed_after_a_day(login, alice, private_storage):
    client = login(alice)
    old_token = preview(client, csv_file([VALID])).context["token"]
    old_file = private_storage / "imports" / f"{old_token}.csv"
    two_days_ago = (timezone.now() - timedelta(days=2)).timestamp()
    os.utime(old_file, (two_days_ago, two_days_ago))

    new_token = preview(client, csv_file([VALID])).context["token"]

    assert not old_file.exists()
    assert (private_storage / "imports" / f"{new_token}.csv").exists()


def test_confirming_a_vanished_or_changed_file_fails_cleanly(login, alice, private_storage):
    client = login(alice)
    token = preview(client, csv_file([VALID])).context["token"]
    (private_storage / "imports" / f"{token}.csv").unlink()
    response = client.post(reverse("imports:confirm"), {"token": token}, follow=True)
    assert "The uploaded file is no longer available" in response.content.decode()

    token = preview(client, csv_file([VALID])).context["token"]
    (private_storage / "imports" / f"{token}.csv").write_bytes(csv_bytes([{**VALID, "name": "Swapped"}]))
    response = client.post(reverse("imports:confirm"), {"token": token}, follow=True)
    assert "The uploaded file changed after the preview" in response.content.decode()
    assert not AISystem.objects.exists()

    response = client.post(reverse("imports:confirm"), {"token": token}, follow=True)
    assert "no longer available" in response.content.decode()  # a token is used once
