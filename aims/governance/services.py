"""Writes of the leadership and planning records: scope, context, policies, roles, concern
channels, objectives and competence (their reads are :mod:`aims.governance.selectors`).

Every write is a service here (``<entity>_<verb>(*, …, acting_user)``): it validates the whole
row and records who acted, through :func:`aims.records.record_save`. Who may act (edit,
approve) is checked where the request is handled, through ``Tenant.can``/``can_change``; the
rules that hold whoever acts (only drafts change, the approver is not the author, one approved
version per policy, one AI policy per organisation) live here.

Uploaded policy documents pass :func:`aims.files.upload_inspect` with :func:`policy_upload_rules`
(size, extension, content, name) and are stored in the private default storage; they are only
served by :func:`policy_version_file_response`, after the caller's permission check.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import markdown
import nh3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, Model, OuterRef
from django.http import FileResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from aims.files import UploadRules, delete_files_on_commit, private_file_response, upload_inspect
from aims.governance.models import REVIEW_NOTICE_DAYS, add_months
from aims.i18n import recipient_language
from aims.links import absolute_url
from aims.models import (
    AIMSScope,
    CompetenceRecord,
    ConcernChannel,
    ContextIssue,
    InterestedParty,
    Objective,
    ObjectiveProgress,
    OrgRole,
    Policy,
    PolicyReviewReminder,
    PolicyVersion,
    User,
)
from aims.records import ensure_member, record_delete, record_save
from aims.selectors import reminder_recipients

logger = logging.getLogger(__name__)

Status = PolicyVersion.Status
OPEN_STATUSES = (Status.DRAFT, Status.IN_REVIEW)
POLICY_EXTENSIONS = ("pdf", "docx", "odt", "md", "txt")


def _ensure_same_organization(instance: Model, field: str) -> None:
    related = getattr(instance, field)
    if related is not None and related.organization_id != instance.organization_id:  # type: ignore[attr-defined]
        # Unreachable through the portal and API, which only offer the organisation's own rows.
        raise ValidationError({field: gettext("Records of different organisations cannot be linked.")})


# --- Markdown -------------------------------------------------------------------------------

# Basic formatting only: no images (they would load from anywhere), no scripts, styles or frames.
MARKDOWN_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "ins", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
MARKDOWN_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
MARKDOWN_URL_SCHEMES = {"http", "https", "mailto"}


def markdown_render(text: str) -> str:
    """Policy Markdown as safe HTML: rendered, then cleaned to basic formatting and safe links.

    Raw HTML in the Markdown is not trusted: anything outside the allowed tags is removed
    (``<script>`` and ``<style>`` with their content), and links keep only http(s) and mailto
    targets, with ``rel="noopener noreferrer"``.
    """
    html = markdown.markdown(text or "", extensions=["extra", "sane_lists"])
    return nh3.clean(
        html,
        tags=MARKDOWN_TAGS,
        attributes=MARKDOWN_ATTRIBUTES,
        url_schemes=MARKDOWN_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


# --- Policy document uploads ----------------------------------------------------------------


def policy_max_upload_mb() -> int:
    # A setting may lower or raise it; policies are documents, not evidence archives.
    return int(getattr(settings, "POLICY_MAX_UPLOAD_MB", 10))


def policy_upload_rules() -> UploadRules:
    """What a policy document may be: pdf, Word, OpenDocument, Markdown or text, within the size limit."""
    return UploadRules.of(POLICY_EXTENSIONS, policy_max_upload_mb(), default_stem="policy")


def _store_upload(version: PolicyVersion, upload: Any) -> str | None:
    """Inspect and attach ``upload`` to the version (saved by the caller); returns the replaced file's name."""
    inspected = upload_inspect(upload, policy_upload_rules())
    old = version.file.name if version.file else None
    upload.name = inspected.name
    version.file = upload
    version.original_name = inspected.name
    version.content_type = inspected.content_type
    version.size = inspected.size
    version.sha256 = inspected.sha256
    return old


def _clear_file(version: PolicyVersion) -> str | None:
    old = version.file.name if version.file else None
    version.file = ""
    version.original_name, version.content_type, version.size, version.sha256 = "", "", None, ""
    return old


def policy_version_file_response(version: PolicyVersion) -> FileResponse:
    """The version's document as a private attachment; the caller has checked the permission."""
    return private_file_response(
        version.file.name if version.file else None,
        filename=version.original_name,
        content_type=version.content_type,
        sha256=version.sha256,
    )


