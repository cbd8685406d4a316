"""Import and export of the AI system inventory as CSV or XLSX.

One django-import-export resource, :class:`AISystemResource`, maps a spreadsheet row to an
:class:`~registry.models.AISystem` and back, so an export can be re-imported unchanged.
Imports run in two steps: :func:`inventory_import_preview` validates every row and writes
nothing; :func:`inventory_import_apply` writes all rows in one transaction or none at all.
Both read the file with :func:`read_table`, which turns unreadable files into
:class:`ImportFileError` (a message for the user, never a 500).
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import openpyxl
import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise as StrPromise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from aims.models import Membership, Organization
from aims.roles import Capability
from aims.spreadsheets import spreadsheet_safe, spreadsheet_unescape
from registry.models import (
    SYSTEM_DESCRIPTION_FIELDS,
    AISystem,
    AnnexIIIArea,
    AnnexIIIPoint,
    AutomationLevel,
    DeploymentContext,
    EUAIActTier,
    LifecycleStage,
    OrganisationRole,
    PeopleDecisions,
    SystemStatus,
)
from registry.services import REF_PATTERN, inventory_record_save

if TYPE_CHECKING:
    from aims.tenancy import Tenant

logger = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 2000
# A sheet wider than this is not an inventory; reading it cell by cell would only cost time.
MAX_IMPORT_COLUMNS = 200
FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
IMPORT_DIR = "imports"
# Uploads waiting for confirmation longer than this are abandoned and removed.
PENDING_IMPORT_LIFETIME = timedelta(days=1)

_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HEADER_ALIASES = {"ref_code": "reference", "ref": "reference", "owner": "owner_email"}


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (type, size, encoding, layout); the message says why."""


# --- Cell conversion ----------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A cell as the trimmed text the user typed; spreadsheet numbers and dates are turned back into text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    # Exports write formula-like text with a leading apostrophe; the round trip is exact.
    return spreadsheet_unescape(str(value).strip())


class TextWidget(widgets.Widget):
    """Free text; an empty cell clears the field (required fields then fail validation)."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        return _text(value)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value)


class ReferenceWidget(TextWidget):
    """An empty reference means "keep it" (existing systems) or "assign the next one" (new systems)."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        return _text(value) or None


class ChoiceWidget(widgets.Widget):
    """Accepts a stored value or its label, in any case; exports the stored value, which never changes."""

    def __init__(self, choices: Iterable[tuple[Any, Any]], noun: str | StrPromise) -> None:
        super().__init__()
        self.noun = noun
        self.values = [str(value) for value, _label in choices]
        self.lookup: dict[str, Any] = {}
        for value, label in choices:
            self.lookup[str(value).lower()] = value
            self.lookup[str(label).lower()] = value

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        text = _text(value)
        if not text:
            return None
        try:
            return self.lookup[text.lower()]
        except KeyError:
            raise ValueError(
                gettext("“%(text)s” is not a %(noun)s; use one of: %(values)s.")
                % {"text": text, "noun": self.noun, "values": ", ".join(self.values)}
            ) from None

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value)


class BlankableChoiceWidget(ChoiceWidget):
    """A choice that may be left empty, kept as "" (a text field that is blank, never null)."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        return super().clean(value, row, **kwargs) or ""


class YesNoWidget(widgets.Widget):
    TRUE = frozenset({"yes", "y", "true", "1", "on"})
    FALSE = frozenset({"no", "n", "false", "0", "off"})

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        text = _text(value).lower()
        if not text:
            return None
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(
            gettext("“%(text)s” is not yes or no; use yes, no, true, false, 1 or 0.") % {"text": _text(value)}
        )

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "yes" if value else "no"


class IsoDateWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = _text(value)
        if not text:
            return None
        try:
            if not _DATE_PATTERN.match(text):
                raise ValueError
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(
                gettext("“%(text)s” is not a date; use YYYY-MM-DD, e.g. 2026-03-31.") % {"text": text}
            ) from None

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return value.isoformat() if value else ""


class MetricsWidget(widgets.Widget):
    """``AUC=0.80; Approval rate gap=<5%`` <-> ``[{"name": "AUC", "target": "0.80"}, ...]``."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        metrics: list[dict[str, str]] = []
        for part in re.split(r"[;\n]", _text(value)):
            part = part.strip()
            if not part:
                continue
            name, sep, target = part.partition("=")
            if not sep or not name.strip() or not target.strip():
                raise ValueError(
                    gettext("“%(text)s” is not a metric; write name=target, separated by semicolons.") % {"text": part}
                )
            metrics.append({"name": name.strip(), "target": target.strip()})
        return metrics

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        if not isinstance(value, list):
            return ""
        return "; ".join(f"{item.get('name', '')}={item.get('target', '')}" for item in value if isinstance(item, dict))


