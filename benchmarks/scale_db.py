"""The databases of benchmarks/screens.py: a seeded template kept between runs, and a copy per run.

The template is named after the sizes and a fingerprint of the migrations and of the seeding
code (``aims_scale_<systems>_<risks>_<measurements>_<fingerprint>``), so a re-run with the same
sizes on the same code reuses it, and a change of schema or seeder builds a new one (older
templates of the same sizes are dropped then). A template is complete once its seeding finished:
the seeder's report is then stored as the database's comment, which is what is checked.

Each run measures a copy (``CREATE DATABASE ... TEMPLATE``), so the writes of one run (the risks
saved through the API) never reach the next. Everything here speaks to the PostgreSQL server of
``DATABASE_URL`` with psycopg2 (the driver Django uses here), outside Django.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
PREFIX = "aims_scale_"


def fingerprint() -> str:
    """Eight hex digits that change with any migration file or the seeding code."""
    digest = hashlib.sha256()
    files = sorted(REPO.glob("*/migrations/0*.py")) + sorted(REPO.glob("*/*/migrations/0*.py"))
    files.append(REPO / "benchmarks" / "scale_seed.py")
    for path in files:
        digest.update(str(path.relative_to(REPO)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def template_name(systems: int, risks: int, measurements: int, prefix: str = PREFIX) -> str:
    return f"{prefix}{systems}_{risks}_{measurements}_{fingerprint()}"


def database_url(url: str, name: str) -> str:
    """``url`` with its database name replaced by ``name``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def database_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


class Server:
    """Administrative statements on the server of ``url`` (autocommit, connected to ``postgres``)."""

    def __init__(self, url: str):
        import psycopg2

        if not url.startswith(("postgres://", "postgresql://")):
            raise SystemExit("benchmarks/screens.py needs DATABASE_URL pointing at PostgreSQL.")
        self.url = url
        parts = urlsplit(url)
        self.conn = psycopg2.connect(
            host=parts.hostname or "localhost",
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password,
            dbname="postgres",
        )
        self.conn.autocommit = True

    def close(self) -> None:
        self.conn.close()

    def execute(self, statement, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def _ident(self, name: str):
        from psycopg2 import sql

        return sql.Identifier(name)

    def exists(self, name: str) -> bool:
        return bool(self.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]))

    def report(self, name: str) -> dict[str, Any] | None:
        """The seeding report of a complete template, None if absent or incomplete."""
        rows = self.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name])
        row = rows[0] if rows else None
        if row is None or not row[0]:
            return None
        try:
            return json.loads(row[0])
        except ValueError:
            return None

    def mark_complete(self, name: str, report: dict[str, Any]) -> None:
        from psycopg2 import sql

        self.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(self._ident(name), sql.Literal(json.dumps(report))))

    def create(self, name: str, template: str | None = None) -> None:
        from psycopg2 import sql

        if template is None:
            self.execute(sql.SQL("CREATE DATABASE {}").format(self._ident(name)))
        else:
            # FILE_COPY copies the files at once instead of writing every block to the WAL: seconds, not minutes.
            self.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                    self._ident(name), self._ident(template)
                )
            )

    def drop(self, name: str) -> None:
        from psycopg2 import sql

        self.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(self._ident(name)))

    def drop_older_templates(self, keep: str) -> list[str]:
        """Drop the templates of the same sizes built from other code (another fingerprint)."""
        stem = keep.rsplit("_", 1)[0] + "_"
        rows = self.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s",
            [stem.replace("_", r"\_") + "%", keep],
        )
        for (name,) in rows:
            self.drop(name)
        return [name for (name,) in rows]

    def size_mb(self, name: str) -> float:
        rows = self.execute("SELECT pg_database_size(%s)", [name])
        return round(rows[0][0] / 1e6, 1) if rows else 0.0
