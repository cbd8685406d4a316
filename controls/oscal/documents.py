"""What every OSCAL document of the portal shares: identifiers, UUIDs, metadata, back-matter and validation.

Documents are assembled as plain dictionaries in OSCAL's JSON shape, then parsed by
compliance-trestle's OSCAL models (:func:`oscal_validate`): a document the models refuse is
never served, and what is served is the models' own serialisation.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone
from pydantic import ValidationError as PydanticValidationError
from trestle.common.err import TrestleError
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.catalog import Catalog
from trestle.oscal.common import OscalBaseModel
from trestle.oscal.profile import Profile
from trestle.oscal.ssp import SystemSecurityPlan

#: The OSCAL release the documents are written against (trestle's models read it and later ones).
OSCAL_VERSION = "1.1.2"
#: Namespace of the portal's own properties (a requirement's kind, a finding's kind, ...).
PORTAL_NS = "urn:aims-portal:oscal"
#: How a catalogue refers to an ISO/IEC 42001 clause or control: ``urn:iso:std:iso-iec:42001#A.6.2.6``.
ISO_URN = "urn:iso:std:iso-iec:42001"
#: Name of the property that carries an ISO/IEC 42001 identifier, the other way to state a mapping.
ISO_PROP = "iso42001"
SHA256 = "SHA-256"

MODELS: dict[str, type[OscalBaseModel]] = {
    "catalog": Catalog,
    "profile": Profile,
    "system-security-plan": SystemSecurityPlan,
    "assessment-results": AssessmentResults,
}

_NAMESPACE = uuid.UUID("8d6f3c1e-2b4a-5d7e-9f10-4a2b3c4d5e6f")
_TOKEN = re.compile(r"^[^\W\d][\w.\-]*$")
_NOT_TOKEN = re.compile(r"[^\w.\-]+")


class OscalInvalid(ValueError):
    """A document that the OSCAL models refuse; ``str()`` is trestle's (pydantic's) message."""


def stable_uuid(*parts: object) -> str:
    """The same UUID for the same thing on every export, so documents can be compared and re-imported."""
    return str(uuid.uuid5(_NAMESPACE, ":".join(str(part) for part in parts)))


def oscal_id(ref: str) -> str:
    """An OSCAL token for a requirement identifier: ``A.6.2.6`` stays, ``4.1`` becomes ``req-4.1``.

    Tokens must start with a letter or an underscore; the identifier itself travels in the
    ``label`` property, so an import gets it back unchanged.
    """
    if _TOKEN.match(ref):
        return ref
    return "req-" + _NOT_TOKEN.sub("_", ref).strip("_")


def one_line(text: str) -> str:
    """A markup-line or property value: OSCAL allows no line break and no surrounding space there."""
    return " ".join(text.split())


def prop(name: str, value: object, *, ns: str | None = None, class_: str | None = None) -> dict[str, Any] | None:
    text = one_line(str(value)) if value is not None else ""
    if not text:
        return None
    return {"name": name, "value": text, "ns": ns, "class": class_}


def portal_prop(name: str, value: object) -> dict[str, Any] | None:
    return prop(name, value, ns=PORTAL_NS)


def compact(value: Any) -> Any:
    """Drop ``None``, empty strings and empty lists and objects: OSCAL arrays hold at least one item."""
    if isinstance(value, dict):
        pairs = ((key, compact(item)) for key, item in value.items())
        # ``include-all`` is an empty object by design: its presence is the selection.
        return {key: item for key, item in pairs if not _empty(item) or key == "include-all"}
    if isinstance(value, list):
        return [item for item in (compact(item) for item in value) if not _empty(item)]
    return value


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)


def timestamp(value: datetime | None = None) -> str:
    return (value or timezone.now()).astimezone(timezone.get_current_timezone()).isoformat()


@dataclass
class Parties:
    """The people and organisations a document names, each once, with a stable UUID."""

    scope: str
    parties: dict[str, dict[str, Any]] = field(default_factory=dict)

    def person(self, user: Any) -> str | None:
        if user is None:
            return None
        key = stable_uuid(self.scope, "user", user.pk)
        name = getattr(user, "display_name", "") or user.get_full_name() or user.email
        self.parties.setdefault(
            key, {"uuid": key, "type": "person", "name": one_line(name), "email-addresses": [user.email]}
        )
        return key

    def organization(self, name: str, key_part: object) -> str:
        key = stable_uuid(self.scope, "organization", key_part)
        self.parties.setdefault(key, {"uuid": key, "type": "organization", "name": one_line(name)})
        return key

    def external(self, name: str) -> str:
        key = stable_uuid(self.scope, "external", name)
        self.parties.setdefault(key, {"uuid": key, "type": "person", "name": one_line(name)})
        return key

    def as_list(self) -> list[dict[str, Any]]:
        return list(self.parties.values())


def metadata(
    title: str,
    *,
    version: str = "1",
    published: datetime | None = None,
    remarks: str = "",
    props: list[dict[str, Any] | None] | None = None,
    roles: list[dict[str, Any]] | None = None,
    parties: Parties | None = None,
    responsible_parties: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "title": one_line(title),
        "published": timestamp(published) if published else None,
        "last-modified": timestamp(),
        "version": one_line(version) or "1",
        "oscal-version": OSCAL_VERSION,
        "props": props or [],
        "roles": roles or [],
        "parties": parties.as_list() if parties else [],
        "responsible-parties": responsible_parties or [],
        "remarks": remarks,
    }


def resource(
    key: str,
    title: str,
    *,
    description: str = "",
    href: str = "",
    media_type: str = "",
    sha256: str = "",
    props: list[dict[str, Any] | None] | None = None,
) -> dict[str, Any]:
    """A back-matter resource: a link to the thing, with the SHA-256 of its content when known."""
    rlink = {"href": href, "media-type": media_type, "hashes": [{"algorithm": SHA256, "value": sha256}]}
    if not sha256:
        rlink.pop("hashes")
    return {
        "uuid": key,
        "title": one_line(title),
        "description": description,
        "props": props or [],
        "rlinks": [rlink] if href else [],
    }


def oscal_validate(kind: str, document: dict[str, Any]) -> OscalBaseModel:
    """Parse the document's body with trestle's model for ``kind``; :class:`OscalInvalid` if it fails."""
    model = MODELS[kind]
    try:
        return model.model_validate(document)
    except PydanticValidationError as exc:
        raise OscalInvalid(_validation_message(exc)) from exc
    except TrestleError as exc:  # trestle's answer when metadata/oscal-version is what failed
        raise OscalInvalid(f"metadata/oscal-version: {exc}") from exc


def _validation_message(exc: PydanticValidationError) -> str:
    """The first few of pydantic's errors, each with where it is in the document."""
    errors = exc.errors()
    lines = [f"{'/'.join(str(p) for p in e['loc']) or '(document)'}: {e['msg']}" for e in errors[:5]]
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(lines) + more


@dataclass(frozen=True)
class OscalDocument:
    """A validated document, ready to download: the body under its OSCAL root key."""

    kind: str
    model: OscalBaseModel
    file_stem: str

    def as_json(self) -> str:
        return self.model.oscal_serialize_json(pretty=True, wrapped=True)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.model.oscal_serialize_json(pretty=False, wrapped=True))
        return body

    @property
    def file_name(self) -> str:
        return f"{self.file_stem}-{timezone.localdate():%Y%m%d}.json"


def document_build(kind: str, body: dict[str, Any], file_stem: str) -> OscalDocument:
    return OscalDocument(kind, oscal_validate(kind, compact(body)), file_stem)