class RolesWidget(widgets.Widget):
    """Comma-separated organisation roles (``provider, customer``); values or labels are accepted."""

    def __init__(self) -> None:
        super().__init__()
        self.lookup: dict[str, str] = {}
        for role in OrganisationRole:
            self.lookup[role.value] = role.value
            self.lookup[role.label.lower()] = role.value

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        wanted: set[str] = set()
        for part in re.split(r"[,;]", _text(value)):
            part = part.strip().lower()
            if not part:
                continue
            if part not in self.lookup:
                allowed = ", ".join(role.value for role in OrganisationRole)
                raise ValueError(
                    gettext("“%(text)s” is not a role; use one or more of: %(allowed)s.")
                    % {"text": part, "allowed": allowed}
                )
            wanted.add(self.lookup[part])
        return [role.value for role in OrganisationRole if role.value in wanted]

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return ", ".join(value or [])


class RolesField(fields.Field):
    """The ``roles`` column stands for the four ``is_<role>`` booleans of the model."""

    def save(self, instance: Any, row: Any, is_m2m: bool = False, **kwargs: Any) -> None:
        roles = self.clean(row, **kwargs)
        for role in OrganisationRole:
            setattr(instance, f"is_{role.value}", role.value in roles)


class OwnerWidget(widgets.Widget):
    """An owner is given by e-mail and must be a member of the importing organisation.

    Unknown addresses and members of other organisations get the same message, so an
    import cannot be used to find out who has an account.
    """

    def __init__(self, members: dict[str, Any]) -> None:
        super().__init__()
        self.members = members

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        email = _text(value)
        if not email:
            return None
        try:
            return self.members[email.lower()]
        except KeyError:
            raise ValueError(gettext("%(email)s is not a member of this organisation.") % {"email": email}) from None

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return value.email if value is not None else ""


# --- The resource -------------------------------------------------------------------------------


def _field(attribute: str, widget: widgets.Widget, column: str | None = None, **kwargs: Any) -> fields.Field:
    return fields.Field(attribute=attribute, column_name=column or attribute, widget=widget, **kwargs)


def _choice(attribute: str, choices: Iterable[tuple[Any, Any]], noun: str | StrPromise) -> fields.Field:
    # An empty cell keeps the current value (a new system gets the default): these fields cannot be blank.
    return _field(attribute, ChoiceWidget(choices, noun), saves_null_values=False)


