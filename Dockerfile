# Production image for Sodium: gunicorn (web), Celery worker and Celery beat all run from it.
# See docker-compose.yml for the topology and the environment it needs.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH=/app/.venv/bin:$PATH

WORKDIR /app

RUN pip install uv \
 && groupadd --system --gid 10001 sodium \
 && useradd --system --uid 10001 --gid sodium --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin sodium

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .

# Static files are collected into the image (var/staticfiles, served by WhiteNoise). The secret
# below exists only for this build step; the containers get theirs from SODIUM_SECRET_KEY.
RUN SODIUM_DEBUG=false \
    SODIUM_SECRET_KEY=build-time-only-collectstatic-key-not-used-at-run-time-0123456789 \
    python manage.py collectstatic --noinput \
 && mkdir -p /app/var /data/media /tmp/prometheus \
 && chown -R sodium:sodium /app/var /data /tmp/prometheus

USER sodium

# Mount a volume at /data: media (SODIUM_MEDIA_ROOT=/data/media) and beat's schedule file.
EXPOSE 8000

CMD ["gunicorn", "sodium.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
