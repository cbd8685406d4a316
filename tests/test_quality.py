"""Code quality gates that run with the suite: lint, formatting, templates, Django idioms and migrations."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

from django.core.management import call_command

REPO = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).with_name("ruff")
DJLINT = Path(sys.executable).with_name("djlint")
DJANGO_UPGRADE = Path(sys.executable).with_name("django-upgrade")
# Folders django-upgrade is not run on: migrations are generated (the pre-commit hook skips them too).
NOT_SOURCE = {"migrations", "__pycache__", "node_modules", "var", "build"}


def python_sources() -> list[Path]:
    """The project's .py files, relative to the repository, hidden folders (.venv, .git) left out."""
    found = []
    for folder, subfolders, files in os.walk(REPO):
        subfolders[:] = [d for d in subfolders if not d.startswith(".") and d not in NOT_SOURCE]
        found += [Path(folder, name).relative_to(REPO) for name in files if name.endswith(".py")]
    return sorted(found)


def test_ruff_lint_is_clean():
    result = subprocess.run([str(RUFF), "check", "."], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = subprocess.run(
        [str(RUFF), "format", "--check", "."], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_djlint_templates_are_clean():
    result = subprocess.run([str(DJLINT), "templates", "--lint"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_django_upgrade_has_nothing_to_rewrite(tmp_path):
    # django-upgrade rewrites in place, so it runs on a copy and the tree is never touched.
    sources = python_sources()
    for source in sources:
        (tmp_path / source).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / source, tmp_path / source)
    result = subprocess.run(
        [str(DJANGO_UPGRADE), "--target-version", "5.2", *map(str, sources)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, "django-upgrade would rewrite:\n" + result.stdout + result.stderr


def test_no_missing_migrations(db):
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:
        raise AssertionError(f"Models changed without a migration:\n{out.getvalue()}") from exc
