"""The structure rules every module keeps: layers, types, module size, and how apps refer to each other.

Apps depend downward only: audits -> controls -> risk -> registry -> aims. The catalogue
(``controls.catalogue``) is the one declared exception: tenant-free reference data every app
reads. import-linter checks the imports; the tests below also catch the references it cannot
see (``apps.get_model`` and string foreign keys) and migration dependencies.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models
from django.db.migrations.loader import MigrationLoader

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LAYERS = ["aims", "registry", "risk", "controls", "audits"]  # lowest first
RANK = {app: rank for rank, app in enumerate(LAYERS)}
# The catalogue's models and its migration: readable from every layer.
CATALOGUE_MODELS = {"controls.framework", "controls.requirement", "controls.mapping"}
CATALOGUE_MIGRATIONS = {("controls", "0001_initial")}
MAX_MODULE_LINES = 1000


def app_sources() -> list[Path]:
    return sorted(p for app in LAYERS for p in (REPO / app).rglob("*.py") if "migrations" not in p.parts)


def test_import_layers_hold():
    result = subprocess.run([str(BIN / "lint-imports")], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_mypy_is_clean():
    result = subprocess.run([str(BIN / "mypy")], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_no_model_points_upward():
    """A foreign key (string or class) may target its own app, a lower one, or the catalogue."""
    upward = []
    for model in apps.get_models():
        source = model._meta.app_label
        if source not in RANK or model.__name__.startswith("Historical"):
            continue
        for field in model._meta.get_fields():
            if not isinstance(field, models.ForeignKey | models.ManyToManyField) or field.auto_created:
                continue
            target = field.related_model._meta
            label = f"{target.app_label}.{target.model_name}"
            if target.app_label in RANK and RANK[target.app_label] > RANK[source] and label not in CATALOGUE_MODELS:
                upward.append(f"{model._meta.label}.{field.name} -> {label}")
    assert upward == []


GET_MODEL = re.compile(r"""get_model\(\s*["'](\w+)["']""")
STRING_FK = re.compile(r"""(?:ForeignKey|OneToOneField|ManyToManyField)\(\s*["'](\w+)\.(\w+)["']""")


@pytest.mark.parametrize("path", app_sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_upward_reference_by_name(path):
    """``apps.get_model`` and string foreign keys hide an import from import-linter: never upward."""
    app = path.relative_to(REPO).parts[0]
    text = path.read_text()
    found = [m.group(1) for m in GET_MODEL.finditer(text) if RANK.get(m.group(1), -1) > RANK[app]]
    found += [
        f"{m.group(1)}.{m.group(2)}"
        for m in STRING_FK.finditer(text)
        if RANK.get(m.group(1), -1) > RANK[app] and f"{m.group(1)}.{m.group(2)}".lower() not in CATALOGUE_MODELS
    ]
    assert found == [], f"{path.relative_to(REPO)} names a higher app: {found}"


def test_migrations_depend_downward_only():
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    upward = []
    for (app, name), node in graph.node_map.items():
        if app not in RANK:
            continue
        for dep_app, dep_name in (parent.key for parent in node.parents):
            if dep_app in RANK and RANK[dep_app] > RANK[app] and (dep_app, dep_name) not in CATALOGUE_MIGRATIONS:
                upward.append(f"{app}.{name} -> {dep_app}.{dep_name}")
    assert upward == []


@pytest.mark.parametrize("path", app_sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_module_shape(path):
    """Under 1,000 lines, ``from __future__ import annotations`` first, and every import at the top."""
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_MODULE_LINES, "split it into a package that re-exports"
    if not text.strip():
        return
    tree = ast.parse(text)
    body = tree.body[1:] if tree.body and isinstance(tree.body[0], ast.Expr) else tree.body
    if not body:  # a package's docstring alone
        return
    first = body[0]
    assert isinstance(first, ast.ImportFrom) and first.module == "__future__", "start with the __future__ import"
    seen_code = False
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            assert not seen_code, f"import at line {node.lineno} placed after code"
        elif not (isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)):
            seen_code = True