# --- Records: scope, context, parties, roles, channels, objectives, competence ----------------


def _check_record(instance: Model) -> None:
    """The rules of each record that need the database: members, same organisation, one of a kind."""
    org_id: int = instance.organization_id  # type: ignore[attr-defined]  # every record here is a TenantModel
    if isinstance(instance, AIMSScope) and instance._state.adding:
        if AIMSScope.objects.filter(organization_id=org_id).exists():
            raise ValidationError(gettext("The organisation already has a scope statement: change it instead."))
    elif isinstance(instance, Policy):
        ensure_member(org_id, instance.owner, "owner")
        if (
            instance.kind == Policy.Kind.AI_POLICY
            and Policy.objects.for_org(instance.organization)
            .filter(kind=Policy.Kind.AI_POLICY)
            .exclude(pk=instance.pk)
            .exists()
        ):
            raise ValidationError(
                {"kind": gettext("The organisation already has an AI policy (5.2): write a new version of it instead.")}
            )
    elif isinstance(instance, OrgRole):
        ensure_member(org_id, instance.holder, "holder")
        _ensure_same_organization(instance, "reports_to")
        _ensure_no_reporting_cycle(instance)
    elif isinstance(instance, Objective):
        if instance.owner is None:
            raise ValidationError({"owner": gettext("Name the member responsible for the objective.")})
        ensure_member(org_id, instance.owner, "owner")
        _ensure_same_organization(instance, "policy")
    elif isinstance(instance, CompetenceRecord):
        ensure_member(org_id, instance.member, "member")


def _ensure_no_reporting_cycle(role: OrgRole) -> None:
    if role.pk is None or role.reports_to_id is None:
        return
    seen, current = {role.pk}, role.reports_to
    while current is not None:
        if current.pk in seen:
            raise ValidationError({"reports_to": gettext("This would make the reporting line go round in a circle.")})
        seen.add(current.pk)
        current = current.reports_to


RECORD_MODELS = (
    AIMSScope,
    ContextIssue,
    InterestedParty,
    Policy,
    OrgRole,
    ConcernChannel,
    Objective,
    CompetenceRecord,
)


@transaction.atomic
def governance_record_save(*, instance: Model, acting_user: User | None) -> Model:
    """Create or update one record (scope, context issue, interested party, policy, role, channel,
    objective or competence record). The caller has set ``organization`` and the fields."""
    if not isinstance(instance, RECORD_MODELS):
        raise TypeError(f"{type(instance).__name__} is not saved by governance_record_save.")
    _check_record(instance)
    try:
        with transaction.atomic():
            return record_save(instance, acting_user=acting_user)
    except IntegrityError as exc:
        # Another writer took the one scope or the one AI policy between the check and the insert.
        raise ValidationError(gettext("Conflicts with a concurrent change; reload and try again.")) from exc


@transaction.atomic
def governance_record_delete(*, instance: Model, acting_user: User | None) -> None:
    """Delete one record; its history is kept. A policy that was ever in force is retired instead."""
    if isinstance(instance, Policy):
        if instance.versions.filter(status__in=[Status.APPROVED, Status.RETIRED]).exists():
            raise ValidationError(
                gettext("A policy that has been approved is kept as a record: retire its approved version instead.")
            )
        names = list(instance.versions.exclude(file="").values_list("file", flat=True))
        for version in instance.versions.all():
            record_delete(version, acting_user=acting_user)
        delete_files_on_commit(*names)
    record_delete(instance, acting_user=acting_user)


# --- Policy versions and their workflow ------------------------------------------------------


def _ensure_draft(version: PolicyVersion) -> None:
    if version.status != Status.DRAFT:
        raise ValidationError(
            gettext("Version %(number)s is %(status)s: only a draft can change.")
            % {"number": version.number, "status": version.get_status_display().lower()}
        )


def _apply_content(version: PolicyVersion, body_markdown: str, upload: Any) -> list[str | None]:
    """Set the version's text or document; returns stored files no longer used."""
    body = (body_markdown or "").strip()
    if upload is not None and body:
        raise ValidationError({"file": gettext("Write the text or upload a document, not both.")})
    if upload is not None:
        version.body_markdown = ""
        return [_store_upload(version, upload)]
    if body:
        version.body_markdown = body_markdown
        return [_clear_file(version)]
    if not version.file:
        raise ValidationError({"body_markdown": gettext("Write the policy text or upload the document.")})
    return []


