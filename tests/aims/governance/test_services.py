"""Leadership and planning services: policy workflow, Markdown sanitising, uploads, reminders,
objectives, competence, history, demo data and dashboard tiles."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from aims.files import upload_inspect
from aims.governance import selectors, services
from aims.governance.models import add_months
from aims.models import (
    AIMSScope,
    CompetenceRecord,
    ConcernChannel,
    ContextIssue,
    InterestedParty,
    Membership,
    Objective,
    ObjectiveProgress,
    OrgRole,
    Policy,
    PolicyReviewReminder,
    PolicyVersion,
)
from aims.roles import Role
from tests.aims.factories import MembershipFactory, ObjectiveFactory, PolicyFactory, PolicyVersionFactory

Status = PolicyVersion.Status


def zip_bytes(*entries: tuple[str, str]) -> bytes:
    # A fixed timestamp keeps the bytes (and so the test ids) the same in every test worker.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries:
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), content)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    return zip_bytes(("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<w:document/>"))


def odt_bytes() -> bytes:
    return zip_bytes(
        ("mimetype", "application/vnd.oasis.opendocument.text"), ("content.xml", "<office:document-content/>")
    )


# --- Markdown ---------------------------------------------------------------------------------


def test_markdown_keeps_formatting_and_removes_scripts_and_dangerous_links():
    html = services.markdown_render(
        "# Title\n\n**bold** and _italic_\n\n- one\n- two\n\n[ok](https://example.com) "
        "[bad](javascript:alert(1)) <script>alert('x')</script> <img src=x onerror=alert(1)>\n\n"
        '<a href="javascript:alert(2)">raw</a> <iframe src="https://evil.example"></iframe>'
        '<style>body{display:none}</style><p onclick="steal()">para</p>'
    )
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html and "<em>italic</em>" in html
    assert "<li>one</li>" in html
    assert '<a href="https://example.com" rel="noopener noreferrer">ok</a>' in html
    lowered = html.lower()
    for forbidden in ("<script", "alert('x')", "javascript:", "<img", "onerror", "<iframe", "<style", "onclick"):
        assert forbidden not in lowered, forbidden
    assert "display:none" not in lowered


def test_markdown_tables_from_extra_survive():
    html = services.markdown_render("| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<table>" in html and "<td>1</td>" in html


# --- Workflow ---------------------------------------------------------------------------------


def test_workflow_approver_is_not_the_author(acme, alice, olivia):
    policy = PolicyFactory(organization=acme, owner=olivia, ai_policy=True)
    version = services.policy_version_create(policy=policy, acting_user=olivia, body_markdown="# v1")
    assert version.number == 1 and version.status == Status.DRAFT and version.author == olivia
    services.policy_version_submit(version=version, acting_user=olivia)
    with pytest.raises(ValidationError, match="author cannot approve"):
        services.policy_version_approve(version=version, acting_user=olivia)
    version.refresh_from_db()
    assert version.status == Status.IN_REVIEW and version.approved_by is None
    services.policy_version_approve(version=version, acting_user=alice)
    version.refresh_from_db()
    assert version.status == Status.APPROVED and version.approved_by == alice and version.approved_at
    assert version.effective_date == timezone.localdate()
    policy.refresh_from_db()
    assert policy.next_review_date == add_months(timezone.localdate(), 12)


def test_model_refuses_an_author_approving_even_outside_the_service(acme, olivia):
    policy = PolicyFactory(organization=acme, owner=olivia, ai_policy=True)
    version = services.policy_version_create(policy=policy, acting_user=olivia, body_markdown="x")
    version.approved_by = olivia
    with pytest.raises(ValidationError, match="author cannot approve"):
        version.full_clean()


def test_approving_a_new_version_retires_the_previous_one(acme, alice, olivia):
    policy = PolicyFactory(organization=acme, owner=olivia, ai_policy=True)
    first = PolicyVersionFactory(policy=policy, author=olivia, approver=alice)
    second = PolicyVersionFactory(policy=policy, author=olivia, approver=alice, body_markdown="# v2")
    first.refresh_from_db()
    assert first.status == Status.RETIRED and first.retired_at is not None
    assert second.status == Status.APPROVED
    assert list(policy.versions.filter(status=Status.APPROVED)) == [second]


def test_only_one_approved_version_per_policy_in_the_database(acme, alice, olivia):
    policy = PolicyFactory(organization=acme, owner=olivia, ai_policy=True)
    PolicyVersionFactory(policy=policy, author=olivia, approver=alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.create(
            organization=acme, policy=policy, number=9, body_markdown="x", status=Status.APPROVED, author=olivia
        )


def test_retire_return_and_drafts_only(acme, alice, olivia):
    policy = PolicyFactory(organization=acme, owner=olivia, ai_policy=True)
    version = services.policy_version_create(policy=policy, acting_user=olivia, body_markdown="draft")
    with pytest.raises(ValidationError, match="Only a version in review"):
        services.policy_version_approve(version=version, acting_user=alice)
    with pytest.raises(ValidationError, match="Only the approved version"):
        services.policy_version_retire(version=version, acting_user=alice)
    services.policy_version_submit(version=version, acting_user=olivia)
    with pytest.raises(ValidationError, match="only a draft can change"):
        services.policy_version_update(version=version, acting_user=olivia, body_markdown="changed")
    with pytest.raises(ValidationError):
        services.policy_version_return(version=version, acting_user=alice, comment="  ")
    services.policy_version_return(version=version, acting_user=alice, comment="Add the review clause.")
    version.refresh_from_db()
    assert version.status == Status.DRAFT and version.review_comment == "Add the review clause."
    services.policy_version_submit(version=version, acting_user=olivia)
    services.policy_version_approve(version=version, acting_user=alice)
    services.policy_version_retire(version=version, acting_user=alice)
    version.refresh_from_db()
    policy.refresh_from_db()
    assert version.status == Status.RETIRED and policy.next_review_date is None


def test_one_open_version_at_a_time_and_numbering(acme, alice, olivia):
    policy = PolicyFactory(organization=acme, owner=olivia, ai_policy=True)
    PolicyVersionFactory(policy=policy, author=olivia, approver=alice)
    draft = services.policy_version_create(policy=policy, acting_user=olivia, body_markdown="v2")
    assert draft.number == 2
    with pytest.raises(ValidationError, match="Version 2 is draft"):
        services.policy_version_create(policy=policy, acting_user=olivia, body_markdown="v3")
    services.policy_version_delete(version=draft, acting_user=olivia)
    # A deleted draft was never in force: its number is free again, so the document's versions stay gapless.
    assert services.policy_version_create(policy=policy, acting_user=olivia, body_markdown="v2 again").number == 2


def test_approved_policy_cannot_be_deleted(acme, alice, olivia):
    policy = PolicyFactory(organization=acme, owner=olivia, ai_policy=True)
    PolicyVersionFactory(policy=policy, author=olivia, approver=alice)
    with pytest.raises(ValidationError, match="retire"):
        services.governance_record_delete(instance=policy, acting_user=alice)
    assert Policy.objects.filter(pk=policy.pk).exists()


def test_only_one_ai_policy_per_organisation(acme, globex, olivia, charlie):
    PolicyFactory(organization=acme, owner=olivia, ai_policy=True)
    with pytest.raises(ValidationError) as error:
        PolicyFactory(organization=acme, owner=olivia, ai_policy=True, title="Second AI policy")
    assert "kind" in error.value.message_dict
    # Topic policies are unlimited, and another organisation has its own AI policy.
    PolicyFactory(organization=acme, owner=olivia, title="Data governance", kind=Policy.Kind.DATA)
    PolicyFactory(organization=acme, owner=olivia, title="Privacy", kind=Policy.Kind.PRIVACY)
    PolicyFactory(organization=globex, owner=charlie, ai_policy=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Policy.objects.create(organization=acme, title="Bypass", kind=Policy.Kind.AI_POLICY)


def test_version_needs_text_or_document_not_both(acme, olivia):
    policy = PolicyFactory(organization=acme, owner=olivia, ai_policy=True)
    with pytest.raises(ValidationError, match="Write the policy text or upload"):
        services.policy_version_create(policy=policy, acting_user=olivia, body_markdown="   ")
    upload = SimpleUploadedFile("p.txt", b"policy text")
    with pytest.raises(ValidationError, match="not both"):
        services.policy_version_create(policy=policy, acting_user=olivia, body_markdown="text", upload=upload)
    assert not policy.versions.exists()


# --- Uploads ----------------------------------------------------------------------------------


def test_upload_is_stored_privately_with_sanitised_name_and_sha256(acme, olivia):
    policy = PolicyFactory(organization=acme, owner=olivia, ai_policy=True)
    content = b"%PDF-1.7\n% a policy\n"
    upload = SimpleUploadedFile("../../etc/AI Policy<v2>.PDF", content, content_type="text/html")
    version = services.policy_version_create(policy=policy, acting_user=olivia, upload=upload)
    assert version.original_name == "AI_Policyv2.pdf"
    assert version.file.name.startswith(f"policies/{acme.pk}/") and ".." not in version.file.name
    assert version.sha256 == hashlib.sha256(content).hexdigest() and version.size == len(content)
    assert version.content_type == "application/pdf"
    assert default_storage.exists(version.file.name)
    # Text replaces the document (its file goes once the change is committed: see the next test).
    with transaction.atomic():
        services.policy_version_update(version=version, acting_user=olivia, body_markdown="# Now text")
    version.refresh_from_db()
    assert not version.file and version.sha256 == "" and version.body_markdown == "# Now text"


@pytest.mark.django_db(transaction=True)
def test_replaced_document_is_deleted_from_storage(acme, olivia):
    policy = PolicyFactory(organization=acme, owner=olivia, ai_policy=True)
    version = services.policy_version_create(
        policy=policy, acting_user=olivia, upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4 a")
    )
    old = version.file.name
    services.policy_version_update(version=version, acting_user=olivia, upload=SimpleUploadedFile("b.md", b"# b"))
    version.refresh_from_db()
    assert version.original_name == "b.md" and default_storage.exists(version.file.name)
    assert not default_storage.exists(old)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("policy.exe", b"MZ\x90\x00", "not accepted"),
        ("policy.html", b"<script>alert(1)</script>", "not accepted"),
        ("policy.svg", b"<svg/>", "not accepted"),
        ("policy", b"no extension", "needs an extension"),
        ("policy.pdf", b"\x89PNG\r\n\x1a\n not a pdf", "not a genuine .pdf"),
        ("policy.docx", b"%PDF-1.4 pretending", "not a genuine .docx"),
        ("policy.odt", docx_bytes(), "not a genuine .odt"),
        ("policy.txt", b"caf\xe9", "UTF-8"),
        ("policy.md", b"a\x00b", "NUL"),
        ("policy.txt", b"", "empty"),
    ],
)
def test_upload_refuses_wrong_types_and_fakes(acme, olivia, name, content, message):
    policy = PolicyFactory(organization=acme, owner=olivia, ai_policy=True)
    with pytest.raises(ValidationError, match=message) as error:
        services.policy_version_create(policy=policy, acting_user=olivia, upload=SimpleUploadedFile(name, content))
    assert "file" in error.value.message_dict
    assert not policy.versions.exists()


def test_upload_accepts_the_allowed_document_types(acme, olivia):
    for name, content in [("p.docx", docx_bytes()), ("p.odt", odt_bytes()), ("p.txt", "Politique IA é".encode())]:
        assert (
            upload_inspect(SimpleUploadedFile(name, content), services.policy_upload_rules()).extension
            == name.split(".")[1]
        )


def test_upload_size_limit_is_10_mb(acme, olivia):
    policy = PolicyFactory(organization=acme, owner=olivia, ai_policy=True)
    limit = 10 * 1024 * 1024
    too_big = SimpleUploadedFile("big.txt", b"a" * (limit + 1))
    with pytest.raises(ValidationError, match="The file is 10.0 MB; at most 10 MB is accepted"):
        services.policy_version_create(policy=policy, acting_user=olivia, upload=too_big)
    just_right = SimpleUploadedFile("ok.txt", b"a" * limit)
    assert services.policy_version_create(policy=policy, acting_user=olivia, upload=just_right).size == limit


def test_upload_size_is_checked_while_reading_too(settings, acme, olivia):
    settings.POLICY_MAX_UPLOAD_MB = 1

    upload = SimpleUploadedFile("big.txt", b"a" * (1024 * 1024 + 1))
    upload.size = 10  # a client may declare any size: the bytes read are what count
    with pytest.raises(ValidationError, match="larger than 1 MB"):
        upload_inspect(upload, services.policy_upload_rules())


# --- Review reminders -------------------------------------------------------------------------


def test_review_reminders_once_per_policy_and_review_date(acme, alice, olivia):
    policy = PolicyFactory(organization=acme, owner=olivia, ai_policy=True)
    PolicyVersionFactory(policy=policy, author=olivia, approver=alice)
    today = timezone.localdate()
    Policy.objects.filter(pk=policy.pk).update(next_review_date=today + timedelta(days=20))
    assert services.policy_review_reminders_send(today=today) == 1
    assert mail.outbox[-1].to == [olivia.email] and "AI policy" in mail.outbox[-1].subject
    assert "in 20 days" in mail.outbox[-1].subject
    assert services.policy_review_reminders_send(today=today) == 0
    assert services.policy_review_reminders_send(today=today + timedelta(days=25)) == 0  # now overdue, same date
    assert len(mail.outbox) == 1
    # A new review date (e.g. after the next approval) opens a new period.
    Policy.objects.filter(pk=policy.pk).update(next_review_date=today - timedelta(days=3))
    assert services.policy_review_reminders_send(today=today) == 1
    assert "overdue" in mail.outbox[-1].subject
    assert PolicyReviewReminder.objects.filter(policy=policy).count() == 2


def test_review_reminders_skip_far_dates_and_policies_not_in_force(acme, alice, olivia):
    today = timezone.localdate()
    far = PolicyFactory(organization=acme, owner=olivia, ai_policy=True)
    PolicyVersionFactory(policy=far, author=olivia, approver=alice)
    Policy.objects.filter(pk=far.pk).update(next_review_date=today + timedelta(days=31))
    draft_only = PolicyFactory(
        organization=acme, owner=olivia, title="Draft topic", kind=Policy.Kind.DATA, next_review_date=today
    )
    services.policy_version_create(policy=draft_only, acting_user=olivia, body_markdown="x")
    assert services.policy_review_reminders_send(today=today) == 0
    assert mail.outbox == []


def test_review_reminder_goes_to_admins_and_officers_when_owner_left(acme, alice, olivia, victor):
    policy = PolicyFactory(organization=acme, owner=olivia, ai_policy=True)
    PolicyVersionFactory(policy=policy, author=olivia, approver=alice)
    Policy.objects.filter(pk=policy.pk).update(next_review_date=timezone.localdate())
    Membership.objects.filter(user=olivia).delete()
    assert services.policy_review_reminders_send() == 1
    assert mail.outbox[0].to == [alice.email]


def test_review_reminder_task_runs_the_service(acme, alice, olivia):
    from aims.tasks import send_policy_review_reminders

    policy = PolicyFactory(organization=acme, owner=olivia, ai_policy=True)
    PolicyVersionFactory(policy=policy, author=olivia, approver=alice)
    Policy.objects.filter(pk=policy.pk).update(next_review_date=timezone.localdate() + timedelta(days=1))
    assert send_policy_review_reminders.delay().get() == 1
    assert send_policy_review_reminders.delay().get() == 0


# --- Objectives -------------------------------------------------------------------------------


def test_objective_progress_latest_value_and_on_target(acme, olivia):
    higher = ObjectiveFactory(organization=acme, owner=olivia, assessment=True)
    assert higher.latest_value is None and higher.on_target is None
    today = timezone.localdate()
    services.objective_progress_add(objective=higher, value=Decimal("80"), date=today, acting_user=olivia)
    services.objective_progress_add(
        objective=higher, value=Decimal("100"), date=today - timedelta(days=30), acting_user=olivia
    )
    # The latest by date counts, not the latest recorded.
    assert higher.latest_value == Decimal("80") and higher.on_target is False
    services.objective_progress_add(objective=higher, value=Decimal("100"), date=today, acting_user=olivia)
    assert higher.latest_value == Decimal("100") and higher.on_target is True

    lower = ObjectiveFactory(
        organization=acme,
        owner=olivia,
        assessment=True,
        title="Approval gap",
        target=Decimal("5"),
        direction=Objective.Direction.AT_MOST,
    )
    services.objective_progress_add(objective=lower, value=Decimal("8.1"), date=today, acting_user=olivia)
    assert lower.on_target is False
    services.objective_progress_add(objective=lower, value=Decimal("5"), date=today, acting_user=olivia)
    assert lower.on_target is True and lower.latest_value_display == "5"

    rows = {o.pk: o for o in selectors.objective_list(acme)}
    assert rows[higher.pk].latest_value == Decimal("100") and rows[higher.pk].on_target is True
    assert rows[lower.pk].on_target is True and rows[lower.pk].progress_count == 2


def test_progress_cannot_be_in_the_future_and_records_who(acme, olivia):
    objective = ObjectiveFactory(organization=acme, owner=olivia, assessment=True)
    with pytest.raises(ValidationError) as error:
        services.objective_progress_add(
            objective=objective, value=Decimal(1), date=timezone.localdate() + timedelta(days=1), acting_user=olivia
        )
    assert "date" in error.value.message_dict
    record = services.objective_progress_add(objective=objective, value=Decimal(1), acting_user=olivia)
    assert record.recorded_by == olivia and record.date == timezone.localdate()


def test_objective_owner_must_be_a_member(acme, olivia, charlie):
    with pytest.raises(ValidationError) as error:
        ObjectiveFactory(organization=acme, owner=charlie, assessment=True)
    assert "owner" in error.value.message_dict


# --- Other records ----------------------------------------------------------------------------


def test_scope_is_one_per_organisation_and_exclusions_need_reasons(acme, olivia):
    scope = AIMSScope(organization=acme, statement="All AI.", exclusions=[{"item": "Lab", "reason": ""}])
    with pytest.raises(ValidationError, match="give the reason"):
        services.governance_record_save(instance=scope, acting_user=olivia)
    scope.exclusions = [{"item": "Lab", "reason": "Research only"}]
    services.governance_record_save(instance=scope, acting_user=olivia)
    with pytest.raises(ValidationError, match="already has a scope"):
        services.governance_record_save(instance=AIMSScope(organization=acme, statement="Again"), acting_user=olivia)


def test_org_role_rules(acme, olivia, charlie):
    lead = services.governance_record_save(
        instance=OrgRole(organization=acme, name="Lead", responsibilities="Runs it", holder=olivia), acting_user=olivia
    )
    with pytest.raises(ValidationError) as error:
        services.governance_record_save(
            instance=OrgRole(organization=acme, name="X", responsibilities="r", holder=charlie), acting_user=olivia
        )
    assert "holder" in error.value.message_dict
    with pytest.raises(ValidationError, match="not both"):
        services.governance_record_save(
            instance=OrgRole(organization=acme, name="Y", responsibilities="r", holder=olivia, external_holder="Ext"),
            acting_user=olivia,
        )
    deputy = services.governance_record_save(
        instance=OrgRole(organization=acme, name="Deputy", responsibilities="r", reports_to=lead), acting_user=olivia
    )
    lead.reports_to = deputy
    with pytest.raises(ValidationError, match="circle"):
        services.governance_record_save(instance=lead, acting_user=olivia)


def test_competence_validity_and_member_rule(acme, olivia, charlie):
    today = timezone.localdate()
    record = CompetenceRecord(
        organization=acme,
        member=olivia,
        kind=CompetenceRecord.Kind.TRAINING,
        title="T",
        date_completed=today - timedelta(days=10),
        valid_until=today + timedelta(days=10),
    )
    services.governance_record_save(instance=record, acting_user=olivia)
    assert record.validity(today) == "expiring"
    assert record.validity(today + timedelta(days=11)) == "expired"
    assert record.validity(today - timedelta(days=40)) == "valid"
    with pytest.raises(ValidationError) as error:
        services.governance_record_save(
            instance=CompetenceRecord(
                organization=acme, member=charlie, kind="training", title="X", date_completed=today
            ),
            acting_user=olivia,
        )
    assert "member" in error.value.message_dict
    overview = {m.user_id: m for m in selectors.competence_overview(acme)}
    assert overview[olivia.pk].training_count == 1 and overview[olivia.pk].expiring_count == 1


# --- History ----------------------------------------------------------------------------------


def test_history_records_the_acting_user(acme, alice, olivia):
    from aims.history import records_history

    policy = PolicyFactory(organization=acme, owner=olivia, ai_policy=True)
    version = PolicyVersionFactory(policy=policy, author=olivia, approver=alice)
    entries = records_history(PolicyVersion, id=version.pk)
    assert [e.who for e in entries][:1] == [alice]  # the approval, newest first
    assert entries[-1].who == olivia and entries[-1].action == "created"
    approval = entries[0]
    assert any(c.field == "Status" and c.new == "Approved" for c in approval.changes)
    issue = services.governance_record_save(
        instance=ContextIssue(organization=acme, kind="external", category="legal", title="EU AI Act"),
        acting_user=olivia,
    )
    issue.title = "EU AI Act obligations"
    services.governance_record_save(instance=issue, acting_user=alice)
    issue_pk = issue.pk
    services.governance_record_delete(instance=issue, acting_user=alice)
    who = [(e.action, e.who) for e in records_history(ContextIssue, id=issue_pk)]
    assert who == [("deleted", alice), ("changed", alice), ("created", olivia)]


# --- Demo and dashboard -----------------------------------------------------------------------


def test_demo_seed_is_complete_and_idempotent(db):
    from aims.demo import demo_seed
    from aims.governance.demo import governance_demo_seed
    from aims.models import Organization, User

    demo_seed()
    org = Organization.objects.get(slug="acme-health-ai")
    assert AIMSScope.objects.for_org(org).count() == 1
    assert ContextIssue.objects.for_org(org).count() == 4
    assert InterestedParty.objects.for_org(org).count() == 4
    ai_policy = Policy.objects.for_org(org).get(kind=Policy.Kind.AI_POLICY)
    statuses = dict(ai_policy.versions.values_list("number", "status"))
    assert statuses == {1: Status.RETIRED, 2: Status.APPROVED, 3: Status.DRAFT}
    v2 = ai_policy.versions.get(number=2)
    assert v2.author.email == "officer@demo.example" and v2.approved_by.email == "admin@demo.example"
    assert Policy.objects.for_org(org).filter(kind=Policy.Kind.DATA).exists()
    assert OrgRole.objects.for_org(org).count() == 3
    assert ConcernChannel.objects.for_org(org).count() == 1
    assert Objective.objects.for_org(org).count() == 3
    assert ObjectiveProgress.objects.for_org(org).count() >= 3
    members = set(Membership.objects.for_org(org).values_list("user_id", flat=True))
    assert members <= set(CompetenceRecord.objects.for_org(org).values_list("member_id", flat=True))
    before = {m: m.objects.count() for m in (ContextIssue, PolicyVersion, CompetenceRecord, ObjectiveProgress)}
    demo_seed()
    users = {u.email.split("@")[0]: u for u in User.objects.filter(email__endswith="@demo.example")}
    governance_demo_seed(org, users)
    assert {m: m.objects.count() for m in before} == before


def test_dashboard_tiles(acme, alice, olivia):
    def tiles():
        return {t.label: t for t in selectors.governance_tiles(acme)}

    assert tiles()["Approved AI policy"].value == "No"
    policy = PolicyFactory(organization=acme, owner=olivia, ai_policy=True)
    PolicyVersionFactory(policy=policy, author=olivia, approver=alice)
    assert tiles()["Approved AI policy"].value == "Yes"
    assert tiles()["Policies due for review"].value == 0
    Policy.objects.filter(pk=policy.pk).update(next_review_date=timezone.localdate() - timedelta(days=1))
    assert tiles()["Policies due for review"].value == 1 and "1 overdue" in tiles()["Policies due for review"].hint
    ObjectiveFactory(organization=acme, owner=olivia, assessment=True, status=Objective.Status.AT_RISK)
    ObjectiveFactory(
        organization=acme,
        owner=olivia,
        assessment=True,
        title="Late",
        due_date=timezone.localdate() - timedelta(days=1),
    )
    assert tiles()["Objectives at risk"].value == 1 and "1 past" in tiles()["Objectives at risk"].hint


def test_owner_role_owns_only_objectives_and_own_competence(acme, olivia):
    from aims.tenancy import Tenant

    owner = MembershipFactory(organization=acme, role=Role.OWNER).user
    tenant = Tenant(organization=acme, role=Role.OWNER, user=owner)
    mine = ObjectiveFactory(organization=acme, owner=owner, assessment=True)
    theirs = ObjectiveFactory(organization=acme, owner=olivia, assessment=True, title="Theirs")
    assert tenant.can_change(mine) and not tenant.can_change(theirs)
    assert not tenant.can_change(Policy(organization=acme, owner=owner))
    assert not tenant.can_change(ContextIssue(organization=acme))
    assert tenant.can_change(CompetenceRecord(organization=acme, member=owner))
    assert not tenant.can_change(CompetenceRecord(organization=acme, member=olivia))