class AISystemResource(resources.ModelResource):
    """Maps inventory rows to the importing organisation's AI systems.

    Existing systems are found by ``reference`` or, when it is empty, ``external_id``, only
    among the tenant's own systems; ``organization`` always comes from the tenant.
    """

    reference = _field("ref_code", ReferenceWidget(), "reference", saves_null_values=False)
    external_id = _field("external_id", TextWidget())
    name = _field("name", TextWidget())
    description = _field("description", TextWidget())
    purpose = _field("purpose", TextWidget())
    intended_use = _field("intended_use", TextWidget())
    foreseeable_misuse = _field("foreseeable_misuse", TextWidget())
    roles = RolesField(attribute="roles", column_name="roles", widget=RolesWidget())
    lifecycle_stage = _choice("lifecycle_stage", LifecycleStage.choices, _("life-cycle stage"))
    deployment_context = _choice("deployment_context", DeploymentContext.choices, _("deployment context"))
    automation_level = _choice("automation_level", AutomationLevel.choices, _("level of automation"))
    human_oversight = _field("human_oversight", TextWidget())
    continuous_learning = _field("continuous_learning", YesNoWidget(), saves_null_values=False)
    continuous_learning_controls = _field("continuous_learning_controls", TextWidget())
    people_decisions = _choice("people_decisions", PeopleDecisions.choices, _("kind of decision about people"))
    personal_data = _field("personal_data", TextWidget())
    affected_stakeholders = _field("affected_stakeholders", TextWidget())
    eu_ai_act_tier = _choice("eu_ai_act_tier", EUAIActTier.choices, _("EU AI Act tier"))
    annex_iii_area = _field("annex_iii_area", ChoiceWidget(AnnexIIIArea.choices, _("Annex III area")))
    annex_iii_point = _field("annex_iii_point", BlankableChoiceWidget(AnnexIIIPoint.choices, _("Annex III point")))
    tier_rationale = _field("tier_rationale", TextWidget())
    justification = _field("justification", TextWidget())
    performance_metrics = _field("performance_metrics", MetricsWidget())
    design_choices = _field("design_choices", TextWidget())
    owner_email = _field("owner", OwnerWidget({}), "owner_email")
    business_unit = _field("business_unit", TextWidget())
    status = _choice("status", SystemStatus.choices, _("status"))
    next_review_date = _field("next_review_date", IsoDateWidget())

    class Meta:
        model = AISystem
        fields = (
            "reference",
            *SYSTEM_DESCRIPTION_FIELDS,
            "owner_email",
            "business_unit",
            "status",
            "next_review_date",
        )
        # Lookups are done by get_instance() below, scoped to the organisation.
        import_id_fields: list[str] = []
        skip_unchanged = True
        report_skipped = True
        skip_html_diff = True
        store_instance = True
        clean_model_instances = True
        use_transactions = True

    def __init__(
        self, *, tenant: Tenant | None = None, lines: list[int] | None = None, overflow: dict[int, int] | None = None
    ) -> None:
        super().__init__()
        self.tenant = tenant
        self.lines = lines or []
        self.overflow: dict[int, int] = overflow or {}
        self.actions: dict[int, str] = {}
        self._seen: dict[tuple[str, str], int] = {}
        self._changed: dict[int, int] = {}  # system pk -> first row that changes it
        self._by_ref: dict[str, AISystem] = {}
        self._by_external_id: dict[str, AISystem] = {}
        self._next_number = 1
        self._dry_run = True
        if tenant is not None:
            members = Membership.objects.filter(organization=tenant.organization).select_related("user")
            self.fields["owner_email"].widget = OwnerWidget({m.user.email.lower(): m.user for m in members})

    # Row numbers as the user sees them in a spreadsheet (the header is row 1).
    def line(self, row_number: int) -> int:
        return self.lines[row_number - 1] if row_number <= len(self.lines) else row_number + 1

    @property
    def importer(self) -> Tenant:
        """The importing tenant (a resource without one only describes the columns)."""
        if self.tenant is None:
            raise ImproperlyConfigured("An inventory import needs the importing tenant.")
        return self.tenant

    def get_queryset(self) -> QuerySet[AISystem]:
        systems: QuerySet[AISystem] = AISystem.objects.for_org(self.importer.organization)
        return systems.select_related("owner")

    def init_instance(self, row: Any = None) -> AISystem:
        return AISystem(organization=self.importer.organization)

    def get_instance(self, instance_loader: Any, row: Any) -> AISystem | None:
        reference = _text(row.get("reference"))
        if reference:
            return self._by_ref.get(reference)
        external_id = _text(row.get("external_id"))
        if external_id:
            return self._by_external_id.get(external_id)
        return None

    def import_data(self, dataset: Any, dry_run: bool = False, *args: Any, **kwargs: Any) -> Any:
        # The hooks before the first row are not told whether this is a dry run; remember it here.
        self._dry_run = dry_run
        return super().import_data(dataset, dry_run, *args, **kwargs)

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        if not self._dry_run:
            # Same lock as registry.services: nobody else numbers a new system while we import.
            Organization.objects.select_for_update().filter(pk=self.importer.organization.pk).first()
        # The organisation's systems are loaded once and looked up in memory: a query per row
        # would make a 2,000-row import too slow for one request.
        systems = list(self.get_queryset())
        self._by_ref = {system.ref_code: system for system in systems}
        self._by_external_id = {system.external_id: system for system in systems if system.external_id}
        # New systems are numbered after every reference in the inventory and in the file, so a
        # reference given in the file is never handed out again.
        references = list(self._by_ref)
        if "reference" in (dataset.headers or []):
            references += [_text(value) for value in dataset["reference"]]
        numbers = [int(m.group(1)) for ref in references if (m := REF_PATTERN.match(ref))]
        self._next_number = max(numbers, default=0) + 1

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        line = self.line(kwargs["row_number"])
        if line in self.overflow:
            raise ValidationError(
                gettext(
                    "This row has %(count)s values but the first row names fewer columns; "
                    "check for unquoted commas or a missing column name."
                )
                % {"count": self.overflow[line]}
            )
        for column in ("reference", "external_id"):
            value = _text(row.get(column))
            if not value:
                continue
            first = self._seen.setdefault((column, value), line)
            if first != line:
                raise ValidationError(
                    {
                        column: gettext("%(value)s appears more than once in the file (also row %(first)s).")
                        % {"value": value, "first": first}
                    }
                )

    def after_init_instance(self, instance: AISystem, new: bool, row: Any, **kwargs: Any) -> None:
        self.actions[kwargs["row_number"]] = "new" if new else "update"
        if new:
            return
        line = self.line(kwargs["row_number"])
        first = self._changed.setdefault(instance.pk, line)
        if first != line:
            # Found once by reference and once by external id, say: which row should win is anyone's guess.
            raise ValidationError(
                gettext("Row %(first)s already changes %(reference)s; change each system in one row.")
                % {"first": first, "reference": instance.ref_code}
            )
        if not self.importer.can_change(instance):
            raise ValidationError(
                gettext("You can only change AI systems you own; %(reference)s has another owner.")
                % {"reference": instance.ref_code}
            )

    def import_instance(self, instance: AISystem, row: Any, **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if not self.importer.can_change(instance):
            # Only an AI system owner gets here: what they import is theirs, or an error.
            if instance.owner_id is None:
                instance.owner = self.importer.user
            elif "owner" not in errors:
                errors["owner"] = [
                    gettext(
                        "As an AI system owner you can only import systems you own: "
                        "leave owner_email empty or give your own address."
                    )
                ]
        if instance.external_id and "external_id" not in errors:
            other = self._by_external_id.get(instance.external_id)
            if other is not None and other is not instance:
                errors["external_id"] = [
                    gettext("%(external_id)s is already the external id of %(reference)s.")
                    % {"external_id": instance.external_id, "reference": other.ref_code}
                ]
        if errors:
            raise ValidationError(errors)

    def skip_row(self, instance: Any, original: Any, row: Any, import_validation_errors: Any = None) -> bool:
        # A new row is never "unchanged", even if every cell matches the defaults.
        if original is None or original.pk is None:
            return False
        return bool(super().skip_row(instance, original, row, import_validation_errors))

    def validate_instance(
        self, instance: AISystem, import_validation_errors: Any = None, validate_unique: bool = True
    ) -> None:
        errors = dict(import_validation_errors or {})
        if not errors and not self._dry_run:
            return  # inventory_record_save runs the same full_clean before it saves
        exclude = set(errors)
        if not instance.ref_code:
            exclude.add("ref_code")  # assigned when saved
        try:
            instance.full_clean(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance: AISystem, is_create: bool, row: Any, **kwargs: Any) -> None:
        if not instance.ref_code:
            instance.ref_code = f"AIS-{self._next_number:04d}"
            self._next_number += 1
        if not kwargs.get("dry_run"):  # the preview validates only: nothing is written
            inventory_record_save(instance=instance, acting_user=self.importer.user)
        # Later rows must see this row's reference and external id, in the preview as in the import.
        self._by_ref[instance.ref_code] = instance
        for external_id, system in list(self._by_external_id.items()):
            if system is instance and external_id != instance.external_id:
                del self._by_external_id[external_id]
        if instance.external_id:
            self._by_external_id[instance.external_id] = instance


# --- Reading files ------------------------------------------------------------------------------


@dataclass
class Table:
    """A file's rows, blank rows left out, with the spreadsheet row number of each."""

    dataset: tablib.Dataset
    lines: list[int]
    ignored_columns: list[str]
    overflow: dict[int, int] = field(default_factory=dict)


def import_format_for(filename: str) -> str | None:
    """``csv`` or ``xlsx`` from a file name, or None for anything else."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return extension if extension in FORMATS else None


def _csv_rows(content: bytes) -> Iterator[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            gettext(
                "The file is not UTF-8 text. In Excel, save it as “CSV UTF-8 (Comma delimited)”, "
                "or upload an .xlsx file."
            )
        ) from None
    if "\x00" in text:
        # Python's csv module accepts NUL, PostgreSQL text does not: refuse it here, not at save time.
        raise ImportFileError(gettext("The file contains NUL characters, so it is not a CSV text file."))
    first_line = text.split("\n", 1)[0]
    # Spreadsheets set to many European locales separate CSV cells with semicolons.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    # strict: an unclosed quote is an error instead of silently swallowing the rest of the file.
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)


def _xlsx_rows(content: bytes) -> Iterator[tuple[Any, ...]]:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        yield from book.worksheets[0].iter_rows(values_only=True, max_col=MAX_IMPORT_COLUMNS)
    finally:
        book.close()


def _blank(values: Iterable[Any]) -> bool:
    return all(_text(value) == "" for value in values)


def read_table(content: bytes, fmt: str) -> Table:
    """Parse a CSV or XLSX file into a :class:`Table`; raise :class:`ImportFileError` if it cannot be used."""
    if fmt not in FORMATS:
        raise ImportFileError(gettext("Upload a .csv or .xlsx file."))
    if len(content) > MAX_IMPORT_BYTES:
        raise ImportFileError(gettext("The file is larger than 2 MB; split it into smaller files."))
    try:
        rows = _csv_rows(content) if fmt == "csv" else _xlsx_rows(content)
        return _table(rows)
    except ImportFileError:
        raise
    except csv.Error as exc:
        raise ImportFileError(gettext("The CSV file could not be read (%(error)s).") % {"error": exc}) from exc
    except Exception as exc:
        # openpyxl raises many kinds of errors on damaged or disguised files; all mean the same to the user.
        logger.info("Unreadable inventory import (%s): %r", fmt, exc)
        if fmt == "xlsx":
            raise ImportFileError(gettext("The file is not an Excel workbook (.xlsx) that can be read.")) from exc
        raise ImportFileError(gettext("The file is not a CSV file that can be read.")) from exc


def _table(rows: Iterable[Iterable[Any]]) -> Table:
    known = set(AISystemResource.Meta.fields)
    header: list[str] | None = None
    data: list[list[Any]] = []
    lines: list[int] = []
    overflow: dict[int, int] = {}
    for line, values in enumerate(rows, start=1):
        values = list(values)
        if header is None:
            if _blank(values):
                continue  # leading empty rows before the column names
            header = [_header(value) for value in values]
            while header and not header[-1]:
                header.pop()
            _check_header(header, known)
            continue
        if _blank(values):
            continue
        if len(data) >= MAX_IMPORT_ROWS:
            raise ImportFileError(
                gettext("The file has more than %(rows)s rows; split it into smaller files.")
                % {"rows": f"{MAX_IMPORT_ROWS:,}"}
            )
        filled = len(values)
        while filled and _text(values[filled - 1]) == "":
            filled -= 1
        if filled > len(header):
            overflow[line] = filled
        values = (values + [None] * len(header))[: len(header)]
        data.append(values)
        lines.append(line)
    if header is None:
        raise ImportFileError(gettext("The file is empty."))
    if not data:
        raise ImportFileError(gettext("The file has column names but no rows to import."))
    # Unknown columns (someone's notes, say) are carried but ignored; only known ones are imported.
    columns = [name if name in known else f"_ignored_{index}" for index, name in enumerate(header)]
    dataset = tablib.Dataset(*[tuple(row) for row in data], headers=columns)
    ignored = [
        name or gettext("(unnamed column %(number)s)") % {"number": index + 1}
        for index, name in enumerate(header)
        if name not in known
    ]
    return Table(dataset=dataset, lines=lines, ignored_columns=ignored, overflow=overflow)


def _header(value: Any) -> str:
    name = re.sub(r"[\s\-]+", "_", _text(value).lower())
    return _HEADER_ALIASES.get(name, name)


def _check_header(header: list[str], known: set[str]) -> None:
    if not known.intersection(header):
        raise ImportFileError(
            gettext(
                "The first row must name the columns (name, purpose, …); none of them was recognised. "
                "Export the inventory to get a file with the right columns."
            )
        )
    twice = sorted({name for name in header if name in known and header.count(name) > 1})
    if twice:
        raise ImportFileError(
            gettext("These columns appear more than once: %(columns)s.") % {"columns": ", ".join(twice)}
        )


# --- Import services ----------------------------------------------------------------------------

ATTRIBUTE_COLUMNS = {"ref_code": "reference", "owner": "owner_email"}


@dataclass
class RowReport:
    line: int
    action: str  # new, update, unchanged, or "" when the row could not be matched at all
    reference: str
    name: str
    errors: list[str] = field(default_factory=list)

    @property
    def is_new(self) -> bool:
        return self.action == "new"

    @property
    def is_update(self) -> bool:
        return self.action == "update"


@dataclass
class ImportReport:
    rows: list[RowReport]
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # problems not tied to one row
    applied: bool = False

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(row.errors for row in self.rows)

    @property
    def error_rows(self) -> list[RowReport]:
        return [row for row in self.rows if row.errors]

    def _count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action and not row.errors)

    @property
    def new_count(self) -> int:
        return self._count("new")

    @property
    def update_count(self) -> int:
        return self._count("update")

    @property
    def unchanged_count(self) -> int:
        return self._count("unchanged")

    @property
    def change_count(self) -> int:
        return self.new_count + self.update_count


def _friendly(text: str) -> str:
    """Database constraint messages name the constraint; say what it means instead."""
    if "aisystem_unique_external_id_per_org" in text:
        return "external_id: " + gettext("Another AI system of the organisation already has this external id.")
    if text.endswith("Reference already exists."):
        return "reference: " + gettext("Another AI system of the organisation already has this reference.")
    return text


def _messages(error: ValidationError) -> list[str]:
    if not hasattr(error, "error_dict"):
        return [_friendly(text) for text in error.messages]
    messages = []
    for attribute, texts in error.message_dict.items():
        column = ATTRIBUTE_COLUMNS.get(attribute, attribute)
        messages += [_friendly(text) if attribute == NON_FIELD_ERRORS else f"{column}: {text}" for text in texts]
    return messages


def _run(tenant: Tenant, table: Table, *, dry_run: bool) -> ImportReport:
    if not tenant.can(Capability.EDIT):
        raise PermissionDenied(gettext("Your role in this organisation does not allow imports."))
    resource = AISystemResource(tenant=tenant, lines=table.lines, overflow=table.overflow)
    result = resource.import_data(
        table.dataset, dry_run=dry_run, use_transactions=True, rollback_on_validation_errors=True
    )
    report = ImportReport(rows=[], ignored_columns=table.ignored_columns)
    for error in result.base_errors:
        logger.error("Inventory import failed", exc_info=error.error)
        report.errors.append(gettext("The import failed unexpectedly; nothing was imported. Please try again."))
    headers = table.dataset.headers
    for number, (row_result, values) in enumerate(zip(result.rows, table.dataset, strict=False), start=1):
        cells = dict(zip(headers, values, strict=False))
        instance = row_result.instance
        action = {"new": "new", "update": "update", "skip": "unchanged"}.get(row_result.import_type, "")
        row = RowReport(
            line=resource.line(number),
            action=action or resource.actions.get(number, ""),
            reference=instance.ref_code if instance is not None else _text(cells.get("reference")),
            name=instance.name if instance is not None else _text(cells.get("name")),
        )
        if row_result.validation_error is not None:
            row.errors = _messages(row_result.validation_error)
        for error in row_result.errors:
            logger.error("Inventory import row %s failed", row.line, exc_info=error.error)
            row.errors.append(gettext("This row could not be saved because of an unexpected error."))
        report.rows.append(row)
    return report


def inventory_import_preview(*, tenant: Tenant, content: bytes, fmt: str) -> ImportReport:
    """Validate every row of the file for ``tenant`` and report what would happen; write nothing.

    New rows show the reference they would get. Raises :class:`ImportFileError` for an
    unusable file and ``PermissionDenied`` for a role that may not edit.
    """
    return _run(tenant, read_table(content, fmt), dry_run=True)


@transaction.atomic
def inventory_import_apply(*, tenant: Tenant, content: bytes, fmt: str) -> ImportReport:
    """Import every row through ``inventory_record_save`` (history names ``tenant.user``), all or nothing.

    The rows are validated again, since data may have changed since the preview. If any row
    fails, nothing is written and the report (``applied`` False) lists the errors.
    """
    report = _run(tenant, read_table(content, fmt), dry_run=False)
    if report.has_errors:
        transaction.set_rollback(True)
    else:
        report.applied = True
    return report


# --- Files waiting between preview and confirmation ----------------------------------------------


def pending_import_store(content: bytes, fmt: str) -> tuple[str, str]:
    """Keep an uploaded file privately until it is confirmed; return its storage name and SHA-256."""
    _pending_imports_purge()
    name = default_storage.save(f"{IMPORT_DIR}/{uuid.uuid4().hex}.{fmt}", ContentFile(content))
    return name, hashlib.sha256(content).hexdigest()


def pending_import_read(name: str, sha256: str) -> bytes:
    """The stored file's content; :class:`ImportFileError` if it vanished or is not the one previewed."""
    if not name.startswith(f"{IMPORT_DIR}/") or not default_storage.exists(name):
        raise ImportFileError(gettext("The uploaded file is no longer available; upload it again."))
    with default_storage.open(name, "rb") as handle:
        content: bytes = handle.read(MAX_IMPORT_BYTES + 1)
    if hashlib.sha256(content).hexdigest() != sha256:
        raise ImportFileError(gettext("The uploaded file changed after the preview; upload it again."))
    return content


def pending_import_discard(name: str) -> None:
    if name.startswith(f"{IMPORT_DIR}/"):
        default_storage.delete(name)


def _pending_imports_purge() -> None:
    """Remove uploads that were previewed but never confirmed."""
    try:
        _dirs, names = default_storage.listdir(IMPORT_DIR)
    except FileNotFoundError:
        return
    cutoff = timezone.now() - PENDING_IMPORT_LIFETIME
    for name in names:
        path = f"{IMPORT_DIR}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
        except FileNotFoundError:
            continue  # removed meanwhile by a concurrent confirmation


# --- Export -------------------------------------------------------------------------------------


def inventory_export(queryset: QuerySet[AISystem], fmt: str) -> bytes:
    """The systems of ``queryset`` as a CSV (UTF-8 with BOM, for Excel) or XLSX file, in one query.

    The columns are the import columns, so the file can be edited and imported back.
    """
    dataset = AISystemResource().export(queryset)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(dataset.headers)
        for row in dataset:
            writer.writerow([spreadsheet_safe(str(value)) for value in row])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        return _xlsx(dataset)
    raise ValueError(f"Unknown export format {fmt!r}.")


def _xlsx(dataset: tablib.Dataset) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "AI systems"
    sheet.append(dataset.headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row_index, row in enumerate(dataset, start=2):
        for column_index, value in enumerate(row, start=1):
            if value in (None, ""):
                continue
            # Control characters cannot be stored in XLSX; dropping them beats failing the export.
            cell = sheet.cell(row=row_index, column=column_index, value=ILLEGAL_CHARACTERS_RE.sub("", str(value)))
            # Text that looks like a formula stays text.
            cell.data_type = "s"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
