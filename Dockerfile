FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# pg_dump / pg_restore for `manage.py backup` and `restore`.
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml ./
COPY . .
# collectstatic needs no secret: DEBUG only for this build step, never at run time.
RUN pip install --no-cache-dir -e . && DJANGO_DEBUG=1 python manage.py collectstatic --noinput
RUN useradd --create-home --uid 1000 fjzl && mkdir -p /data/media /data/backups /app/var && chown -R fjzl /data /app/var
USER fjzl
EXPOSE 8000
# Migrations and the server only; demo data is never loaded by the image (docker compose --profile demo).
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
