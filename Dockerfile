# AIMS portal: one image for the web server, the Celery worker and beat.
FROM python:3.11-slim-bookworm

# WeasyPrint needs Pango and fonts; libpq is for PostgreSQL. manage.py aims_backup / aims_restore
# need pg_dump and pg_restore of at least the server's major version: PG_MAJOR must match the db
# image in docker-compose.yml (Debian's own client is 15, so it comes from apt.postgresql.org).
ARG PG_MAJOR=16
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-liberation libpq5 \
      ca-certificates postgresql-common \
 && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
 && apt-get install -y --no-install-recommends postgresql-client-${PG_MAJOR} \
 && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=aims.settings.production \
    STATIC_ROOT=/app/var/staticfiles PRIVATE_STORAGE_DIR=/data/private

WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir --upgrade pip && pip install --no-cache-dir .
COPY . .

# collectstatic needs settings but no secrets or services.
RUN SECRET_KEY=build-only-$(python -c 'import secrets;print(secrets.token_urlsafe(64))') \
    ALLOWED_HOSTS=localhost DATABASE_URL=sqlite:////tmp/build.db CELERY_BROKER_URL=memory:// \
    python manage.py collectstatic --noinput

RUN useradd --system --uid 1000 aims && mkdir -p /data/private && chown -R aims /data /app/var
USER aims
EXPOSE 8000
# Liveness only (/healthz touches no database): the slim image has no curl, so the probe uses urllib.
# docker-compose checks readiness (/readyz) for the web service and replaces this for the worker.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "/app/docker/healthcheck.py", "/healthz"]
CMD ["gunicorn", "aims.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