@transaction.atomic
def policy_version_create(
    *,
    policy: Policy,
    acting_user: User,
    body_markdown: str = "",
    upload: Any = None,
    change_note: str = "",
    effective_date: date | None = None,
) -> PolicyVersion:
    """Start the next version of a policy as a draft; refused while another is open (draft or in review)."""
    Policy.objects.select_for_update().filter(pk=policy.pk).first()
    open_version = policy.versions.filter(status__in=OPEN_STATUSES).order_by("-number").first()
    if open_version is not None:
        raise ValidationError(
            gettext("Version %(number)s is %(status)s: finish or delete it before starting another.")
            % {"number": open_version.number, "status": open_version.get_status_display().lower()}
        )
    number = (policy.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = PolicyVersion(
        organization_id=policy.organization_id,
        policy=policy,
        number=number,
        author=acting_user,
        change_note=change_note,
        effective_date=effective_date,
    )
    _apply_content(version, body_markdown, upload)
    return _save_version(version, acting_user)


def _save_version(version: PolicyVersion, acting_user: User) -> PolicyVersion:
    """Save the version; a document stored by this save is removed again if the row is not written."""
    storing = bool(version.file) and not getattr(version.file, "_committed", True)
    try:
        return record_save(version, acting_user=acting_user)
    except Exception:
        if storing and getattr(version.file, "_committed", False) and version.file.name:
            default_storage.delete(version.file.name)
        raise


@transaction.atomic
def policy_version_update(
    *,
    version: PolicyVersion,
    acting_user: User,
    body_markdown: str = "",
    upload: Any = None,
    change_note: str | None = None,
    effective_date: Any = ...,
) -> PolicyVersion:
    """Change a draft's text or document (a new upload replaces the old file), note and effective date."""
    _ensure_draft(version)
    replaced = _apply_content(version, body_markdown, upload)
    if change_note is not None:
        version.change_note = change_note
    if effective_date is not ...:
        version.effective_date = effective_date
    _save_version(version, acting_user)
    delete_files_on_commit(*replaced)
    return version


@transaction.atomic
def policy_version_delete(*, version: PolicyVersion, acting_user: User) -> None:
    _ensure_draft(version)
    name = version.file.name if version.file else None
    record_delete(version, acting_user=acting_user)
    delete_files_on_commit(name)


@transaction.atomic
def policy_version_submit(*, version: PolicyVersion, acting_user: User) -> PolicyVersion:
    _ensure_draft(version)
    version.status, version.submitted_at, version.review_comment = Status.IN_REVIEW, timezone.now(), ""
    return record_save(version, acting_user=acting_user)


@transaction.atomic
def policy_version_return(*, version: PolicyVersion, acting_user: User, comment: str) -> PolicyVersion:
    """Send a version in review back to draft with what needs to change."""
    if version.status != Status.IN_REVIEW:
        raise ValidationError(gettext("Only a version in review can be returned."))
    if not (comment or "").strip():
        raise ValidationError({"comment": gettext("Say what needs to change.")})
    version.status, version.review_comment = Status.DRAFT, comment.strip()
    return record_save(version, acting_user=acting_user)


@transaction.atomic
def policy_version_approve(*, version: PolicyVersion, acting_user: User) -> PolicyVersion:
    """Approve a version in review: it comes into force and the previously approved one is retired.

    The policy's next review date restarts from today with its review interval. The caller
    has checked the approve capability; the author can never approve their own version.
    """
    policy = Policy.objects.select_for_update().get(pk=version.policy_id)
    version.refresh_from_db()
    if version.status != Status.IN_REVIEW:
        raise ValidationError(gettext("Only a version in review can be approved."))
    if version.author_id == acting_user.pk:
        raise ValidationError(gettext("The author cannot approve their own version: ask another approver."))
    now = timezone.now()
    for older in policy.versions.filter(status=Status.APPROVED).exclude(pk=version.pk):
        older.status, older.retired_at = Status.RETIRED, now
        record_save(older, acting_user=acting_user)
    version.status, version.approved_by, version.approved_at = Status.APPROVED, acting_user, now
    if version.effective_date is None:
        version.effective_date = timezone.localdate()
    record_save(version, acting_user=acting_user)
    next_review = add_months(timezone.localdate(), policy.review_interval_months)
    if policy.next_review_date != next_review:
        # Saved only when it changes, so the policy's history shows no empty entries.
        policy.next_review_date = next_review
        record_save(policy, acting_user=acting_user)
    return version


@transaction.atomic
def policy_version_retire(*, version: PolicyVersion, acting_user: User) -> PolicyVersion:
    """Withdraw the approved version: the policy is no longer in force and no review is due."""
    if version.status != Status.APPROVED:
        raise ValidationError(gettext("Only the approved version can be retired."))
    version.status, version.retired_at = Status.RETIRED, timezone.now()
    record_save(version, acting_user=acting_user)
    policy = version.policy
    if policy.next_review_date is not None:
        policy.next_review_date = None
        record_save(policy, acting_user=acting_user)
    return version


# --- Objective progress ---------------------------------------------------------------------


@transaction.atomic
def objective_progress_add(
    *, objective: Objective, value: Decimal, acting_user: User, date: date | None = None, note: str = ""
) -> ObjectiveProgress:
    record = ObjectiveProgress(
        organization_id=objective.organization_id,
        objective=objective,
        date=date or timezone.localdate(),
        value=value,
        note=note,
        recorded_by=acting_user,
    )
    return record_save(record, acting_user=acting_user)


@transaction.atomic
def objective_progress_save(*, record: ObjectiveProgress, acting_user: User) -> ObjectiveProgress:
    """Save a changed progress record; it stays with its objective."""
    if record.recorded_by_id is None:
        record.recorded_by = acting_user
    return record_save(record, acting_user=acting_user)


@transaction.atomic
def objective_progress_delete(*, record: ObjectiveProgress, acting_user: User) -> None:
    record_delete(record, acting_user=acting_user)


# --- Review reminders -----------------------------------------------------------------------


def policy_review_reminders_send(today: date | None = None) -> int:
    """E-mail the owners of policies in force whose review is due within 30 days or overdue.

    Each policy is reminded once per review date: approving a new version (or changing the
    date) opens a new period. Without an owner who is still a member, the organisation's
    admins and officers are told. Returns the number of e-mails sent.
    """
    today = today or timezone.localdate()
    in_force = PolicyVersion.objects.filter(policy=OuterRef("pk"), status=Status.APPROVED)
    reminded = PolicyReviewReminder.objects.filter(policy=OuterRef("pk"), review_date=OuterRef("next_review_date"))
    policies = list(
        Policy.objects.filter(next_review_date__lte=today + timedelta(REVIEW_NOTICE_DAYS))
        .filter(Exists(in_force))
        .exclude(Exists(reminded))
        .select_related("organization", "owner")
        .order_by("organization_id", "next_review_date", "id")
    )
    people = reminder_recipients({p.organization_id for p in policies})
    sent = 0
    for policy in policies:
        members, fallback = people[policy.organization_id]
        owner_email = members.get(policy.owner_id)
        recipients = [owner_email] if owner_email else fallback
        if not recipients:
            logger.warning("No one to remind about the review of policy #%s.", policy.pk)
            continue
        with recipient_language(policy.owner if owner_email else None, policy.organization):
            sent += _remind_once(policy, recipients, today, to_owner=bool(owner_email))
    return sent


def _remind_once(policy: Policy, recipients: list[str], today: date, *, to_owner: bool) -> bool:
    """Record the reminder and send it in one transaction: if sending fails, the next run tries again."""
    review_date = policy.next_review_date
    if review_date is None:  # only policies with a review date are selected
        return False
    days = (review_date - today).days
    names = {"organization": policy.organization.name, "policy": policy.title, "days": days}
    if days < 0:
        subject = gettext("[%(organization)s] Policy “%(policy)s” is overdue for review") % names
    elif days == 0:
        subject = gettext("[%(organization)s] Policy “%(policy)s” is due for review today") % names
    else:
        subject = (
            ngettext(
                "[%(organization)s] Policy “%(policy)s” is due for review in %(days)s day",
                "[%(organization)s] Policy “%(policy)s” is due for review in %(days)s days",
                days,
            )
            % names
        )
    context = {
        "policy": policy,
        "today": today,
        "days": days,
        "days_late": -days,
        "to_owner": to_owner,
        "organization": policy.organization,
        "link": absolute_url("governance:policy_detail", args=[policy.pk]),
    }
    try:
        with transaction.atomic():
            PolicyReviewReminder.objects.create(
                organization_id=policy.organization_id,
                policy=policy,
                review_date=review_date,
                sent_to=", ".join(recipients)[:500],
            )
            send_mail(
                subject=subject,
                message=render_to_string("emails/policy_review.txt", context),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=recipients,
            )
    except IntegrityError:
        # Another run reminded about this policy and date at the same moment.
        return False
    return True
